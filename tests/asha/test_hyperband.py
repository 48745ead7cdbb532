"""Synchronous HyperBand (`hyperband`) through the real controller and executors, selected by name."""

from __future__ import annotations

import pickle

import pytest

import tunecore
from tests.asha.support import hyperbolic, iterations, run
from tune_asha.hyperband import HyperBandScheduler, hyperband_brackets

# Table 1 of Li et al. (2018), R = 81, eta = 3: per bracket s = 4 ... 0, the rungs (n_i, r_i).
PAPER_TABLE = [
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    [(34, 3), (11, 9), (3, 27), (1, 81)],
    [(15, 9), (5, 27), (1, 81)],
    [(8, 27), (2, 81)],
    [(5, 81)],
]

# max_t 9, eta 3: brackets of 9 trials (budgets 1, 3, 9), 5 trials (3, 9) and 3 trials (9), filled in order.
# Curves q + 1/t never cross, so each rung keeps the lowest q's: in the first bracket .1, .2 and .3 reach 3 and
# .1 reaches 9; in the second all reach 3 and .15 reaches 9; in the third all run to 9.
QS = [0.5, 0.2, 0.8, 0.1, 0.9, 0.4, 0.7, 0.3, 0.6, 0.35, 0.15, 0.55, 0.25, 0.45, 0.6, 0.05, 0.7]
EXPECTED = [1, 3, 1, 9, 1, 1, 1, 3, 1, 3, 9, 3, 3, 3, 9, 9, 9]
OPTIONS = {"max_t": 9}


def test_brackets_are_the_papers_table():
    assert hyperband_brackets(81, 3) == PAPER_TABLE
    assert hyperband_brackets(9, 3) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    assert hyperband_brackets(100, 3)[0][0] == (81, 100 / 81)  # R not a power of eta: fractional budgets


@pytest.mark.parametrize(("metric", "mode"), [("loss", "min"), ("acc", "max")])
def test_exactly_the_best_reach_each_rung(tmp_path, metric, mode):
    grid = run(tmp_path, "hyperband", OPTIONS, QS, metric=metric, mode=mode)
    assert iterations(grid) == EXPECTED
    # Eliminated trials are ended through choose_trials_to_stop: every trial finishes TERMINATED.
    assert {r.status for r in grid} == {"TERMINATED"}


def test_paused_trials_resume_from_their_checkpoints(tmp_path):
    grid = run(tmp_path, "hyperband", OPTIONS, QS)
    best = grid[3].metrics_history  # q = .1: paused at 1 and at 3, resumed twice
    assert [r["step"] for r in best] == [r["training_iteration"] for r in best] == list(range(1, 10))
    assert [r["resumed"] for r in best] == [False] + [True] * 8  # it received the checkpoint, not a fresh start
    for result in grid:  # nobody started over: steps always follow the iterations
        assert [r["step"] for r in result.metrics_history] == list(range(1, len(result.metrics_history) + 1))


def test_the_papers_brackets_end_to_end(tmp_path):
    grid = tunecore.Tuner(
        hyperbolic,
        param_space={"q": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=143, seed=0, executor="inline", scheduler="hyperband"
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    results = list(grid)
    assert sum(iterations(grid)) == 297 + 276 + 279 + 324 + 405  # each bracket's n_i * (r_i - r_(i-1))
    start = 0
    for rungs in PAPER_TABLE:
        size = rungs[0][0]
        bracket = sorted(results[start : start + size], key=lambda r: r.config["q"])
        start += size
        assert {r.metrics["training_iteration"] for r in bracket} <= {budget for _, budget in rungs}
        for keep, budget in rungs:  # exactly the `keep` best trials of the bracket reached `budget`
            assert [r.metrics["training_iteration"] >= budget for r in bracket] == [True] * keep + [False] * (
                size - keep
            )
    assert start == len(results) == 143


def test_a_searcher_that_runs_out_completes_the_rungs(tmp_path):
    # 9 + 2 trials: the second bracket (5 places) closes when the searcher has no more; .15 wins it.
    assert iterations(run(tmp_path, "hyperband", OPTIONS, QS[:11])) == [*EXPECTED[:9], 3, 9]
    # A single trial still goes all the way.
    assert iterations(run(tmp_path / "one", "hyperband", OPTIONS, [0.5])) == [9]


def test_errors_and_early_ends_complete_the_rungs(tmp_path):
    # First bracket: .1, .15 and .2 reach rung 3; .15 ends by itself at step 2, .2 fails at step 3, so .1 alone
    # completes rung 3 and goes on. Second bracket: .35 fails at step 2; the 4 others reach 3 and .15 goes on.
    qs = [0.5, {"q": 0.2, "fail_at": 3}, 0.8, 0.1, 0.9, 0.4, 0.7, {"q": 0.15, "steps": 2}, 0.6]
    qs += [{"q": 0.35, "fail_at": 2}, 0.15, 0.55, 0.25, 0.45]
    grid = run(tmp_path, "hyperband", OPTIONS, qs)
    assert iterations(grid) == [1, 2, 1, 9, 1, 1, 1, 2, 1, 1, 9, 3, 3, 3]
    assert [r.trial_id for r in grid if r.status == "ERROR"] == ["t00002", "t00010"]
    assert grid[7].status == "TERMINATED"


def test_nan_ranks_last(tmp_path):
    for mode, metric in (("min", "loss"), ("max", "acc")):
        with pytest.warns(tunecore.MetricWarning, match=f"{metric}=nan"):
            grid = run(tmp_path / mode, "hyperband", OPTIONS, [-1, 0.9, 0.8], metric=metric, mode=mode)
        assert iterations(grid) == [1, 1, 9]


def test_any_non_decreasing_time_attr(tmp_path):
    # tokens = t**2 passes the budgets 1, 3, 9 at t = 1, 2, 3
    grid = run(tmp_path, "hyperband", {"time_attr": "tokens", "max_t": 9}, QS)
    assert iterations(grid) == [{1: 1, 3: 2, 9: 3}[n] for n in EXPECTED]


def test_a_trial_past_the_next_budget_is_judged_there_without_running_again(tmp_path):
    # Ray's HyperBandScheduler: a promoted trial whose result is already at or past the next rung's budget is
    # not resumed ("too far ahead"); it counts as arrived there. max_t 8, eta 2: budgets 1, 2, 4, 8 for the
    # first bracket of 8 trials; tokens = step**2 = 1, 4, 9 jump from rung 2 straight past rung 4.
    qs = [0.5, 0.2, 0.8, 0.1, 0.9, 0.4, 0.7, 0.3]
    grid = run(tmp_path, "hyperband", {"time_attr": "tokens", "max_t": 8, "reduction_factor": 2}, qs)
    # .1 .2 .3 .4 reach 2 (tokens 4, already past 4): .1 and .2 are judged at 4 at once and .1 alone runs on.
    assert iterations(grid) == [1, 2, 1, 3, 1, 2, 1, 2]
    assert max(r.metrics["tokens"] for r in grid) == 9  # the first result at or past max_t 8 ends the trial


def test_a_trial_past_max_t_is_never_resumed(tmp_path):
    # samples = 10 * step: every trial's first result is past max_t 9, so it is its last (Ray: a trial never
    # continues past max_t), however the rungs in between are judged.
    grid = run(tmp_path, "hyperband", {"time_attr": "samples", "max_t": 9}, QS)
    assert iterations(grid) == [1] * len(QS)
    assert {r.status for r in grid} == {"TERMINATED"}


def test_without_stop_last_trials_the_winners_run_to_their_end(tmp_path):
    grid = run(tmp_path, "hyperband", {**OPTIONS, "stop_last_trials": False}, [{"q": 0.5, "steps": 12}])
    assert iterations(grid) == [12]


def test_with_the_local_executor(tmp_path):
    grid = run(tmp_path, "hyperband", OPTIONS, QS, executor="local", executor_options={"num_workers": 2})
    assert iterations(grid) == EXPECTED  # synchronous: the same outcome whatever the timing
    assert [r["resumed"] for r in grid[3].metrics_history] == [False] + [True] * 8


def test_resume_after_an_interruption_gives_the_same_outcome(tmp_path):
    # .2 fails when it is resumed at step 2 (fail_fast interrupts the run there); .3 and .1 complete rung 3.
    qs = [{"q": 0.2, "fail_at": 2} if q == 0.2 else q for q in QS]
    expected = [1 if q == 0.2 else n for n, q in zip(EXPECTED, QS, strict=True)]
    straight = run(tmp_path / "a", "hyperband", OPTIONS, qs)
    assert iterations(straight) == expected
    interrupted = run(tmp_path / "b", "hyperband", OPTIONS, qs, failure_config=tunecore.FailureConfig(fail_fast=True))
    assert len(interrupted) < len(QS)
    resumed = tunecore.Tuner.restore(interrupted.experiment_path).fit()
    assert iterations(resumed) == expected
    assert [r.status for r in resumed] == [r.status for r in straight]


def test_brackets_cycle_and_state_pickles():
    scheduler = HyperBandScheduler(max_t=3, metric="loss", mode="min")
    for i in range(8):
        scheduler.on_trial_add(tunecore.Trial(trial_id=f"t{i}", config={}))
    assert [len(b.trials) for b in scheduler.brackets] == [3, 2, 3]  # s = 1 (3 trials), s = 0 (2), s = 1 again
    copy = HyperBandScheduler(max_t=3)
    copy.restore(pickle.loads(pickle.dumps(scheduler.save())))
    assert copy.brackets == scheduler.brackets


def test_registered_defaults_are_rays():
    scheduler = tunecore.load_plugins({}).create("scheduler", "hyperband", {})
    assert (scheduler.time_attr, scheduler.max_t, scheduler.reduction_factor, scheduler.stop_last_trials) == (
        "training_iteration",
        81,
        3,
        True,
    )
    assert scheduler.schedule == PAPER_TABLE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_t": 0}, "max_t must be > 0"),
        ({"reduction_factor": 0.5}, "reduction_factor must be > 1"),
        ({"stop_last_trials": 1}, "stop_last_trials must be true or false"),
        ({"metric": 3}, "metric must be a result field name"),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(tunecore.ComponentError, match=f"scheduler 'hyperband' \\(from tune-asha .*{message}"):
        tunecore.load_plugins({}).create("scheduler", "hyperband", options)
