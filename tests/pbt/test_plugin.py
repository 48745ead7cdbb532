"""tune-pbt is installed: its schedulers are found by name, with Ray Tune's defaults and clear errors."""

from __future__ import annotations

import pickle
import textwrap

import pytest

import tune_pbt
import tunecore
from tests.pbt.support import MUTATIONS, best_score, run_toy
from tunecore.cli import main


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("pbt", tune_pbt.PopulationBasedTraining),
        ("pbt_replay", tune_pbt.PopulationBasedTrainingReplay),
        ("pb2", tune_pbt.PB2),
    ],
)
def test_registered_by_the_installed_distribution(name, cls):
    registry = tunecore.load_plugins({}).registry
    info = registry.get("scheduler", name)
    assert info.dist == "tune-pbt" and info.factory is cls and info.summary
    assert registry.get("scheduler", f"tune-pbt:{name}") is info


def test_listed_by_tunecore_plugins(capsys):
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in ("pbt", "pbt_replay", "pb2"):
        assert any(line.split()[:2] == [name, "tune-pbt"] for line in lines), name


def test_disabling_the_plugin_removes_its_schedulers():
    plugins = tunecore.load_plugins({"TUNECORE_DISABLE_PLUGINS": "tune-pbt"})
    with pytest.raises(tunecore.ComponentError, match="provided by tune-pbt: pip install tune-pbt"):
        plugins.registry.get("scheduler", "pbt")


def test_registered_defaults_are_rays():
    pbt = tunecore.load_plugins({}).create("scheduler", "pbt", {"hyperparam_mutations": {"lr": [0.1, 0.01]}})
    assert (pbt.time_attr, pbt.perturbation_interval, pbt.burn_in_period, pbt.quantile_fraction) == (
        "time_total_s",
        60.0,
        0.0,
        0.25,
    )
    assert (pbt.resample_probability, pbt.perturbation_factors, pbt.custom_explore_fn) == (0.25, (1.2, 0.8), None)
    assert (pbt.log_config, pbt.require_attrs, pbt.synch, pbt.seed) == (True, True, False, None)
    pb2 = tunecore.load_plugins({}).create("scheduler", "pb2", {"hyperparam_bounds": {"lr": [1e-4, 1e-1]}})
    assert (pb2.time_attr, pb2.perturbation_interval, pb2.quantile_fraction, pb2.synch) == (
        "time_total_s",
        60.0,
        0.25,
        False,
    )
    assert pb2.hyperparam_bounds == {("lr",): (1e-4, 1e-1)}


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("pbt", {}, "needs hyperparam_mutations .* or a custom_explore_fn"),
        ("pbt", {"hyperparam_mutations": {"lr": 3}}, r"hyperparam_mutations\['lr'\] must be a search-space domain"),
        ("pbt", {"hyperparam_mutations": {"lr": []}}, "is an empty list"),
        ("pbt", {"hyperparam_mutations": {"lr": {"uniform": [1, 0]}}}, "uniform needs low < high"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "perturbation_interval": 0}, "perturbation_interval must be > 0"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "burn_in_period": -1}, "burn_in_period must be >= 0"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "quantile_fraction": 0.6}, "quantile_fraction must be a number"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "resample_probability": 2}, "resample_probability must be"),
        (
            "pbt",
            {"hyperparam_mutations": MUTATIONS, "perturbation_factors": 1.2},
            "perturbation_factors must be a list",
        ),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "perturbation_factors": [1.2, -1]}, r"perturbation_factors\[1\]"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "custom_explore_fn": "f"}, "custom_explore_fn must be a function"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "synch": "yes"}, "synch must be true or false"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "seed": -1}, r"seed must be an integer between 0 and 2\*\*32 - 1"),
        ("pb2", {"hyperparam_bounds": {"lr": [0, 1]}, "seed": 2**32}, r"seed must be an integer between 0 and 2\*\*32"),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "mode": "up"}, 'mode must be "min" or "max"'),
        ("pbt", {"hyperparam_mutations": MUTATIONS, "metric": 3}, "metric must be a result field name"),
        ("pb2", {}, "needs hyperparam_bounds"),
        ("pb2", {"hyperparam_bounds": {"lr": [1]}}, r"hyperparam_bounds\['lr'\] must be \[low, high\]"),
        ("pb2", {"hyperparam_bounds": {"lr": [1, 1]}}, "needs low < high"),
        ("pbt_replay", {"policy_file": "/nonexistent.jsonl"}, "does not exist"),
    ],
)
def test_bad_options_are_clear_errors(name, options, message):
    with pytest.raises(tunecore.ComponentError, match=f"scheduler '{name}' \\(from tune-pbt .*{message}"):
        tunecore.load_plugins({}).create("scheduler", name, options)


def test_a_missing_metric_or_key_is_a_clear_error(tmp_path):
    options = {"hyperparam_mutations": {"momentum": [0.9, 0.99]}, "time_attr": "training_iteration"}
    with pytest.raises(ValueError, match="hyperparam_mutations names 'momentum', which is not in the config"):
        run_toy(tmp_path / "a", options=options, steps=2)
    options = {"hyperparam_mutations": MUTATIONS, "time_attr": "samples"}
    with pytest.raises(ValueError, match="time_attr 'samples' is not a number in the result of trial t00001"):
        run_toy(tmp_path / "b", options=options, steps=2)
    grid = run_toy(tmp_path / "c", options={**options, "require_attrs": False}, steps=2)  # such results pass
    assert [r.metrics["training_iteration"] for r in grid] == [2] * 4


def test_selected_by_name_in_python_and_toml(tmp_path):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        textwrap.dedent(
            f"""
            trainable = "tests.pbt.support:toy"
            metric = "score"
            mode = "max"
            num_samples = 4
            seed = 3
            name = "toml"
            storage_path = "{tmp_path}"
            verbose = 0
            loggers = []

            [param_space]
            lr = {{ loguniform = [3e-4, 3e-3] }}

            [scheduler]
            name = "pbt"
            time_attr = "training_iteration"
            perturbation_interval = 4
            synch = true
            seed = 3
            hyperparam_mutations = {{ lr = {{ loguniform = [1e-4, 1e-1] }} }}

            [executor]
            name = "inline"

            [stop]
            training_iteration = 20
            """
        )
    )
    from_toml = tunecore.Tuner.from_spec(tunecore.load_experiment(experiment)).fit()
    from_python = run_toy(tmp_path / "py", steps=20, seed=3)
    assert best_score(from_toml) == best_score(from_python)  # the same schedule from the same options
    assert (tmp_path / "toml" / "pbt_global.jsonl").exists()


def test_state_pickles_and_restores():
    scheduler = tune_pbt.PopulationBasedTraining(hyperparam_mutations=MUTATIONS, seed=1)
    scheduler.on_trial_add(tunecore.Trial(trial_id="t1", config={"lr": 0.01}))
    copy = tune_pbt.PopulationBasedTraining(hyperparam_mutations=MUTATIONS, seed=2)
    copy.restore(pickle.loads(pickle.dumps(scheduler.save())))
    assert copy.members == scheduler.members
    assert copy.rng.random() == scheduler.rng.random()  # the generator continues where it was
