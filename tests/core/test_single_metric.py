"""Components that rank by one metric refuse a multi-objective experiment at setup, or take their own metric."""

from __future__ import annotations

import pytest

import tunecore

METRICS, MODES = ["loss", "acc"], ["min", "max"]


def rising(config):
    for step in range(1, 9):
        tunecore.report({"loss": 1.0 / step, "acc": float(step)})


def run_multi(tmp_path, stoppers):
    return tunecore.Tuner(
        rising,
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(metric=METRICS, mode=MODES, num_samples=2, seed=0, executor="inline"),
        run_config=tunecore.RunConfig(name="multi", storage_path=str(tmp_path), loggers=[], stoppers=stoppers),
    ).fit()


def test_check_single_metric_takes_one_metric_or_picks_the_components_own():
    from tunecore.options import check_single_metric

    assert check_single_metric("the x stopper", "loss", "min") == ("loss", "min")
    assert check_single_metric("the x stopper", None, None) == (None, None)
    assert check_single_metric("the x stopper", METRICS, MODES, own_metric="acc") == ("acc", "max")
    assert check_single_metric("the x stopper", METRICS, MODES, own_metric="f1", own_mode="max") == ("f1", "max")
    assert check_single_metric("the x stopper", "loss", "min", own_metric="acc", own_mode="max") == ("acc", "max")
    with pytest.raises(ValueError, match=r"the x stopper takes one metric.*\['loss', 'acc'\].*metric"):
        check_single_metric("the x stopper", METRICS, MODES)
    with pytest.raises(ValueError, match=r"the x stopper.*'f1' is not one of the experiment's metrics.*mode"):
        check_single_metric("the x stopper", METRICS, MODES, own_metric="f1")


@pytest.mark.parametrize("name, options", [
    ("threshold", {"value": 0.5}),
    ("plateau", {}),
    ("experiment_plateau", {}),
])  # fmt: skip
def test_metric_stoppers_refuse_several_metrics_at_setup(tmp_path, name, options):
    with pytest.raises(ValueError, match=rf"the {name} stopper takes one metric.*\['loss', 'acc'\].*'metric' option"):
        run_multi(tmp_path, [{"name": name, **options}])
    assert not (tmp_path / "multi").exists() or not list((tmp_path / "multi").glob("t0*"))  # nothing ran


def test_metric_stoppers_with_their_own_metric_run_in_a_multi_objective_experiment(tmp_path):
    grid = run_multi(tmp_path, [
        {"name": "threshold", "metric": "loss", "value": 0.3},  # mode "min" from the experiment's modes: <=
        {"name": "plateau", "metric": "acc"},
        {"name": "experiment_plateau", "metric": "acc", "top": 2},
    ])  # fmt: skip
    assert grid.num_errors == 0
    assert [r.metrics["training_iteration"] for r in grid] == [4, 4]  # loss 1/4 <= 0.3


def single_objective_components():
    """(kind, name, options) of every installed first-party component that ranks by one metric."""
    cases = [
        ("scheduler", "median", {}, "tune_asha"),
        ("scheduler", "asha", {}, "tune_asha"),
        ("scheduler", "hyperband", {}, "tune_asha"),
        ("scheduler", "pbt", {"hyperparam_mutations": {"x": [0.1, 0.2]}}, "tune_pbt"),
        ("scheduler", "pb2", {"hyperparam_bounds": {"x": [0.0, 1.0]}}, "tune_pbt"),
        ("searcher", "evolution", {}, "tune_evolution"),
        ("searcher", "regularized_evolution", {}, "tune_evolution"),
        ("searcher", "hyperopt", {}, "tune_bayesopt"),
        ("searcher", "skopt", {}, "tune_bayesopt"),
    ]
    return [pytest.param(kind, name, options, module, id=name) for kind, name, options, module in cases]


@pytest.mark.parametrize("kind, name, options, module", single_objective_components())
def test_single_objective_plugins_refuse_several_metrics_at_setup(kind, name, options, module):
    pytest.importorskip(module)
    component = tunecore.load_plugins({}).create(kind, name, options)
    space = {"x": tunecore.uniform(0, 1)}
    with pytest.raises(ValueError, match=rf"{name}.* takes one metric.*\['loss', 'acc'\]"):
        if kind == "searcher":
            component.setup(space, METRICS, MODES, 0, 4)
        else:
            component.setup(METRICS, MODES)
    if kind == "scheduler":  # the own metric option picks one of them, and its mode
        component = tunecore.load_plugins({}).create(kind, name, {**options, "metric": "acc"})
        component.setup(METRICS, MODES)
        assert (component.metric, component.mode) == ("acc", "max")


def test_repeater_averages_every_metric_of_a_multi_objective_experiment():
    from tunecore.builtin.searcher_wrappers import Repeater
    from tunecore.builtin.searchers import RandomSearcher

    told = []

    class Recording(RandomSearcher):
        def on_trial_complete(self, trial_id, result, error=False):
            told.append(result)

    searcher = Repeater(Recording(), repeat=2)
    searcher.setup({"x": tunecore.uniform(0, 1)}, METRICS, MODES, 0, 2)
    for trial_id in ("t1", "t2"):
        searcher.suggest(trial_id)
    searcher.on_trial_complete("t1", {"loss": 1.0, "acc": 0.5})
    searcher.on_trial_complete("t2", {"loss": 3.0, "acc": 0.7})
    assert told == [{"loss": 2.0, "acc": 0.6, "trial_id": "t1"}]
