"""The median stopping rule (`median`) through the real controller, selected by name, and directly."""

from __future__ import annotations

import math
import pickle

import pytest

import tunecore
from tests.asha.support import iterations, run
from tune_asha.median import History, MedianStoppingRule

# grace 2 (iterations), 3 other trials needed, 6 steps each, run one at a time. With constant curves
# (loss = q) a trial is stopped at t when q is above the median q of the trials that got to t before it:
#   .5, .2, .8 have fewer than 3 others: run to 6      .6 > median .5 of .5, .2, .8 at t=2: stopped at 2
#   .1 is below every median: 6                          .7 > median .5 of .5, .2, .8, .6, .1 at 2: stopped at 2
#   .4 < median .55 at 2, but at 3 only .5, .2, .8, .1 got there: .4 > median .35, stopped at 3.
# With curves q + 1/t the running means (of the others) lag behind the best (of the trial): .4 stays at or
# below the median at every t and runs to 6.
QS = [0.5, 0.2, 0.8, 0.6, 0.1, 0.7, 0.4]
OPTIONS = {"time_attr": "training_iteration", "grace_period": 2}


def cases(qs, constant=True):
    return [{"q": q, "steps": 6, "constant": constant} for q in qs]


@pytest.mark.parametrize(("metric", "mode"), [("loss", "min"), ("acc", "max")])
def test_stops_exactly_the_trials_below_the_median(tmp_path, metric, mode):
    grid = run(tmp_path, "median", OPTIONS, cases(QS), metric=metric, mode=mode)
    assert iterations(grid) == [6, 6, 6, 2, 6, 2, 3]
    assert all(result.status == "TERMINATED" for result in grid)


def test_running_means_against_the_best_so_far(tmp_path):
    assert iterations(run(tmp_path, "median", OPTIONS, cases(QS, constant=False))) == [6, 6, 6, 2, 6, 2, 6]


def test_any_non_decreasing_time_attr(tmp_path):
    options = {"time_attr": "samples", "grace_period": 20}  # samples = 10 * t
    assert iterations(run(tmp_path, "median", options, cases(QS))) == [6, 6, 6, 2, 6, 2, 3]


def test_nan_counts_as_the_worst(tmp_path):
    # NaN is below the median and stops at 2. Then .6 meets .5, .2, .8 and NaN: median (.5 + .8) / 2 = .65,
    # so .6 continues at 2 (it would stop if NaN were left out); at 3 it meets .5, .2, .8 and stops.
    with pytest.warns(tunecore.MetricWarning, match="loss=nan"):
        grid = run(tmp_path, "median", OPTIONS, cases([0.5, 0.2, 0.8, -1, 0.6]))
    assert iterations(grid) == [6, 6, 6, 2, 3]


def test_without_hard_stop_trials_are_paused_and_run_last(tmp_path):
    starts = []

    class Starts:
        def tunecore_trial_started(self, trial):
            starts.append(trial.trial_id)

    options = {**OPTIONS, "hard_stop": False}
    grid = run(tmp_path, "median", options, cases(QS), callbacks=[Starts()])
    assert starts == [f"t0000{i}" for i in range(1, 8)] + ["t00004", "t00006", "t00007"]
    assert iterations(grid) == [6] * 7 and all(result.status == "TERMINATED" for result in grid)
    resumed = grid[3].metrics_history  # paused at 2, resumed from its checkpoint at the end
    assert [r["step"] for r in resumed] == list(range(1, 7)) and [r["resumed"] for r in resumed[2:]] == [True] * 4


def test_registered_defaults_are_rays():
    rule = tunecore.load_plugins({}).create("scheduler", "median", {})
    assert (rule.time_attr, rule.grace_period, rule.min_samples_required, rule.min_time_slice, rule.hard_stop) == (
        "time_total_s",
        60.0,
        3,
        0,
        True,
    )


def test_a_trial_short_of_samples_yields_to_a_waiting_one():
    rule = MedianStoppingRule(time_attr="training_iteration", grace_period=1, min_time_slice=2, metric="loss")
    rule.setup(None, "min")
    running, waiting = tunecore.Trial("a", {}), tunecore.Trial("b", {})
    rule.on_trial_add(running)
    running = tunecore.Trial("a", {}, tunecore.TrialStatus.RUNNING)  # views: each call gets the trial as it is
    decisions = [rule.on_trial_result(running, {"training_iteration": t, "loss": 1.0}) for t in (1, 2, 3)]
    assert decisions == [tunecore.CONTINUE] * 3  # nobody waits
    rule.on_trial_add(waiting)  # PENDING
    assert rule.on_trial_result(running, {"training_iteration": 4, "loss": 1.0}) == tunecore.PAUSE
    assert rule.choose_trial_to_run([waiting], [running]) is waiting
    waiting = tunecore.Trial("b", {}, tunecore.TrialStatus.RUNNING)
    running = tunecore.Trial("a", {}, tunecore.TrialStatus.PAUSED)
    # b has too few samples too and a waits: b yields at once, then again only after more than min_time_slice
    decisions = [rule.on_trial_result(waiting, {"training_iteration": t, "loss": 2.0}) for t in (1, 2, 3, 4)]
    assert decisions == [tunecore.PAUSE, tunecore.CONTINUE, tunecore.CONTINUE, tunecore.PAUSE]
    assert rule.yielded == {"a", "b"} and rule.choose_trial_to_run([], [running, waiting]) is running
    copy = MedianStoppingRule(metric="loss")
    copy.restore(pickle.loads(pickle.dumps(rule.save())))
    assert copy.histories == rule.histories and copy.yielded == rule.yielded


def test_history_running_means():
    history = History()
    for time, score in [(1, -9.0), (2, -1.0), (3, -2.0), (4, -math.inf), (5, -3.0)]:
        history.add(time, score, iteration=time, grace_period=2)
    assert history.running_mean(1) is None  # nothing at or after the grace period yet
    assert history.running_mean(2) == -1.0 and history.running_mean(3.5) == -1.5
    assert history.running_mean(4) == -math.inf  # a NaN result drags the mean to the worst
    assert history.best == -1.0 and history.last_time == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grace_period": -1}, "grace_period must be >= 0"),
        ({"min_samples_required": 0}, "min_samples_required must be a positive integer"),
        ({"min_samples_required": 2.5}, "min_samples_required must be a positive integer"),
        ({"min_time_slice": -1}, "min_time_slice must be >= 0"),
        ({"hard_stop": "no"}, "hard_stop must be true or false"),
        ({"mode": "MIN"}, 'mode must be "min" or "max"'),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(tunecore.ComponentError, match=f"scheduler 'median' \\(from tune-asha .*{message}"):
        tunecore.load_plugins({}).create("scheduler", "median", options)
