"""The public value checks components use for their options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunecore.options import check_int, check_mode, check_number, finite_float, is_finite_number


def test_finite_numbers():
    assert [is_finite_number(v) for v in (1, 2.5, np.float32(1.5), True, math.nan, math.inf, "1", None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert finite_float(np.int64(3)) == 3.0 and finite_float(math.nan) is None and finite_float("x") is None


def test_checks_name_the_option_and_the_value():
    assert check_number("max_t", 5) == 5.0
    with pytest.raises(ValueError, match="max_t must be > 0, got 0"):
        check_number("max_t", 0)
    with pytest.raises(ValueError, match=r"grace_period must be >= 1, got 0\.5"):
        check_number("grace_period", 0.5, minimum=1, strict=False)
    with pytest.raises(ValueError, match="brackets must be a positive integer, got True"):
        check_int("brackets", True, minimum=1)
    with pytest.raises(ValueError, match='mode must be "min" or "max", got \'best\''):
        check_mode("best")


def test_check_objective_takes_the_components_own_metric_else_the_experiments_and_needs_both():
    from tunecore.options import check_objective

    assert check_objective("the x scheduler", "loss", "min") == ("loss", "min")
    assert check_objective("the x scheduler", "loss", "min", own_metric="acc", own_mode="max") == ("acc", "max")
    assert check_objective("the x scheduler", ["loss", "acc"], ["min", "max"], own_metric="acc") == ("acc", "max")
    with pytest.raises(ValueError, match=r"the x scheduler needs one metric to rank trials, got None: set TuneConfig"):
        check_objective("the x scheduler", None, "min")
    with pytest.raises(ValueError, match='the x scheduler needs mode "min" or "max", got None'):
        check_objective("the x scheduler", None, None, own_metric="loss")


# --- issue 12, item 5: one objective rule, one seed rule, the shared option checks -------------------------


def test_check_objective_says_what_is_missing_and_where_to_set_it():
    from tunecore.options import check_objective

    with pytest.raises(ValueError, match=r"the x scheduler needs one metric to rank trials and its mode, got neither"):
        check_objective("the x scheduler", None, None)
    with pytest.raises(ValueError, match=r"the x stopper needs one metric to watch, got None: set TuneConfig"):
        check_objective("the x stopper", None, None, own_mode="min", purpose="watch")
    with pytest.raises(ValueError, match=r"the x scheduler needs mode \"min\" or \"max\", got None: give it its own"):
        check_objective("the x scheduler", None, None, own_metric="loss")
    # a stopper that ranks nothing has a default mode
    assert check_objective("the x stopper", None, None, own_metric="loss", default_mode="min") == ("loss", "min")
    assert check_objective("the x stopper", "acc", "max", default_mode="min") == ("acc", "max")


def test_check_objective_takes_a_one_metric_list_and_refuses_several():
    from tunecore.options import check_objective

    assert check_objective("the x searcher", ["loss"], ["min"]) == ("loss", "min")
    with pytest.raises(ValueError, match=r"the x searcher takes one metric, but the experiment has several.*optuna"):
        check_objective("the x searcher", ["loss", "acc"], ["min", "max"], hint="; use optuna")


def test_check_objectives_resolves_one_or_several_metrics():
    from tunecore.options import check_objectives

    both = (["loss", "acc"], ["min", "max"])
    assert check_objectives("the x searcher", "loss", "min") == (["loss"], ["min"])
    assert check_objectives("the x searcher", *both) == both
    assert check_objectives("the x searcher", None, None, own_metric=["loss", "acc"], own_mode=["min", "max"]) == both
    # its own metrics take their modes from the experiment's, as for a single-metric component
    assert check_objectives("the x searcher", *both, own_metric="acc") == (["acc"], ["max"])
    assert check_objectives("the x searcher", *both, own_metric=["acc", "loss"]) == (["acc", "loss"], ["max", "min"])
    assert check_objectives("the x searcher", "loss", "min", own_mode="max") == (["loss"], ["max"])
    with pytest.raises(ValueError, match=r"the x searcher needs a metric \(or several\) to optimise and its mode"):
        check_objectives("the x searcher", None, None)
    with pytest.raises(ValueError, match=r"the x searcher needs one mode per metric, got \['loss', 'acc'\] and \['min"):
        check_objectives("the x searcher", None, None, own_metric=["loss", "acc"], own_mode=["min"])
    with pytest.raises(ValueError, match=r"the x searcher's metric 'f1' is not one of the experiment's metrics"):
        check_objectives("the x searcher", *both, own_metric=["f1", "acc"])


def test_metric_and_mode_options_one_or_several():
    from tunecore.options import check_metric, check_metrics, check_modes

    assert check_metric(None) is None and check_metric("loss") == "loss"
    assert check_metrics(("loss", "acc")) == ["loss", "acc"] and check_metrics("loss") == "loss"
    assert check_modes(["min", "max"]) == ["min", "max"] and check_modes(None) is None
    with pytest.raises(ValueError, match=r"metric must be one result field name, got \['loss', 'acc'\]; use optuna"):
        check_metric(["loss", "acc"], hint="; use optuna")
    with pytest.raises(ValueError, match=r"metric must be a result field name or a non-empty list of them, got \[\]"):
        check_metrics([])
    with pytest.raises(ValueError, match=r'mode must be "min", "max" or a list of them, got \[\'min\', \'best\'\]'):
        check_modes(["min", "best"])
    with pytest.raises(ValueError, match='mode must be "min" or "max", got'):
        check_mode(["min"])


def test_one_seed_rule_every_library_accepts():
    from tunecore.options import check_seed

    assert check_seed(None) is None and check_seed(0) == 0 and check_seed(2**32 - 1) == 2**32 - 1
    assert check_seed(np.int64(7)) == 7 and type(check_seed(np.int64(7))) is int
    for bad in (-1, 2**32, True, 1.0, "1"):
        with pytest.raises(ValueError, match=r"seed must be an integer between 0 and 2\*\*32 - 1 \(or None\), got"):
            check_seed(bad)


def test_int_fraction_choice_points_and_dict_checks():
    from tunecore.options import check_choice, check_dict, check_fraction, check_points

    assert check_int("n", np.int64(3), minimum=1) == 3 and type(check_int("n", np.int64(3), minimum=1)) is int
    with pytest.raises(ValueError, match="elitism must be an integer between 0 and 19, got 20"):
        check_int("elitism", 20, minimum=0, maximum=19)
    with pytest.raises(ValueError, match="repeat must be a positive integer, got 0"):
        check_int("repeat", 0, minimum=1)
    with pytest.raises(ValueError, match=r"gamma must be a number between 0 and 1 \(both excluded\), got 1"):
        check_fraction("gamma", 1, exclusive=True)
    assert check_fraction("gamma", 0.25, exclusive=True) == 0.25
    with pytest.raises(ValueError, match=r"mutation_rate must be a number between 0 and 1, got nan"):
        check_fraction("mutation_rate", math.nan)
    assert check_choice("algo", "tpe", ("tpe", "rand")) == "tpe"
    with pytest.raises(ValueError, match=r"unknown sampler 'tpf': use one of tpe, gp\. Did you mean 'tpe'\?"):
        check_choice("sampler", "tpf", ("tpe", "gp"))
    assert check_points(None) == [] and check_points(({"x": 1},)) == [{"x": 1}]
    with pytest.raises(ValueError, match=r"points_to_evaluate must be a list of \(possibly partial\) config dicts"):
        check_points({"x": 1})
    assert check_dict("sampler_options", None) == {} and check_dict("sampler_options", {"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match=r"sampler_options must be a dict \(a table in TOML\), got \['a'\]"):
        check_dict("sampler_options", ["a"])


@pytest.mark.parametrize("build, message", [
    (lambda: _wrappers().ConcurrencyLimiter(_random(), 2, batch="no"), "batch must be true or false, got 'no'"),
    (lambda: _wrappers().Repeater(_random(), 2, set_index=1), "set_index must be true or false, got 1"),
    (lambda: _wrappers().Repeater(_random(), 0), "repeat must be a positive integer, got 0"),
    (lambda: _random(points_to_evaluate=[1]), r"points_to_evaluate must be a list of \(possibly partial\) config"),
])  # fmt: skip
def test_builtin_searchers_use_the_shared_checks(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def _wrappers():
    from tunecore.builtin import searcher_wrappers

    return searcher_wrappers


def _random(**options):
    from tunecore.builtin.searchers import RandomSearcher

    return RandomSearcher(**options)


def test_repeater_averages_numpy_values_and_ignores_nan_and_non_numbers():
    import tunecore

    told = []
    inner = _random()
    inner.on_trial_complete = lambda trial_id, result, error=False: told.append(result)
    searcher = _wrappers().Repeater(inner, repeat=3)
    searcher.setup({"x": tunecore.uniform(0, 1)}, "loss", "min", 0, 3)
    for trial_id in ("t1", "t2", "t3"):
        searcher.suggest(trial_id)
    searcher.on_trial_complete("t1", {"loss": np.float32(1.0)})
    searcher.on_trial_complete("t2", {"loss": math.nan})
    searcher.on_trial_complete("t3", {"loss": True})
    assert told == [{"loss": 1.0, "trial_id": "t1"}]


def test_a_missing_metric_is_explained_for_experiment_files_too():
    """The message named only TuneConfig(...), Python's spelling, to a user of `tunecore run FILE`."""
    from tunecore.options import check_objective

    in_a_file = r"TuneConfig\(metric=\.\.\., mode=\.\.\.\) \(in an experiment file: the top-level metric and mode"
    with pytest.raises(ValueError, match=in_a_file):
        check_objective("the x scheduler", None, None)
