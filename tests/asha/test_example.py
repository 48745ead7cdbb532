"""examples/asha_digits.py and its TOML twin agree, and the TOML runs (shortened)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import tunecore

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_python_example_and_its_toml_twin_agree(monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    example = importlib.import_module("asha_digits")
    spec = tunecore.load_experiment(EXAMPLES / "asha_digits.toml")
    assert spec.tune_config.component("scheduler").to_data() == example.SCHEDULER
    assert spec.param_space == {**importlib.import_module("digits_mlp").SPACE, "epochs": example.EPOCHS}
    assert (spec.tune_config.metric, spec.tune_config.mode, spec.tune_config.num_samples) == ("accuracy", "max", 32)


def test_the_toml_example_runs(tmp_path):
    pytest.importorskip("sklearn")
    overrides = ["num_samples=3", "param_space.epochs=3", "scheduler.max_t=3", "executor.name='inline'"]
    overrides += [f"storage_path='{tmp_path}'", "verbose=0", "loggers=[]"]
    spec = tunecore.load_experiment(EXAMPLES / "asha_digits.toml", overrides)
    grid = tunecore.Tuner.from_spec(spec).fit()
    assert len(grid) == 3 and grid.num_errors == 0
    # rungs at 1 and 3 (= max_t): the first trial always goes on to 3 epochs
    assert grid[0].metrics["training_iteration"] == 3
    assert all(1 <= result.metrics["training_iteration"] <= 3 for result in grid)
