"""ASHA (`asha`) through the real controller, selected by name, and its building blocks directly."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

import tunecore
from tests.asha.support import hyperbolic, iterations, run
from tune_asha.asha import AsyncHyperBandScheduler, Rung, quantile, rung_levels

# max_t 8, grace 1, factor 2: rungs at 1, 2, 4 and trials reaching 8 stop. Curves q + 1/t never cross, so a
# trial continues at a rung iff its q is at most the median q recorded there before it (inline: one at a time):
#   q=.5 first everywhere -> 8          q=.3 (<= .5 at 1, 2, 4) -> 8      q=.8 (> median .4 of .3,.5 at 1) -> 1
#   q=.1 (<= .5, .4, .4) -> 8           q=.6 (> median .4 of .1,.3,.5,.8 at 1) -> 1
#   q=.4 (<= .5 at 1; > median .3 of .1,.3,.5 at 2) -> 2                q=.9 (> .45 at 1) -> 1
#   q=.2 (<= .5 at 1, <= .35 at 2, <= .3 at 4) -> 8
QS = [0.5, 0.3, 0.8, 0.1, 0.6, 0.4, 0.9, 0.2]
EXPECTED = [8, 8, 1, 8, 1, 2, 1, 8]
OPTIONS = {"max_t": 8, "grace_period": 1, "reduction_factor": 2}


@pytest.mark.parametrize(
    ("tune", "options"),
    [
        ({"metric": "loss", "mode": "min"}, {}),
        ({"metric": "acc", "mode": "max"}, {}),
        ({"metric": "loss", "mode": "min"}, {"metric": "acc", "mode": "max"}),  # the scheduler's own options win
    ],
    ids=["min", "max", "own-metric"],
)
def test_exactly_the_expected_trials_reach_each_rung(tmp_path, tune, options):
    grid = run(tmp_path, "asha", {**OPTIONS, **options}, QS, **tune)
    assert iterations(grid) == EXPECTED
    assert all(result.status == "TERMINATED" for result in grid)
    assert [r["training_iteration"] for r in grid[1].metrics_history] == list(range(1, 9))


def test_with_a_seeded_random_searcher(tmp_path):
    grid = tunecore.Tuner(
        hyperbolic,
        param_space={"q": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(
            metric="loss",
            mode="min",
            num_samples=16,
            seed=0,
            executor="inline",
            scheduler="asha",
            scheduler_options={"max_t": 16, "reduction_factor": 2},
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    qs = [round(result.config["q"], 3) for result in grid]
    assert qs[:8] == [0.637, 0.27, 0.041, 0.017, 0.813, 0.913, 0.607, 0.729]
    assert qs[8:] == [0.544, 0.935, 0.816, 0.003, 0.857, 0.034, 0.73, 0.176]
    # Rungs 1, 2, 4, 8 (median of the q's before): the first four only improve, so they go all the way; .813 meets
    # the median .156 of .637 .27 .041 .017 at rung 1 and stops; .544 passes the median .622 at 1 but not .156
    # at 2; .176 passes at 1 and meets .041 at 2; .003 and .034 are below every median.
    reached = {
        level: [r.trial_id[-2:] for r in grid if r.metrics["training_iteration"] >= level] for level in (2, 4, 16)
    }
    assert reached == {
        2: ["01", "02", "03", "04", "09", "12", "14", "16"],
        4: ["01", "02", "03", "04", "12", "14"],
        16: ["01", "02", "03", "04", "12", "14"],
    }


def test_from_a_toml_experiment_file(tmp_path):
    values = ", ".join(f"{{ q = {q} }}" for q in QS)
    path = tmp_path / "asha.toml"
    path.write_text(
        f"""
trainable = "tests.asha.support:hyperbolic"
metric = "loss"
mode = "min"
seed = 0
name = "exp"
storage_path = "{tmp_path}"
loggers = []
verbose = 0
executor = "inline"

[param_space]
case = {{ grid_search = [{values}] }}

[scheduler]
name = "asha"
max_t = 8
grace_period = 1
reduction_factor = 2
""",
        encoding="utf-8",
    )
    spec = tunecore.load_experiment(path)
    assert spec.tune_config.component("scheduler").to_data()["name"] == "asha"
    grid = tunecore.Tuner.from_spec(spec).fit()
    assert iterations(grid) == EXPECTED


def test_any_non_decreasing_time_attr(tmp_path):
    options = {"time_attr": "samples", "max_t": 80, "grace_period": 10, "reduction_factor": 2}  # samples = 10 * t
    assert iterations(run(tmp_path, "asha", options, QS)) == EXPECTED


def test_nan_ranks_last(tmp_path):
    # q=.5 continues to 8; NaN is below .5's score at rung 1 and stops there. Then q=.7 meets the records
    # NaN (the worst) and .5: their median is -inf in scores, so .7 continues; it stops at rung 2 (only .5 there).
    with pytest.warns(tunecore.MetricWarning, match="loss=nan"):
        grid = run(tmp_path, "asha", OPTIONS, [0.5, -1, 0.7])
    assert iterations(grid) == [8, 1, 2]
    assert math.isnan(grid[1].metrics["loss"])
    # Without the NaN trial q=.7 is stopped at once.
    assert iterations(run(tmp_path / "b", "asha", OPTIONS, [0.5, 0.7])) == [8, 1]


def test_without_stop_last_trials_trials_run_to_their_end(tmp_path):
    grid = run(tmp_path, "asha", {**OPTIONS, "stop_last_trials": False}, [{"q": 0.5, "steps": 12}, {"q": 0.8}])
    assert iterations(grid) == [12, 1]


def test_an_erroring_trial_does_not_disturb_the_others(tmp_path):
    grid = run(tmp_path, "asha", OPTIONS, [0.5, {"q": 0.3, "fail_at": 3}, 0.45, 0.2])
    assert [result.status for result in grid] == ["TERMINATED", "ERROR", "TERMINATED", "TERMINATED"]
    # What the failed trial recorded at rungs 1 and 2 still counts: .45 meets the median .4 of .3 and .5 at
    # rung 1 and stops (alone with .5 it would continue); .2 continues everywhere.
    assert iterations(grid) == [8, 2, 1, 8]


def test_registered_defaults_are_rays():
    scheduler = tunecore.load_plugins({}).create("scheduler", "asha", {})
    assert (scheduler.time_attr, scheduler.max_t, scheduler.grace_period, scheduler.reduction_factor) == (
        "training_iteration",
        100,
        1,
        4,
    )
    assert len(scheduler.brackets) == 1 and scheduler.stop_last_trials is True
    assert [rung.level for rung in scheduler.brackets[0].rungs] == [1, 4, 16, 64]


# --- the pieces -----------------------------------------------------------------------------------------------


def test_rung_levels():
    assert rung_levels(1, 100, 4) == [1, 4, 16, 64]
    assert rung_levels(1, 81, 3) == [1, 3, 9, 27, 81]
    assert rung_levels(10, 10, 2) == [10]


@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0], [5.0, 1.0, 4.0, 2.0], list(np.linspace(-3, 7, 11))])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.75, 2 / 3, 1.0])
def test_quantile_is_numpys_linear_percentile(values, q):
    assert quantile(sorted(values), q) == pytest.approx(np.percentile(values, q * 100))


def test_quantile_with_minus_infinity():
    assert quantile([-math.inf, 1.0], 0.5) == -math.inf
    assert quantile([-math.inf, 1.0, 2.0], 0.5) == 1.0
    assert quantile([-math.inf, -math.inf], 0.75) == -math.inf


def test_rung_judges_against_the_records_before_it():
    rung = Rung(level=1)
    assert rung.judge("a", -1.0, 4)  # the first one always continues
    assert not rung.judge("b", -2.0, 4)
    assert rung.judge("c", 0.0, 4) and rung.scores == [-2.0, -1.0, 0.0]


def test_brackets_are_filled_in_proportion_to_their_weights():
    scheduler = AsyncHyperBandScheduler(max_t=8, reduction_factor=2, brackets=2, mode="min", metric="loss")
    assert [[rung.level for rung in bracket.rungs] for bracket in scheduler.brackets] == [[1, 2, 4, 8], [2, 4, 8]]
    # weights 1 and e**-1: each trial goes where (count + 1) / weight is lowest
    assert [scheduler._assign(f"t{i}") for i in range(8)] == [0, 0, 1, 0, 0, 0, 1, 0]


def test_two_brackets_end_to_end(tmp_path):
    # Trials 3 and 7 go to bracket 1 (rungs 2, 4): q=.8 is its first trial there and runs to 8; q=.9 stops at 2.
    # In bracket 0, .6 and .45 stop at rung 1 (medians .3 and .4), .2 passes the medians .45, .3 and .3.
    grid = run(tmp_path, "asha", {**OPTIONS, "brackets": 2}, [0.5, 0.3, 0.8, 0.1, 0.6, 0.45, 0.9, 0.2])
    assert iterations(grid) == [8, 8, 8, 8, 1, 1, 2, 8]


def test_save_and_restore_give_the_same_decisions():
    def feed(scheduler, trial_ids, qs):
        decisions = []
        for trial_id, q in zip(trial_ids, qs, strict=True):
            trial = tunecore.Trial(trial_id=trial_id, config={})
            scheduler.on_trial_add(trial)
            for t in range(1, 9):
                decision = scheduler.on_trial_result(trial, {"training_iteration": t, "loss": q + 1 / t})
                if decision is not tunecore.CONTINUE:
                    break
            decisions.append(t)
            scheduler.on_trial_complete(trial, {"training_iteration": t, "loss": q + 1 / t})
        return decisions

    ids = [f"t{i}" for i in range(len(QS))]
    whole = AsyncHyperBandScheduler(**OPTIONS)
    whole.setup("loss", "min")
    assert feed(whole, ids, QS) == EXPECTED
    first = AsyncHyperBandScheduler(**OPTIONS)
    first.setup("loss", "min")
    feed(first, ids[:4], QS[:4])
    second = AsyncHyperBandScheduler(**OPTIONS)
    second.setup("loss", "min")
    second.restore(pickle.loads(pickle.dumps(first.save())))
    assert feed(second, ids[4:], QS[4:]) == EXPECTED[4:]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_t": 0}, "max_t must be > 0"),
        ({"grace_period": -1}, "grace_period must be > 0"),
        ({"grace_period": 200}, "grace_period .* must be at most max_t"),
        ({"reduction_factor": 1}, "reduction_factor must be > 1"),
        ({"brackets": 0}, "brackets must be a positive integer"),
        ({"brackets": 5}, "brackets must be at most the number of rungs .4"),
        ({"stop_last_trials": "yes"}, "stop_last_trials must be true or false"),
        ({"mode": "maximize"}, 'mode must be "min" or "max"'),
        ({"time_attr": ""}, "time_attr must be a result field name"),
        ({"max_t": "100"}, "max_t must be a finite number"),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        AsyncHyperBandScheduler(**options)
    with pytest.raises(tunecore.ComponentError, match=f"scheduler 'asha' \\(from tune-asha .*{message}"):
        tunecore.load_plugins({}).create("scheduler", "asha", options)


def test_missing_metric_or_time_attr_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="the asha scheduler needs one metric"):
        AsyncHyperBandScheduler().setup(None, "min")
    with pytest.raises(ValueError, match='needs mode "min" or "max"'):
        AsyncHyperBandScheduler().setup("loss", None)
    with pytest.raises(ValueError, match="time_attr 'epochs' is not in the result of trial t00001"):
        run(tmp_path, "asha", {"time_attr": "epochs"}, [0.5])


def test_uses_only_the_public_api():
    source = "\n".join(path.read_text() for path in Path(__file__).parents[2].glob("plugins/tune-asha/tune_asha/*.py"))
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert {name for name in imports if name.startswith("tunecore")} <= {
        "tunecore",
        "tunecore.best",
        "tunecore.pareto",
        "tunecore.options",
        "tunecore.protocols",
        "tunecore.space",
    }
