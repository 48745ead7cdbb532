"""``sample_from`` in hyperparam_mutations: computed from the explored config, and checked before anything runs."""

from __future__ import annotations

import numpy as np
import pytest

import tunecore
from tests.pbt.support import run_toy
from tune_pbt import PopulationBasedTraining
from tune_pbt.mutations import explore, parse_mutations


def batch_of(spec):
    return round(spec.config["lr"] * 1e5)


def test_a_sample_from_mutation_is_computed_from_the_explored_config():
    mutations = parse_mutations({"lr": [1e-3, 2e-3, 3e-3], "batch": tunecore.sample_from(batch_of)})
    config = {"lr": 2e-3, "batch": 200}
    rng = np.random.default_rng(0)
    for _ in range(20):  # resampled every time: batch follows the new lr
        new, operations = explore(config, mutations, rng, resample_probability=1.0, factors=(1.2, 0.8))
        assert operations["batch"] == "resample"
        assert new["batch"] == round(new["lr"] * 1e5)


def test_a_sample_from_mutation_that_fails_is_an_error_when_the_first_trial_is_added():
    scheduler = PopulationBasedTraining(hyperparam_mutations={"batch": tunecore.sample_from(lambda s: s.config["bs"])})
    scheduler.setup("score", "max")
    trial = tunecore.Trial(trial_id="t00001", config={"batch": 1})
    with pytest.raises(ValueError, match=r"hyperparam_mutations\['batch'\].*sample_from function raised KeyError"):
        scheduler.on_trial_add(trial)


def test_pbt_with_a_sample_from_mutation_runs_through_its_exploits(tmp_path):
    tag = tunecore.sample_from(lambda spec: round(spec.config["lr"], 6))
    options = {
        "time_attr": "training_iteration",
        "perturbation_interval": 4,
        "synch": True,
        "seed": 0,
        "resample_probability": 1.0,
        "hyperparam_mutations": {"lr": tunecore.loguniform(1e-4, 1e-1), "tag": tag},
    }
    space = {"lr": tunecore.loguniform(3e-4, 3e-3), "tag": tag}
    grid = run_toy(tmp_path, "pbt", options, steps=12, space=space)
    assert grid.num_errors == 0
    restarted = [r for r in grid if r.config["lr"] != r.metrics_history[0]["lr"]]
    assert restarted, "no exploit happened: the test shows nothing"
    assert all(r.config["tag"] == round(r.config["lr"], 6) for r in grid)
