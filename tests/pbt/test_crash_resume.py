"""A crash restores PBT exactly as it was: right after a trial's end (whose snapshot is taken at once: it
once was deferred, to save ~13 us per trial) and in the middle of trials (the results since the last
snapshot are replayed, each with a view of the trial as it was then: its checkpoint, its config)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.core.crash_harness import CRASH_AT_CALL, live_and_restored

SCRIPT = CRASH_AT_CALL + textwrap.dedent(
    """

    def train(config):
        checkpoint = tunecore.get_checkpoint()
        score = checkpoint.to_dict()["score"] if checkpoint else 0.0
        for _ in range(tunecore.get_context().start_iteration, 12):
            score += config["lr"] * 1000 % 7
            tunecore.report({"score": score}, checkpoint=tunecore.Checkpoint.from_dict({"score": score}))

    tunecore.Tuner(
        train,
        param_space={"lr": tunecore.loguniform(3e-4, 3e-3)},
        tune_config=tunecore.TuneConfig(
            metric="score", mode="max", num_samples=5, seed=3, executor="inline", scheduler="pbt",
            scheduler_options={
                "time_attr": "training_iteration", "perturbation_interval": 3, "seed": 1,
                "hyperparam_mutations": {"lr": tunecore.loguniform(1e-4, 1e-1)},
            },
        ),
        run_config=tunecore.RunConfig(
            storage_path=os.path.dirname(path), name=os.path.basename(path), verbose=0, loggers=[]
        ),
    ).fit()
    """
)


@pytest.mark.parametrize(
    ("method", "calls"),
    [
        ("on_trial_end", 8),  # the end's snapshot is taken: nothing to replay
        ("on_result", 40),  # results since the last snapshot are replayed, with the trial as it was at each
    ],
)
def test_a_crash_restores_pbt_exactly(tmp_path, monkeypatch, method, calls):
    path = str(tmp_path / "exp")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    command = [sys.executable, str(script), path, method, str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    live, restored = live_and_restored(path, monkeypatch)
    assert restored == live
