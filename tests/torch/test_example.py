"""examples/torch_digits.py and its TOML twin agree; the TOML (ASHA) and the PBT experiment run, shortened."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import tunecore

EXAMPLES = Path(__file__).parents[2] / "examples"
pytest.importorskip("sklearn")


@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield importlib.import_module("torch_digits")
    sys.modules.pop("torch_digits", None)


def test_the_python_example_and_its_toml_twin_agree(example):
    spec = tunecore.load_experiment(EXAMPLES / "torch_digits.toml")
    assert spec.tune_config.component("scheduler").to_data() == example.ASHA
    assert spec.param_space == example.SPACE
    tune = spec.tune_config
    assert (tune.metric, tune.mode, tune.num_samples, tune.seed) == ("accuracy", "max", 12, 0)
    assert tune.component("executor").to_data() == {"name": "local"}


def test_the_toml_example_runs(tmp_path):
    overrides = ["num_samples=3", "param_space.epochs=3", "scheduler.max_t=3", "executor.name='inline'"]
    overrides += [f"storage_path='{tmp_path}'", "verbose=0", "loggers=[]"]
    spec = tunecore.load_experiment(EXAMPLES / "torch_digits.toml", overrides)
    grid = tunecore.Tuner.from_spec(spec).fit()
    assert len(grid) == 3 and grid.num_errors == 0, [r.error for r in grid]
    assert grid[0].metrics["training_iteration"] == 3  # the first trial always reaches max_t
    assert all(0.05 < result.metrics["accuracy"] <= 1 for result in grid)


def test_the_pbt_experiment_runs_and_exploits(example, tmp_path):
    grid = tunecore.Tuner(
        example.train,
        param_space={**example.SPACE, "epochs": 4},
        tune_config=tunecore.TuneConfig(
            metric="accuracy",
            mode="max",
            num_samples=4,
            seed=0,
            scheduler={**example.PBT, "perturbation_interval": 2},
            executor="inline",
        ),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[]),
    ).fit()
    assert grid.num_errors == 0, [r.error for r in grid]
    restarts = [
        line
        for line in (Path(grid.experiment_path) / "journal.jsonl").read_text().splitlines()
        if "restart_from" in line
    ]
    assert restarts, "no member was exploited"
    assert grid.get_best_result().metrics["accuracy"] > 0.5
