"""examples/pbt_toy.py and its TOML twin agree, and the TOML runs (shortened)."""

from __future__ import annotations

import importlib
from pathlib import Path

import tunecore
from tests.pbt.support import policy

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_python_example_and_its_toml_twin_agree(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    example = importlib.import_module("pbt_toy")
    spec = tunecore.load_experiment(EXAMPLES / "pbt_toy.toml")
    assert spec.tune_config.component("scheduler").to_data() == example.SCHEDULER
    assert spec.param_space == example.SPACE
    tune = spec.tune_config
    assert (tune.metric, tune.mode, tune.num_samples, tune.seed) == ("score", "max", 4, 0)
    assert tune.component("executor").to_data() == {"name": "inline"}


def test_the_toml_example_runs(tmp_path):
    overrides = ["stop.training_iteration=12", f"storage_path='{tmp_path}'", "verbose=0", "loggers=[]"]
    spec = tunecore.load_experiment(EXAMPLES / "pbt_toy.toml", overrides)
    grid = tunecore.Tuner.from_spec(spec).fit()
    assert len(grid) == 4 and grid.num_errors == 0
    assert [result.metrics["training_iteration"] for result in grid] == [12] * 4
    assert len(policy(grid.experiment_path)) == 2  # one member exploited at iterations 4 and 8
