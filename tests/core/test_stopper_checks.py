"""Stoppers check what they are given before anything runs, and RunConfig.stop keys must exist in results."""

from __future__ import annotations

import pytest

import tunecore
from tunecore.builtin.stoppers import (
    DictStopper,
    ExperimentPlateauStopper,
    FunctionStopper,
    MaxIterStopper,
    PlateauStopper,
    ThresholdStopper,
    TimeoutStopper,
)
from tunecore.config_file import load_experiment


def counting(config):
    for step in range(1, 7):
        tunecore.report({"loss": 1.0 / step, "info": {"step": step}})


def fit(tmp_path, executor="inline", **run_kwargs):
    return tunecore.Tuner(
        counting,
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=2, seed=0, executor=executor),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], **run_kwargs),
    ).fit()


# --- item 12: options are checked when the stopper is built ---------------------------------------------


@pytest.mark.parametrize("factory, options, message", [
    (PlateauStopper, {"std": "0"}, "std must be a finite number, got '0'"),
    (PlateauStopper, {"std": -1.0}, "std must be >= 0, got -1.0"),
    (PlateauStopper, {"num_results": "4"}, "num_results must be an integer >= 2, got '4'"),
    (PlateauStopper, {"grace_period": 1.5}, "grace_period must be an integer >= 0, got 1.5"),
    (PlateauStopper, {"metric_threshold": "0.1"}, "metric_threshold must be a finite number, got '0.1'"),
    (PlateauStopper, {"metric": 3}, "metric must be a result field name"),
    (PlateauStopper, {"mode": "maximum"}, 'mode must be "min" or "max"'),
    (ExperimentPlateauStopper, {"top": "0"}, "top must be an integer >= 2, got '0'"),
    (ExperimentPlateauStopper, {"std": "0"}, "std must be a finite number, got '0'"),
    (ExperimentPlateauStopper, {"patience": "1"}, "patience must be an integer >= 0, got '1'"),
    (ExperimentPlateauStopper, {"mode": 1}, 'mode must be "min" or "max"'),
    (ThresholdStopper, {"value": 1.0, "metric": ""}, "metric must be a result field name"),
    (ThresholdStopper, {"value": "1"}, "value must be a finite number, got '1'"),
    (MaxIterStopper, {"max_iter": "3"}, "max_iter must be a positive integer, got '3'"),
    (TimeoutStopper, {"timeout_s": "60"}, "timeout_s must be a finite number, got '60'"),
])  # fmt: skip
def test_bad_stopper_options_are_value_errors_at_construction(factory, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        factory(**options)


def test_quoted_number_in_a_toml_stopper_fails_before_the_first_result(tmp_path):
    trainable = tmp_path / "train.py"
    trainable.write_text("import tunecore\n\ndef train(config):\n    tunecore.report({'loss': 1.0})\n")
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        'trainable = "train.py:train"\nmetric = "loss"\nmode = "min"\nexecutor = "inline"\n'
        f'storage_path = "{tmp_path}"\n\n[[stoppers]]\nname = "plateau"\nstd = "0"\n'
    )
    spec = load_experiment(experiment)
    with pytest.raises(ValueError, match="std must be a finite number, got '0'"):
        tunecore.Tuner.from_spec(spec).fit()
    assert not list(tmp_path.rglob("result.jsonl"))


def one_argument(result):
    return result["training_iteration"] >= 2


@pytest.mark.parametrize("func", [one_argument, lambda: True, lambda a, b, c: True])
def test_a_stop_function_must_take_trial_id_and_result(func):
    with pytest.raises(ValueError, match=r"stop function must take \(trial_id, result\)"):
        FunctionStopper(func)


def test_a_one_argument_stop_function_fails_before_any_trial_runs(tmp_path):
    with pytest.raises(ValueError, match=r"stop function must take \(trial_id, result\).*one_argument"):
        fit(tmp_path, stop=one_argument)
    assert not list(tmp_path.rglob("result.jsonl"))


def test_stop_functions_with_two_parameters_or_more_flexible_signatures_are_accepted():
    class Callable:
        def __call__(self, trial_id, result):
            return False

    for func in (lambda trial_id, result: False, lambda *args: False, lambda t, r, extra=1: False, Callable()):
        assert FunctionStopper(func).should_stop("t1", {}) is False


# --- item 10: RunConfig.stop keys must be in the results; "a/b" matches nested results ------------------


def test_a_stop_key_no_result_contains_is_an_error_at_the_first_result(tmp_path):
    message = r"'training_iter'.*it has: .*training_iteration.*Did you mean 'training_iteration'"
    with pytest.raises(tunecore.TuneError, match=message):
        fit(tmp_path, stop={"training_iter": 3})


def test_the_error_lists_the_keys_the_result_has():
    stopper = DictStopper({"acc": 0.9})
    with pytest.raises(tunecore.TuneError, match=r"it has: done, info/step, loss, training_iteration"):
        stopper.should_stop("t1", {"loss": 1.0, "info": {"step": 1}, "training_iteration": 1, "done": False})


def test_a_nested_stop_key_matches_a_nested_result(tmp_path):
    grid = fit(tmp_path, stop={"info/step": 3})
    assert [r.metrics["training_iteration"] for r in grid] == [3, 3]


def test_the_stop_key_error_reaches_fit_with_the_local_executor(tmp_path):
    with pytest.raises(tunecore.TuneError, match="'info/stp'"):
        fit(tmp_path, executor="local", stop={"info/stp": 3})


# --- issue 12, item 5: the metric stoppers resolve their metric with tunecore.options.check_objective ---------


@pytest.mark.parametrize("factory, options, name", [
    (ThresholdStopper, {"value": 1.0}, "threshold"),
    (PlateauStopper, {}, "plateau"),
    (ExperimentPlateauStopper, {}, "experiment_plateau"),
])  # fmt: skip
def test_a_metric_stopper_without_a_metric_says_where_to_set_one(factory, options, name):
    message = (
        rf"^the {name} stopper needs one metric to watch, got None: set TuneConfig\(metric=...\) \(in an experiment"
        r" file: the top-level metric and mode keys\) or its own"
    )
    with pytest.raises(ValueError, match=message):
        factory(**options).setup(None, None)


def test_metric_stoppers_take_a_default_mode_when_nothing_sets_one():
    threshold, plateau = ThresholdStopper(1.0, metric="acc"), PlateauStopper(metric="loss")
    threshold.setup(None, None)
    plateau.setup(None, None)
    assert (threshold.op, plateau.mode) == (">=", "min")
    threshold.setup("loss", "min")
    assert (threshold.metric, threshold.op) == ("acc", "<=")


def test_stopper_options_take_numpy_integers_and_refuse_unknown_operators():
    np = pytest.importorskip("numpy")
    assert MaxIterStopper(np.int64(3)).max_iter == 3
    with pytest.raises(ValueError, match=r"unknown op '>': use one of >=, <=\. Did you mean '>='\?"):
        ThresholdStopper(1.0, op=">")


def test_experiment_plateau_scores_with_the_one_rule():
    stopper = ExperimentPlateauStopper(metric="acc", mode="max", top=2, std=0.0)
    stopper.setup(None, None)
    for trial_id, value in (("t1", 0.5), ("t2", float("nan")), ("t2", True), ("t2", 0.5)):
        stopper.should_stop(trial_id, {"acc": value})
    assert stopper._top == {"t1": 0.5, "t2": 0.5} and stopper.stop_all()
