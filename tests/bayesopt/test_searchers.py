"""The three searchers through the Searcher protocol: bounds, seeds, warm start, parallel, resume, failures."""

from __future__ import annotations

import pickle

import pytest

import tunecore
from tests.bayesopt.helpers import NAMES, SPACE, check_config, drive, key, make, objective
from tunecore.space import flatten


@pytest.fixture(params=NAMES)
def name(request):
    return request.param


def test_suggestions_stay_inside_the_space(name):
    searcher = make(name)
    searcher.setup(SPACE, "loss", "min", 0, 12)
    configs = drive(searcher, 10)  # random phase, then the model
    configs += [searcher.suggest(f"p{i}") for i in range(2)]  # with pending trials
    for config in configs:
        check_config(config)
    assert searcher.suggest("t99") is tunecore.FINISHED  # num_samples reached
    assert len({c["n"] for c in configs}) > 1 and len({repr(c["act"]) for c in configs}) > 1


def test_same_seed_same_suggestions(name):
    def run(option_seed, setup_seed):
        searcher = make(name, seed=option_seed)
        searcher.setup(SPACE, "loss", "min", setup_seed, -1)
        return drive(searcher, 6)

    first = run(None, 3)
    assert run(None, 3) == first
    assert run(3, 99) == first  # the searcher's own seed overrides the experiment's
    assert run(4, 3) != first


def test_no_duplicate_pending_suggestions(name):
    space = {"x": tunecore.uniform(0, 1), "n": tunecore.randint(0, 4)}
    searcher = make(name)
    searcher.setup(space, "loss", "min", 0, -1)
    drive(searcher, 4, value=lambda c: (c["x"] - 0.3) ** 2 + c["n"])  # past the random phase
    pending = [searcher.suggest(f"p{i}") for i in range(6)]  # six running at once
    assert len({key(c) for c in pending}) == 6


def test_pending_trials_complete_in_any_order(name):
    searcher = make(name)
    searcher.setup(SPACE, "loss", "min", 0, -1)
    drive(searcher, 4)
    ids = [f"p{i}" for i in range(3)]
    configs = {trial_id: searcher.suggest(trial_id) for trial_id in ids}
    for trial_id in reversed(ids):
        searcher.on_trial_complete(trial_id, {"loss": objective(configs[trial_id])})
    searcher.on_trial_complete("unknown", {"loss": 1.0})  # not suggested by this searcher: ignored
    check_config(searcher.suggest("next"))


def test_save_restore_mid_run_gives_the_same_next_suggestions(name):
    def fresh():
        searcher = make(name)
        searcher.setup(SPACE, "loss", "min", 7, -1)
        return searcher

    def finish(searcher):
        for trial_id, config in pending.items():
            searcher.on_trial_complete(trial_id, {"loss": objective(config)})
        return drive(searcher, 3, start=100)

    original = fresh()
    drive(original, 5)
    pending = {f"p{i}": original.suggest(f"p{i}") for i in range(2)}  # interrupted with two trials running
    state = pickle.dumps(original.save())
    restored = fresh()
    restored.restore(pickle.loads(state))
    assert finish(restored) == finish(original)


def test_warm_start_tells_the_library_before_the_first_suggestion(name):
    points = [{"x": 0.5, "n": 0, "opt": {"lr": 0.01}}, {"x": -1.0, "n": 9, "opt": {"lr": 0.1}}]
    space = {"x": SPACE["x"], "n": SPACE["n"], "opt": {"lr": SPACE["opt"]["lr"]}}
    searcher = make(name, points_to_evaluate=points, evaluated_rewards=[0.1, 5.0])
    searcher.setup(space, "loss", "max", 0, -1)
    if name == "optuna":
        assert [t.params for t in searcher.study.trials] == [
            {"x": 0.5, "n": 0, "opt/lr": 0.01},
            {"x": -1.0, "n": 9, "opt/lr": 0.1},
        ]
        assert [t.value for t in searcher.study.trials] == [0.1, 5.0]
    elif name == "hyperopt":
        assert [t["result"]["loss"] for t in searcher.trials.trials] == [-0.1, -5.0]  # minimises -reward
        assert [t["misc"]["vals"]["n"] for t in searcher.trials.trials] == [[0], [9]]
    else:
        assert searcher.optimizer.Xi == [[0.5, 0, 0.01], [-1.0, 9, 0.1]]  # in space order: x, n, opt/lr
        assert searcher.optimizer.yi == [-0.1, -5.0]
    configs = drive(searcher, 3, value=lambda c: c["x"])
    assert all(flatten(c) not in [flatten(p) for p in points] for c in configs)  # not run again


def test_points_to_evaluate_come_first_and_may_be_partial(name):
    points = [{"x": 0.25, "opt": {"lr": 0.001}}, {"x": 1.5, "n": 3, "act": None}]
    searcher = make(name, points_to_evaluate=points)
    searcher.setup(SPACE, "loss", "min", 0, -1)
    first, second, third = drive(searcher, 3)
    assert (first["x"], first["opt"]["lr"]) == (0.25, 0.001)
    assert (second["x"], second["n"], second["act"]) == (1.5, 3, None)
    for config in (first, second, third):
        check_config(config)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"points_to_evaluate": [{"y": 1}]}, r"points_to_evaluate\[0\] has \['y'\], which are not parameters"),
        ({"points_to_evaluate": [{"n": 10}]}, r"points_to_evaluate\[0\]: 'n' = 10 is outside randint\(0, 10\)"),
        ({"points_to_evaluate": [{"opt": {"momentum": 0.555}}]}, "'opt/momentum' = 0.555 is not a multiple of 0.01"),
        ({"points_to_evaluate": [{"act": "gelu"}]}, "'act' = 'gelu' is not one of"),
        ({"points_to_evaluate": [{"x": 0.1}], "evaluated_rewards": [1.0]}, "misses .*: a point with an evaluated"),
        ({"points_to_evaluate": [{"x": 0.1, "n": 1}], "evaluated_rewards": ["a"]}, "must be a finite number"),
        ({"points_to_evaluate": [{"x": 0.1, "n": 1}], "evaluated_rewards": [[1, 2]]}, "must be a finite number"),
    ],
)
def test_bad_points_fail_at_setup(name, options, message):
    searcher = make(name, **options)
    space = SPACE if "evaluated_rewards" not in options else {"x": SPACE["x"], "n": SPACE["n"], "c": "constant"}
    with pytest.raises(ValueError, match=message):
        searcher.setup(space, "loss", "min", 0, -1)


def test_bad_options_fail_when_built(name):
    with pytest.raises(ValueError, match="one reward per point"):
        make(name, points_to_evaluate=[{"x": 1.0}], evaluated_rewards=[1.0, 2.0])
    with pytest.raises(ValueError, match="evaluated_rewards needs points_to_evaluate"):
        make(name, evaluated_rewards=[1.0])
    with pytest.raises(ValueError, match='mode must be "min"'):
        make(name, mode="minimise")
    with pytest.raises(ValueError, match="seed must be an integer"):
        make(name, seed="1")


def test_metric_and_mode_from_setup_or_options(name):
    searcher = make(name)
    with pytest.raises(ValueError, match=f"the {name} searcher needs .* and its mode, got neither"):
        searcher.setup(SPACE, None, None, 0, -1)
    searcher = make(name, metric="acc", mode="max")
    searcher.setup(SPACE, "loss", "min", 0, -1)  # the searcher's own options win
    assert (searcher.metrics, searcher.modes) == (["acc"], ["max"])
    searcher = make(name, mode="max")
    searcher.setup(SPACE, "loss", None, 0, -1)
    assert (searcher.metric, searcher.mode) == ("loss", "max")


def test_maximising_finds_what_minimising_avoids(name):
    space = {"x": tunecore.uniform(0, 1)}
    found = {}
    for mode in ("min", "max"):
        searcher = make(name)
        searcher.setup(space, "loss", mode, 0, -1)
        configs = drive(searcher, 12, value=lambda c: c["x"])
        found[mode] = sorted(c["x"] for c in configs[-6:])[3]  # the median of the model's last suggestions
    assert found["max"] > found["min"]


def test_failed_and_metricless_trials(name):
    searcher = make(name)
    searcher.setup({"x": tunecore.uniform(0, 1)}, "loss", "min", 0, -1)
    for trial_id in ("a", "b", "c"):
        searcher.suggest(trial_id)
    searcher.on_trial_complete("a", None, error=True)
    searcher.on_trial_complete("b", {"other": 1.0})
    searcher.on_trial_complete("c", {"loss": float("nan")})
    if name == "optuna":
        assert [t.state.name for t in searcher.study.trials] == ["FAIL"] * 3
    elif name == "hyperopt":
        assert [t["result"]["status"] for t in searcher.trials.trials] == ["fail"] * 3
    else:
        assert searcher.optimizer.yi == []  # skipped
    drive(searcher, 4, value=lambda c: c["x"])
    for trial_id in ("d", "e"):
        assert 0 <= searcher.suggest(trial_id)["x"] <= 1


def test_several_metrics_only_for_optuna(name):
    searcher = make(name)
    if name == "optuna":
        searcher.setup(SPACE, ["loss", "time"], ["min", "max"], 0, -1)
        assert searcher.metrics == ["loss", "time"]
        return
    with pytest.raises(ValueError, match=f"the {name} searcher takes one metric.*'metric' option.*'optuna'"):
        searcher.setup(SPACE, ["loss", "time"], ["min", "max"], 0, -1)
    with pytest.raises(ValueError, match=r"metric must be one result field name, got \['loss', 'time'\].*'optuna'"):
        make(name, metric=["loss", "time"], mode=["min", "max"])  # refused when built
    searcher = make(name, metric="time")  # its own metric picks one of the experiment's, and that metric's mode
    searcher.setup(SPACE, ["loss", "time"], ["min", "max"], 0, -1)
    assert (searcher.metrics, searcher.modes) == (["time"], ["max"])


def test_space_without_parameters(name):
    searcher = make(name)
    searcher.setup({"a": 1, "b": tunecore.choice(["only"])}, "loss", "min", 0, -1)
    assert drive(searcher, 2, value=lambda c: 1.0) == [{"a": 1, "b": "only"}] * 2


# --- issue 12, item 5: objectives, seeds and options through tunecore.options and tunecore.best --------------


@pytest.mark.parametrize("seed", [-1, 2**32, True, "1"])
def test_a_seed_outside_the_one_rule_is_refused_when_built(name, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer between 0 and 2\*\*32 - 1 \(or None\)"):
        make(name, seed=seed)


def test_the_largest_seed_and_numpy_seeds_work(name):
    import numpy as np

    searcher = make(name, seed=np.int64(2**32 - 1))
    searcher.setup(SPACE, "loss", "min", None, -1)
    assert searcher.seed == 2**32 - 1 and type(searcher.seed) is int
    assert len(drive(searcher, 3)) == 3


def test_a_missing_metric_or_mode_says_where_to_set_them(name):
    what = r"a metric \(or several\) to optimise" if name == "optuna" else "one metric to rank trials"
    message = rf"^the {name} searcher needs {what} and its mode, got neither: set TuneConfig"
    with pytest.raises(ValueError, match=message):
        make(name).setup(SPACE, None, None, 0, -1)
    with pytest.raises(ValueError, match=rf'^the {name} searcher needs mode "min" or "max", got None: give it its own'):
        make(name, metric="loss").setup(SPACE, None, None, 0, -1)


def test_odd_metric_values_are_no_observation(name):
    """The one rule (tunecore.best): NaN, ±inf, bools, strings and missing values are never told as numbers."""
    import numpy as np

    searcher = make(name)
    searcher.setup({"x": tunecore.uniform(0, 1)}, "loss", "min", 0, -1)
    for value in (float("inf"), float("nan"), True, "0.5", None):
        assert searcher._objective({"loss": value}) is None
    assert searcher._objective({"loss": np.float32(0.25)}) == [0.25]
