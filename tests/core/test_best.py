""""Best" means one thing everywhere (issue 11 items 6 and 18): the trial whose last result has the best finite
value, over every trial of the experiment — in the console summary, ``tunecore run``/``show`` and
``ResultGrid.get_best_result``."""

from __future__ import annotations

import io
import math
import os
import re

import pytest

import tunecore
from tests.core.scripted_executor import ScriptedExecutor, interrupt, result, run_controller
from tests.core.test_controller_states import StopAt, idle
from tunecore import cli
from tunecore.builtin.loggers import ConsoleLogger

VALUES = {0: [3.0, -math.inf], 1: [0.1, 5.0], 2: [2.0, 1.0], 3: [4.0, math.nan]}
"""Per trial id: its losses. Best by last finite value: id 2 (1.0); id 1 was better once, id 0 ends at -inf."""


def losses(config):
    for loss in VALUES[config["id"]]:
        tunecore.report({"loss": loss})


def run(tmp_path, num_samples=1, ids=(0, 1, 2, 3)):
    return tunecore.Tuner(
        losses,
        param_space={"id": tunecore.grid_search(list(ids))},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline", num_samples=num_samples),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", loggers=["console"]),
    )


def summary_line(text):
    return next(line for line in text.splitlines() if line.split(" ", 1)[0] in ("Finished", "Interrupted", "Failed"))


def test_summary_show_and_get_best_result_name_the_same_trial(tmp_path, capsys):
    with pytest.warns(tunecore.MetricWarning):
        grid = run(tmp_path).fit()
    summary = summary_line(capsys.readouterr().err)
    assert grid.get_best_result().config == {"id": 2}
    assert "best loss=1 (t00003, iter 2) id=2" in summary
    assert cli.main(["show", os.path.join(str(tmp_path), "exp")]) == 0
    assert re.search(r"^best: t00003 loss=1 ", capsys.readouterr().out, re.M)


def test_after_a_resume_with_more_samples_the_summary_ranks_every_trial(tmp_path, capsys):
    """The resumed session's trials are worse than the first session's best: the summary still names it."""
    with pytest.warns(tunecore.MetricWarning):
        run(tmp_path, ids=(2, 0)).fit()
    capsys.readouterr()
    with pytest.warns(tunecore.MetricWarning):
        grid = tunecore.Tuner.restore(os.path.join(str(tmp_path), "exp"), num_samples=2).fit()
    assert len(grid) == 4
    assert grid.get_best_result().trial_id == "t00001"
    assert "best loss=1 (t00001, iter 2) id=2" in summary_line(capsys.readouterr().err)


def test_the_summary_prints_the_config_that_earned_the_score(tmp_path):
    """A restart changed the trial's config after its last result: the summary shows the config of the result."""
    stream = io.StringIO()
    restart = StopAt(iteration=1, decision=tunecore.Decision.restart({"x": 0.5}))
    spec = tunecore.Tuner(
        idle,
        param_space={"x": 0.25},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", scheduler=restart),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0,
                                      loggers=[ConsoleLogger(verbose=1, stream=stream)]),
    ).spec
    script = [result("t00001", loss=1.0), interrupt(), result("t00001")]
    controller = run_controller(spec, os.path.join(str(tmp_path), "exp"), ScriptedExecutor(script, slots=1))
    assert controller.trials["t00001"].config == {"x": 0.5}  # restarted, not yet relaunched
    summary = summary_line(stream.getvalue())
    assert summary.startswith("Interrupted exp: 1 trial (1 pending)")  # item 16: not "Finished"
    assert summary.endswith("best loss=1 (t00001, iter 1) x=0.25")


def test_show_mode_without_metric_is_an_error(tmp_path, capsys):
    run(tmp_path, ids=(2,)).fit()
    capsys.readouterr()
    assert cli.main(["show", os.path.join(str(tmp_path), "exp"), "--mode", "max"]) == 2
    err = capsys.readouterr().err
    assert "--mode needs --metric" in err and "metric 'loss' is ranked by its mode 'min'" in err


def test_a_run_that_fails_does_not_say_finished(tmp_path):
    """A component's error ends the run: the summary says Failed, not Finished with trials still running."""
    stream = io.StringIO()
    spec = tunecore.Tuner(
        idle,
        param_space={"x": 0.25},
        tune_config=tunecore.TuneConfig(num_samples=2),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0, stop={"training_iter": 3},
                                      loggers=[ConsoleLogger(verbose=1, stream=stream)]),
    ).spec
    with pytest.raises(tunecore.ConfigError, match="training_iter"):
        run_controller(spec, os.path.join(str(tmp_path), "exp"), ScriptedExecutor([result("t00001")]))
    assert summary_line(stream.getvalue()).startswith("Failed exp: 2 trials")


def nested(config):
    for value in config["values"]:
        tunecore.report({"loss": value, "val": {"acc": 1 - value}})


def test_show_ranks_another_metric_only_with_its_mode_and_reads_nested_fields(tmp_path, capsys):
    tunecore.Tuner(
        nested,
        param_space={"values": tunecore.grid_search([[0.5], [0.2]])},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0),
    ).fit()
    path = os.path.join(str(tmp_path), "exp")
    capsys.readouterr()
    assert cli.main(["show", path, "--metric", "val/acc"]) == 2  # ranked by the experiment's 'min' it was wrong
    assert "--metric val/acc needs --mode min or --mode max" in capsys.readouterr().err
    assert cli.main(["show", path, "--metric", "val/acc", "--mode", "max"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^t00002 .* 0\.8 ", out, re.M)  # the nested value is in the table
    assert re.search(r"^best: t00002 val/acc=0\.8 ", out, re.M)


def test_show_ranks_one_of_several_objectives_by_its_own_mode(tmp_path, capsys):
    tunecore.Tuner(
        nested,
        param_space={"values": tunecore.grid_search([[0.5], [0.2]])},
        tune_config=tunecore.TuneConfig(metric=["loss", "val/acc"], mode=["min", "max"], executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0),
    ).fit()
    capsys.readouterr()
    assert cli.main(["show", os.path.join(str(tmp_path), "exp"), "--metric", "val/acc"]) == 0
    assert re.search(r"^best: t00002 val/acc=0\.8 ", capsys.readouterr().out, re.M)


def numpy_losses(config):
    import numpy as np

    for loss in config["values"]:
        tunecore.report({"loss": np.float32(loss)})


def test_numpy_metric_values_count_like_floats(tmp_path, capsys):
    """np.float32 is a real number: the summary, show and get_best_result rank it (they used to skip it)."""
    grid = tunecore.Tuner(
        numpy_losses,
        param_space={"values": tunecore.grid_search([[0.5], [0.25]])},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", loggers=["console"]),
    ).fit()
    assert grid.get_best_result().trial_id == "t00002"
    assert grid.get_best_result(scope="avg").trial_id == "t00002"
    assert "best loss=0.25 (t00002, iter 1)" in summary_line(capsys.readouterr().err)


def grid_of(*lasts):
    """A grid whose trials (t0, t1, ...) each have one result with these losses."""
    results = [
        tunecore.Result(f"t{i}", {"i": i}, {"loss": loss}, [{"loss": loss}], "TERMINATED", f"/nowhere/t{i}")
        for i, loss in enumerate(lasts)
    ]
    return tunecore.ResultGrid(results, "/nowhere", "loss", "max")


@pytest.mark.parametrize("scope", ["last", "avg", "last-5-avg", "all"])
def test_unfiltered_best_takes_infinity_and_nan_never_wins_whatever_the_order(scope):
    """filter_nan_and_inf=False: +inf is a value like any other (the best in mode max, as in Ray Tune); NaN is
    never better than a number, also when its trial comes first."""
    best = grid_of(math.nan, 1.0, math.inf, 2.0).get_best_result(scope=scope, filter_nan_and_inf=False)
    assert best.trial_id == "t2"
    assert grid_of(math.nan, 1.0).get_best_result(scope=scope, filter_nan_and_inf=False).trial_id == "t1"
    assert grid_of(math.nan, math.nan).get_best_result(scope=scope, filter_nan_and_inf=False).trial_id == "t0"
    assert grid_of(math.nan, 1.0, math.inf).get_best_result(scope=scope).trial_id == "t1"  # filtered: finite only


def test_best_checkpoint_reads_a_nested_metric():
    first, second = tunecore.Checkpoint("/nowhere/a"), tunecore.Checkpoint("/nowhere/b")
    result = tunecore.Result(
        "t0", {}, {}, [], "TERMINATED", "/nowhere",
        best_checkpoints=[(first, {"val": {"acc": 0.9}}), (second, {"val": {"acc": 0.5}})],
    )
    assert result.get_best_checkpoint("val/acc", "max") == first
    assert result.get_best_checkpoint("val/acc", "min") == second
