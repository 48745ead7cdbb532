"""End to end through Tuner: each searcher by name (Python and TOML), parallel trials, ASHA, resume, Pareto."""

from __future__ import annotations

import time

import pytest

import tunecore
from tests.bayesopt.helpers import FAST, NAMES, check_config, key
from tune_bayesopt import OptunaSearcher, pareto_front

SPACE = {
    "model": {"lr": tunecore.loguniform(1e-3, 1.0), "depth": tunecore.qrandint(2, 12, 2), "kind": "mlp"},
    "x": tunecore.uniform(0, 1),
    "act": tunecore.choice(["relu", {"name": "leaky", "slope": 0.1}]),
}


def train(config):
    for step in range(1, 4):
        loss = (config["x"] - 0.3) ** 2 + config["model"]["depth"] / 100 + 1 / step
        tunecore.report({"loss": loss, "cost": config["model"]["depth"] * config["model"]["lr"]})


def slow_train(config):
    time.sleep(0.05)
    tunecore.report({"loss": (config["x"] - 0.3) ** 2, "start": time.time()})


def fit(tmp_path, name="exp", trainable=train, **tune):
    tune = {"metric": "loss", "mode": "min", "executor": "inline", "seed": 0, **tune}
    return tunecore.Tuner(
        trainable,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(**tune),
        run_config=tunecore.RunConfig(name=name, storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()


def test_registered_by_this_distribution():
    registry = tunecore.load_plugins({}).registry
    for name in NAMES:
        info = registry.get("searcher", name)
        assert (info.dist, info.name) == ("tune-bayesopt", name) and info.summary
    assert registry.get("searcher", "optuna").dist == "tune-bayesopt"


@pytest.mark.parametrize("name", NAMES)
def test_each_searcher_by_name_in_python(tmp_path, name):
    grid = fit(tmp_path, num_samples=6, searcher=name, searcher_options=FAST[name])
    assert len(grid) == 6 and grid.num_terminated == 6
    for result in grid:
        check_config(result.config, SPACE)
    again = fit(tmp_path, "again", num_samples=6, searcher={"name": name, **FAST[name]})
    assert [r.config for r in again] == [r.config for r in grid]  # same seed, same results, same configs


TOML = """
trainable = "train.py:train"
metric = "loss"
mode = "min"
num_samples = 5
seed = 1
executor = "inline"
name = "from-toml"
storage_path = "{storage}"
verbose = 0
loggers = []

[param_space]
x = {{ uniform = [0.0, 1.0] }}
act = {{ choice = ["relu", "tanh"] }}

[param_space.model]
lr = {{ loguniform = [0.001, 1.0] }}
depth = {{ qrandint = [2, 12, 2] }}

[searcher]
name = "{name}"
{options}
"""
TOML_OPTIONS = {
    "optuna": 'sampler = "tpe"\nsampler_options = { n_startup_trials = 2 }',
    "hyperopt": 'algo = "tpe"\nn_initial_points = 2\ngamma = 0.3',
    "skopt": 'base_estimator = "ET"\nacq_func = "EI"\nn_initial_points = 2',
}


@pytest.mark.parametrize("name", NAMES)
def test_each_searcher_by_name_in_toml(tmp_path, name):
    (tmp_path / "train.py").write_text(
        "import tunecore\n\ndef train(config):\n"
        "    tunecore.report({'loss': (config['x'] - 0.3) ** 2 + config['model']['depth'] / 100})\n"
    )
    path = tmp_path / "experiment.toml"
    path.write_text(TOML.format(storage=tmp_path / "results", name=name, options=TOML_OPTIONS[name]))
    spec = tunecore.load_experiment(path)
    assert spec.tune_config.searcher.name == name
    grid = tunecore.Tuner.from_spec(spec).fit()
    assert len(grid) == 5 and grid.num_terminated == 5
    assert all(r.config["model"]["depth"] in (2, 4, 6, 8, 10, 12) for r in grid)


@pytest.mark.parametrize("name", NAMES)
def test_two_workers_never_get_the_same_config(tmp_path, name):
    grid = fit(
        tmp_path,
        trainable=slow_train,
        num_samples=8,
        searcher=name,
        searcher_options=FAST[name],
        executor="local",
        executor_options={"num_workers": 2},
    )
    assert len(grid) == 8 and grid.num_terminated == 8
    assert len({key(r.config) for r in grid}) == 8
    for result in grid:
        check_config(result.config, SPACE)


@pytest.mark.parametrize("name", NAMES)
def test_resumed_experiment_continues_like_an_uninterrupted_one(tmp_path, name):
    whole = fit(tmp_path, "whole", num_samples=7, searcher=name, searcher_options=FAST[name])
    fit(tmp_path, "part", num_samples=4, searcher=name, searcher_options=FAST[name])
    resumed = tunecore.Tuner.restore(tmp_path / "part", num_samples=7).fit()
    assert [r.config for r in resumed] == [r.config for r in whole]


@pytest.mark.parametrize("name", NAMES)
def test_with_the_asha_scheduler(tmp_path, name):
    pytest.importorskip("tune_asha")
    asha = {"name": "asha", "max_t": 3, "grace_period": 1, "reduction_factor": 2}
    grid = fit(tmp_path, num_samples=8, searcher=name, searcher_options=FAST[name], scheduler=asha)
    assert len(grid) == 8 and grid.num_terminated == 8
    assert any(r.metrics["training_iteration"] < 3 for r in grid)  # ASHA stopped some early


def test_optuna_is_told_stopped_trials_as_pruned_with_asha(tmp_path):
    pytest.importorskip("tune_asha")
    searcher = OptunaSearcher(prune_stopped=True, sampler_options={"n_startup_trials": 2})
    asha = {"name": "asha", "max_t": 3, "grace_period": 1, "reduction_factor": 2}
    grid = fit(tmp_path, num_samples=8, searcher=searcher, scheduler=asha)
    states = {t.number: t.state.name for t in searcher.study.trials}
    for number, result in enumerate(grid):
        stopped = result.metrics["training_iteration"] < 3
        assert states[number] == ("PRUNED" if stopped else "COMPLETE")


def test_failed_trials_are_told_as_failed(tmp_path):
    def sometimes_fails(config):
        if config["x"] > 0.5:
            raise RuntimeError("diverged")
        tunecore.report({"loss": config["x"]})

    searcher = OptunaSearcher(sampler="random")
    grid = fit(tmp_path, trainable=sometimes_fails, num_samples=6, searcher=searcher)
    failed = [r.trial_id for r in grid if r.status == "ERROR"]
    assert failed and len(grid) == 6
    states = [t.state.name for t in searcher.study.trials]
    assert [s == "FAIL" for s in states] == [r.status == "ERROR" for r in grid]


def test_several_metrics_and_the_pareto_front(tmp_path):
    grid = fit(
        tmp_path,
        num_samples=8,
        searcher="optuna",
        searcher_options={"sampler": "nsga2"},
        metric=["loss", "cost"],
        mode=["min", "max"],
    )
    front = pareto_front(grid)
    assert front and front == pareto_front(grid, ["loss", "cost"], ["min", "max"])
    points = [(r.metrics["loss"], -r.metrics["cost"]) for r in grid]
    for result in grid:
        mine = (result.metrics["loss"], -result.metrics["cost"])
        dominated = any(o[0] <= mine[0] and o[1] <= mine[1] and o != mine for o in points)
        assert (result in front) == (not dominated)
    with pytest.raises(tunecore.TuneError, match="pareto_front needs metrics and one mode"):
        pareto_front(grid, ["loss"], ["min", "max"])


def test_inexpressible_space_fails_before_any_trial(tmp_path):
    space = {"x": tunecore.uniform(0, 1), "seed": tunecore.grid_search([1, 2])}
    tuner = tunecore.Tuner(
        train,
        param_space=space,
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", searcher="skopt", executor="inline"),
        run_config=tunecore.RunConfig(name="bad", storage_path=str(tmp_path), loggers=[], verbose=0),
    )
    with pytest.raises(tunecore.SpaceError, match=r"searcher 'skopt' cannot search 'seed' = grid_search"):
        tuner.fit()
