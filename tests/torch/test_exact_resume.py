"""Exact resume: a PyTorch experiment whose driver is SIGKILLed mid-training and resumed ends bit-identical
(weights and every reported metric) to an uninterrupted run of the same experiment.

The killed run and its resume are real subprocesses on the local executor (tests/torch/resume_experiment.py);
the uninterrupted reference runs the same trainable, same seed, on the inline executor in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import tune_torch
import tunecore
from tests.torch import resume_experiment as experiment

ROOT = Path(__file__).parents[2]
METRICS = ("loss", "last_loss", "checksum")
TIMEOUT_S = 90


def journal_results(path: Path) -> int:
    file = path / "journal.jsonl"
    if not file.exists():
        return 0
    count = 0
    for line in file.read_text().splitlines():
        try:
            count += json.loads(line).get("event") == "result"
        except json.JSONDecodeError:
            pass  # a torn last line
    return count


def run_script(*args: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TUNECORE_")}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.torch.resume_experiment", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tunecore.ResultGrid:
    """The uninterrupted run: the same experiment on the inline executor, in this process."""
    threads = torch.get_num_threads()
    try:
        tuner = tunecore.Tuner(
            experiment.train,
            param_space={"lr": tunecore.uniform(0.01, 0.1), "sleep": 0.0, "side": None},
            tune_config=tunecore.TuneConfig(
                metric="loss", mode="min", num_samples=2, seed=experiment.SEED, executor="inline"
            ),
            run_config=tunecore.RunConfig(name="reference", storage_path=str(tmp_path), verbose=0),
        )
        return tuner.fit()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def final_weights(result: tunecore.Result) -> dict[str, torch.Tensor]:
    assert result.checkpoint is not None
    return tune_torch.load(result.checkpoint)["model"]


def test_a_killed_and_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, reference):
    storage = tmp_path / "killed"
    path = storage / "exact"
    side = tmp_path / "starts.txt"
    driver = run_script("run", str(storage), "exact", "--sleep", "0.2", "--side", str(side))
    deadline = time.monotonic() + TIMEOUT_S
    while journal_results(path) < 3:
        assert driver.poll() is None, f"the driver ended before it was killed: {driver.communicate()}"
        assert time.monotonic() < deadline, "no results were journaled in time"
        time.sleep(0.05)
    os.kill(driver.pid, signal.SIGKILL)
    driver.communicate()
    killed_at = journal_results(path)
    assert killed_at < 2 * experiment.EPOCHS, "the run ended before the kill: nothing was resumed"

    resumed = run_script("resume", str(path))
    out, err = resumed.communicate(timeout=TIMEOUT_S)
    assert resumed.returncode == 0 and "DONE" in out, err

    grid = tunecore.ResultGrid.from_path(path)
    assert [r.trial_id for r in grid] == [r.trial_id for r in reference]
    assert [r.config for r in grid] == [r.config | {"sleep": 0.2, "side": str(side)} for r in reference]
    for result, expected in zip(grid, reference, strict=True):
        assert result.status == "TERMINATED", result.error
        history = [{name: r[name] for name in METRICS} for r in result.metrics_history]
        wanted = [{name: r[name] for name in METRICS} for r in expected.metrics_history]
        assert len(history) == experiment.EPOCHS
        assert history == wanted, result.trial_id  # exact float equality, every epoch
        weights, expected_weights = final_weights(result), final_weights(expected)
        assert weights.keys() == expected_weights.keys()
        for name, tensor in weights.items():
            assert torch.equal(tensor, expected_weights[name]), (result.trial_id, name)
    starts = [line.split() for line in side.read_text().splitlines()]
    assert any(0 < int(epoch) < experiment.EPOCHS for _, epoch in starts), f"no trial resumed mid-way: {starts}"
