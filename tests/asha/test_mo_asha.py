"""MO-ASHA (`mo_asha`): non-dominated sorting and crowding distance by hand, rung decisions, equivalence with
`asha` for one metric, real experiments with two metrics, save/restore and option errors."""

from __future__ import annotations

import math
import pickle
import random

import pytest

import tunecore
from tests.asha.support import iterations, run
from tune_asha import AsyncHyperBandScheduler, MOASHAScheduler
from tune_asha.mo_asha import ParetoRung
from tune_asha.nondominated import crowding_distances, dominates, fronts, pareto_keys, pareto_order
from tunecore import pareto

INF = math.inf

# --- ranking a rung (scores: higher is better; dominance and fronts: tests/core/test_pareto.py) ----------


def test_the_sorting_pieces_are_the_cores():
    assert dominates is pareto.dominates and fronts is pareto.fronts  # one rule: the core's


def test_crowding_distance_by_hand():
    # Sorted by the first metric: 0, 1, 2, 6 (range 6); by the second: 0, 1, 5, 6 (range 6).
    # (1, 5): (2 - 0) / 6 + (6 - 1) / 6 = 7/6.    (2, 1): (6 - 1) / 6 + (5 - 0) / 6 = 10/6.    Ends: infinite.
    front = [(0, 6), (1, 5), (2, 1), (6, 0)]
    assert crowding_distances(front) == pytest.approx([INF, 7 / 6, 10 / 6, INF])
    # Each metric's gaps are divided by its range: scaling one metric changes nothing.
    assert crowding_distances([(0, 600), (1, 500), (2, 100), (6, 0)]) == pytest.approx([INF, 7 / 6, 10 / 6, INF])


def test_crowding_distance_of_equal_points_and_small_fronts():
    assert crowding_distances([(1, 1)]) == [INF]
    assert crowding_distances([(1, 1), (1, 1)]) == [INF, INF]  # one distinct point
    assert crowding_distances([(3, 1), (1, 3)]) == [INF, INF]
    # B and F are equal: counted once, both get the middle point's distance (3 - 1) / 2 + (3 - 1) / 2 = 2.
    assert crowding_distances([(3, 1), (2, 2), (1, 3), (2, 2)]) == [INF, 2.0, INF, 2.0]
    # A metric equal across the front has no ends and adds nothing.
    assert crowding_distances([(0, 5, 1), (1, 3, 1), (2, 0, 1)]) == [INF, pytest.approx(1 + 5 / 5), INF]


def test_pareto_keys_and_order():
    points = [(3, 1), (2, 2), (1, 3), (1, 1), (0, 0), (2, 2)]
    assert pareto_keys(points) == [(0, -INF), (0, -2.0), (0, -INF), (1, -INF), (2, -INF), (0, -2.0)]
    assert pareto_order(points) == [0, 2, 1, 5, 3, 4]  # ties in index order
    # On one front, the crowded middle point comes after the sparse one.
    assert pareto_order([(0, 6), (1, 5), (2, 1), (6, 0)]) == [0, 3, 2, 1]


# --- one rung -------------------------------------------------------------------------------------------------


def test_rung_decisions_by_hand():
    # reduction_factor 2: with n earlier records a trial continues when at most floor((n - 1) / 2) of them rank
    # strictly ahead of it. Scores are higher-is-better pairs.
    rung = ParetoRung(level=1)
    decisions = [
        rung.judge("r1", (-1, -1), 2),  # first: continues
        rung.judge("r2", (-2, -2), 2),  # dominated by r1: 1 ahead > 0
        rung.judge("r3", (0, -3), 2),  # front 0 with r1, both ends (infinite distance): 0 ahead <= 0.5
        rung.judge("r4", (-3, 0), 2),  # front 0 with r1, r3; r4 an end, r1 the middle: 0 ahead <= 1
        rung.judge("r5", (-1.5, -1.5), 2),  # second front, behind r1, r3, r4: 3 ahead > 1.5
        # First front, but crowded: sorted by the first score -3, -1, -0.5, 0 and by the second -3, -2.5, -1, 0
        # (ranges 3), r6 = (-0.5, -2.5) gets 1/3 + 2/3 = 1 and r1 2.5/3 + 2.5/3 = 5/3: r3, r4 (ends) and r1
        # are ahead of it, 3 > 2.
        rung.judge("r6", (-0.5, -2.5), 2),
        rung.judge("r7", (1, 1), 2),  # dominates everybody
    ]
    assert decisions == [True, False, True, True, False, False, True]
    assert rung.trials == {f"r{i}" for i in range(1, 8)} and rung.scores[-1] == (1, 1)


def test_rung_with_one_metric_is_ashas_quantile():
    # Earlier records 1 and 3, median 2 (interpolated): 2.5 continues although 3 ranks ahead of it.
    rung = ParetoRung(level=1)
    assert rung.judge("a", (1.0,), 2) is True and rung.judge("b", (3.0,), 2) is True
    assert rung.judge("c", (2.5,), 2) is True
    assert rung.judge("d", (1.9,), 2) is False  # below the median 2.5 of 1, 2.5, 3


def test_the_cheapest_level_of_an_exact_objective_is_dominated_only_by_itself():
    # The README's note on an objective known exactly from the config (a model's size, here -size, higher is
    # better): a record at the cheapest level is dominated only by better records of that level, so the k-th
    # best of it is in front k whatever the other levels hold, and it is an end of its front (infinite
    # crowding distance); a record at a dearer level also falls behind every cheaper record with a better error.
    cheap = [(-0.5, 0), (-0.6, 0), (-0.7, 0)]  # (-error, -size): size 0, errors 0.5, 0.6, 0.7
    dear = [(-0.1, -1), (-0.2, -1), (-0.3, -1), (-0.55, -1)]  # size 1: better errors, one worse than 0.5
    keys = pareto_keys(cheap + dear)
    assert keys[:3] == [(0, -INF), (1, -INF), (2, -INF)]
    assert [key[0] for key in keys[3:]] == [0, 1, 2, 3]  # 0.55: below 0.5 of size 0 and 0.1-0.3
    # At a rung (reduction_factor 3, 4 earlier records: at most 1 may rank ahead), the second-best record of
    # size 0 continues where the second-best of size 1 stops, although its error is worse (0.4 against 0.3).
    earlier = [(-0.2, 0), (-0.2, -1), (-0.5, -1), (-0.7, -1)]
    decisions = []
    for score in [(-0.4, 0), (-0.3, -1)]:
        rung = ParetoRung(level=1)
        for index, record in enumerate(earlier):
            rung.judge(f"t{index}", record, 3)
        decisions.append(rung.judge("new", score, 3))
    assert decisions == [True, False]


def test_a_nan_in_one_metric_counts_as_worst_in_all():
    scheduler = MOASHAScheduler(metric=["loss", "cost"], mode=["min", "min"], max_t=8, reduction_factor=2)
    scheduler.setup(None, None)
    assert scheduler.rung_score("t", {"loss": 0.5, "cost": 2.0}) == (-0.5, -2.0)
    assert scheduler.rung_score("t", {"loss": math.nan, "cost": 0.0}) == (-INF, -INF)
    assert scheduler.rung_score("t", {"loss": "x", "cost": 0.0}) == (-INF, -INF)
    # A trial with the best cost but a NaN loss is stopped behind a finite one.
    trial = tunecore.Trial(trial_id="a", config={})
    assert scheduler.on_trial_result(trial, {"training_iteration": 1, "loss": 9.0, "cost": 9.0}).action == "CONTINUE"
    nan = tunecore.Trial(trial_id="b", config={})
    assert scheduler.on_trial_result(nan, {"training_iteration": 1, "loss": math.nan, "cost": 0.0}).action == "STOP"


# --- the scheduler --------------------------------------------------------------------------------------------


def feed(scheduler, trials):
    """Run each trial ``(trial_id, [result, ...])`` to its first non-CONTINUE decision, one after another; the
    number of results each got."""
    reached = []
    for trial_id, results in trials:
        trial = tunecore.Trial(trial_id=trial_id, config={})
        scheduler.on_trial_add(trial)
        count = 0
        for result in results:
            count += 1
            if scheduler.on_trial_result(trial, result) is not tunecore.CONTINUE:
                break
        reached.append(count)
        scheduler.on_trial_complete(trial, result)
    return reached


def two_metric_trials(seed, n=12, steps=16):
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        q, c, slope = rng.random(), rng.random(), 3 * rng.random()  # curves cross: rankings change between rungs
        results = [{"training_iteration": t, "loss": q + slope / t, "cost": c + 1 / t} for t in range(1, steps + 1)]
        trials.append((f"t{i}", results))
    return trials


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("options", [{}, {"brackets": 2}, {"reduction_factor": 3, "grace_period": 2}])
def test_with_one_metric_it_decides_exactly_like_asha(seed, options):
    rng = random.Random(seed)
    options = {"max_t": 16, "reduction_factor": 2, **options}
    trials = []
    for i in range(30):
        q = rng.choice([rng.random(), rng.random(), round(rng.random(), 1), math.nan])  # ties and NaN too
        interleaved = [{"training_iteration": t, "loss": q + 1 / t} for t in range(1, 17)]
        trials.append((f"t{i}", interleaved[: rng.randint(1, 16)]))  # some end early: recorded at completion
    asha, mo = AsyncHyperBandScheduler(**options), MOASHAScheduler(**options)
    asha.setup("loss", "min")
    mo.setup("loss", "min")
    expected = feed(asha, trials)
    assert feed(mo, trials) == expected
    assert len(set(expected)) > 2  # the scenario stops trials at several rungs
    mo_lists = MOASHAScheduler(metric=["loss"], mode=["min"], **options)
    mo_lists.setup(None, None)
    assert feed(mo_lists, trials) == expected


def test_with_one_metric_a_real_run_is_ashas(tmp_path):
    # The grid of test_asha.py: the same trials reach the same rungs.
    from tests.asha.test_asha import EXPECTED, OPTIONS, QS

    assert iterations(run(tmp_path, "mo_asha", OPTIONS, QS)) == EXPECTED
    assert iterations(run(tmp_path / "max", "mo_asha", OPTIONS, QS, metric="acc", mode="max")) == EXPECTED


def two_objectives(config):
    """``loss = q + 1/step``, ``cost = c + 1/step``: at any rung the ranking is that of ``(q, c)``."""
    point = config.get("point", config)
    for step in range(1, 21):
        tunecore.report({"loss": point["q"] + 1 / step, "cost": point["c"] + 1 / step})


def tune_two(tmp_path, points, **options):
    return tunecore.Tuner(
        two_objectives,
        param_space={"point": tunecore.grid_search(points)},
        tune_config=tunecore.TuneConfig(
            metric=["loss", "cost"],
            mode=["min", "min"],
            scheduler="mo_asha",
            scheduler_options={"max_t": 8, "grace_period": 1, "reduction_factor": 2, **options},
            executor="inline",
            seed=0,
        ),
        run_config=tunecore.RunConfig(name="mo", storage_path=str(tmp_path), loggers=[], verbose=0),
    )


# (q, c) in creation order; inline: one trial at a time. Rungs 1, 2, 4; reaching 8 stops.
#   (.5, .5) first everywhere -> 8
#   (.6, .6) dominated by (.5, .5) at rung 1 -> 1
#   (.1, .9) and (.9, .1) are on the first front with (.5, .5), at its ends (infinite distance) -> 8
#   (.95, .95) dominated by all four at rung 1: 4 ahead > floor(3/2) -> 1
#   (.45, .55) first front at rung 1, but crowded: its distance .5 + .5 = 1 is below (.5, .5)'s .5625 + .5625,
#   so (.1, .9), (.9, .1) and (.5, .5) are ahead of it: 3 > floor(4/2) -> 1
POINTS = [(0.5, 0.5), (0.6, 0.6), (0.1, 0.9), (0.9, 0.1), (0.95, 0.95), (0.45, 0.55)]
REACHED = [8, 1, 8, 8, 1, 1]


def test_a_real_two_metric_experiment_stops_dominated_trials(tmp_path):
    grid = tune_two(tmp_path, [{"q": q, "c": c} for q, c in POINTS]).fit()
    assert [result.config["point"] for result in grid] == [{"q": q, "c": c} for q, c in POINTS]
    assert iterations(grid) == REACHED
    assert all(result.status == "TERMINATED" for result in grid)
    # The experiment keeps both metrics; "best" needs one of them (or the Pareto front of the trials).
    assert (grid.metric, grid.mode) == (["loss", "cost"], ["min", "min"])
    assert grid.get_best_result("loss", "min").config["point"] == {"q": 0.1, "c": 0.9}
    with pytest.raises(tunecore.TuneError, match=r"the experiment has several metrics \(loss, cost\)"):
        grid.get_best_result()


def test_two_metric_experiment_from_toml_with_own_options(tmp_path):
    # The scheduler's own metrics win: ranked by cost alone (one metric: asha's rule), cost .1 < .5 < .6 ...
    path = tmp_path / "mo.toml"
    values = ", ".join(f"{{ q = {q}, c = {c} }}" for q, c in POINTS)
    path.write_text(
        f"""
trainable = "tests.asha.test_mo_asha:two_objectives"
metric = ["loss", "cost"]
mode = ["min", "min"]
seed = 0
name = "exp"
storage_path = "{tmp_path}"
loggers = []
verbose = 0
executor = "inline"

[param_space]
point = {{ grid_search = [{values}] }}

[scheduler]
name = "mo_asha"
metric = ["cost"]
max_t = 8
reduction_factor = 2
""",
        encoding="utf-8",
    )
    grid = tunecore.Tuner.from_spec(tunecore.load_experiment(path)).fit()
    reached = iterations(grid)
    scheduler = AsyncHyperBandScheduler(metric="cost", mode="min", max_t=8, reduction_factor=2)
    scheduler.setup(None, None)
    trials = [
        (f"t{i}", [{"training_iteration": t, "cost": c + 1 / t} for t in range(1, 21)])
        for i, (_, c) in enumerate(POINTS)
    ]
    assert reached == feed(scheduler, trials)
    assert reached[:2] == [8, 1]


def test_save_and_restore_give_the_same_decisions():
    trials = two_metric_trials(seed=3, n=16)
    options = {"metric": ["loss", "cost"], "mode": ["min", "min"], "max_t": 16, "reduction_factor": 2}
    whole = MOASHAScheduler(**options)
    whole.setup(None, None)
    expected = feed(whole, trials)
    assert len(set(expected)) > 2
    first = MOASHAScheduler(**options)
    first.setup(None, None)
    feed(first, trials[:7])
    state = pickle.loads(pickle.dumps(first.save()))
    second = MOASHAScheduler(**options)
    second.setup(None, None)
    second.restore(state)
    assert second.save() == first.save()  # the exact state, rung by rung
    assert feed(second, trials[7:]) == expected[7:]


def test_trials_it_never_saw_and_errors():
    scheduler = MOASHAScheduler(metric=["loss", "cost"], mode=["min", "max"], max_t=4, reduction_factor=2)
    scheduler.setup(None, None)
    ghost = tunecore.Trial(trial_id="ghost", config={})
    assert scheduler.on_trial_result(ghost, {"training_iteration": 1, "loss": 1.0, "cost": 1.0}) is tunecore.CONTINUE
    scheduler.on_trial_complete(tunecore.Trial(trial_id="other", config={}), None)
    scheduler.on_trial_complete(tunecore.Trial(trial_id="other", config={}), {"training_iteration": 2})
    scheduler.on_trial_error(tunecore.Trial(trial_id="never", config={}))
    # A failed trial's records stay: "ghost" ranks ahead of a dominated newcomer.
    scheduler.on_trial_error(ghost)
    worse = tunecore.Trial(trial_id="worse", config={})
    assert scheduler.on_trial_result(worse, {"training_iteration": 1, "loss": 2.0, "cost": 0.0}) is tunecore.STOP
    # An ended trial's last result is recorded at the rung it reached.
    ended = tunecore.Trial(trial_id="ended", config={})
    scheduler.on_trial_add(ended)
    scheduler.on_trial_complete(ended, {"training_iteration": 2, "loss": 0.0, "cost": 5.0})
    assert "ended" in scheduler.brackets[0].rungs[1].trials
    assert scheduler.on_trial_result(worse, {"training_iteration": 4, "loss": 0.0, "cost": 5.0}) is tunecore.STOP


def test_registered_defaults_are_ashas():
    scheduler = tunecore.load_plugins({}).create("scheduler", "mo_asha", {})
    asha = AsyncHyperBandScheduler()
    assert isinstance(scheduler, MOASHAScheduler)
    assert (scheduler.time_attr, scheduler.max_t, scheduler.grace_period, scheduler.reduction_factor) == (
        asha.time_attr,
        asha.max_t,
        asha.grace_period,
        asha.reduction_factor,
    )
    assert scheduler.stop_last_trials is asha.stop_last_trials is True
    assert [rung.level for rung in scheduler.brackets[0].rungs] == [1, 4, 16, 64]


def test_metrics_and_modes_are_resolved_like_a_multi_objective_searcher():
    own = MOASHAScheduler(metric=["loss", "cost"], mode=["min", "max"])
    own.setup(["acc"], ["max"])
    assert (own.metrics, own.modes) == (["loss", "cost"], ["min", "max"])
    inherited = MOASHAScheduler()
    inherited.setup(["loss", "cost"], ["min", "max"])
    assert (inherited.metrics, inherited.modes) == (["loss", "cost"], ["min", "max"])
    subset = MOASHAScheduler(metric="cost")  # its own metric, the experiment's mode for it
    subset.setup(["loss", "cost"], ["min", "max"])
    assert (subset.metrics, subset.modes) == (["cost"], ["max"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"metric": []}, "metric must be a result field name or a non-empty list"),
        ({"metric": ["loss", 3]}, "metric must be a result field name or a non-empty list"),
        ({"mode": ["min", "maximize"]}, 'mode must be "min", "max" or a list of them'),
        ({"metric": ["loss", "cost"], "mode": ["min"]}, "needs one mode per metric"),
        ({"metric": ["loss", "loss"], "mode": ["min", "min"]}, "metrics must differ, got 'loss' twice"),
        ({"max_t": 0}, "max_t must be > 0"),
        ({"grace_period": 200}, "grace_period .* must be at most max_t"),
        ({"reduction_factor": 1}, "reduction_factor must be > 1"),
        ({"brackets": 5}, "brackets must be at most the number of rungs .4"),
        ({"stop_last_trials": "yes"}, "stop_last_trials must be true or false"),
        ({"time_attr": ""}, "time_attr must be a result field name"),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        MOASHAScheduler(**options)
    with pytest.raises(tunecore.ComponentError, match=f"scheduler 'mo_asha' \\(from tune-asha .*{message}"):
        tunecore.load_plugins({}).create("scheduler", "mo_asha", options)


def test_setup_errors_say_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match=r"mo_asha scheduler needs a metric \(or several\) to optimise and its mode"):
        MOASHAScheduler().setup(None, None)
    with pytest.raises(ValueError, match="the mo_asha scheduler needs one mode per metric"):
        MOASHAScheduler().setup(["loss", "cost"], ["min"])
    with pytest.raises(ValueError, match="used before setup"):
        MOASHAScheduler().rung_score("t", {"loss": 1.0})
    scheduler = MOASHAScheduler(metric=["loss", "cost"], mode=["min", "min"])
    scheduler.setup(None, None)
    with pytest.raises(ValueError, match="metric 'cost' is not in the result of trial t1; it reported: loss"):
        scheduler.on_trial_result(tunecore.Trial(trial_id="t1", config={}), {"training_iteration": 1, "loss": 1.0})
    with pytest.raises(ValueError, match="time_attr 'epochs' is not in the result of trial t00001"):
        tune_two(tmp_path, [{"q": 0.5, "c": 0.5}], time_attr="epochs").fit()
