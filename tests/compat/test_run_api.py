"""Ray Tune's classic API: ``tunecore.run`` and ``ExperimentAnalysis``, through real runs (inline executor).

Each test names the Ray Tune behaviour it checks (from Ray's documentation and source); docs/classic-api.md says
where tunecore differs.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import tunecore
from tunecore.builtin.schedulers import FIFOScheduler
from tunecore.builtin.searchers import RandomSearcher
from tunecore.classic import ResumeRequest

A, B, C = [0.1, 5.0], [2.0, 1.0], [3.0, 4.0, 3.5]
"""The losses each trial reports, in order: A has the best result ever (0.1), B the best last one (1.0), C the
most results; by its last result A is the worst (5.0)."""


def scripted(config: dict[str, Any]) -> None:
    """Report ``config["losses"]`` one by one, with ``val/acc = -loss`` and a checkpoint of the step."""
    for step, loss in enumerate(config["losses"], start=1):
        tunecore.report({"loss": loss, "val": {"acc": -loss}}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))


def run_scripted(tmp_path: Path, *losses: list[float], **options: Any) -> tunecore.ExperimentAnalysis:
    options = {
        "metric": "loss",
        "mode": "min",
        "storage_path": str(tmp_path),
        "name": "exp",
        "verbose": 0,
        "executor": "inline",
        **options,
    }
    return tunecore.run(scripted, {"losses": tunecore.grid_search(list(losses or (A, B, C)))}, **options)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> tunecore.ExperimentAnalysis:
    """One finished experiment of the trials A, B, C (t00001, t00002, t00003), only read by the tests."""
    return run_scripted(tmp_path_factory.mktemp("scripted"))


# -- run() ------------------------------------------------------------------------------------------------


def test_run_keeps_ray_tunes_names_and_returns_an_analysis(analysis, tmp_path):
    """Ray: tune.run(trainable, config, metric=..., mode=..., ...) runs the experiment and returns an
    ExperimentAnalysis; its default metric and mode are those given to run()."""
    names = list(inspect.signature(tunecore.run).parameters)
    assert names == [
        *("trainable", "config", "metric", "mode", "num_samples", "search_alg", "scheduler", "stop"),
        *("resources_per_trial", "max_concurrent_trials", "time_budget_s", "storage_path", "name"),
        *("checkpoint_config", "max_failures", "fail_fast", "resume", "verbose", "callbacks", "seed"),
        *("points_to_evaluate", "executor"),
    ]
    assert inspect.signature(tunecore.run).parameters["verbose"].default == tunecore.RunConfig().verbose
    assert isinstance(analysis, tunecore.ExperimentAnalysis)
    assert (analysis.default_metric, analysis.default_mode) == ("loss", "min")
    assert os.path.basename(analysis.experiment_path) == "exp"
    assert [t.config["losses"] for t in analysis.trials] == [A, B, C]
    assert all(isinstance(t, tunecore.Result) and t.status == "TERMINATED" for t in analysis.trials)
    assert analysis.result_grid.experiment_path == analysis.experiment_path


def test_run_hands_every_setting_to_the_tuner(tmp_path):
    """Ray: run()'s settings (search_alg, scheduler, stop, resources, limits, checkpoints, failures, callbacks,
    points_to_evaluate) apply to the experiment; here each lands in experiment.json or in what the trials see."""

    def train(config):
        context = tunecore.get_context()
        for _ in range(3):
            tunecore.report({"loss": config["x"], "cpu": context.resources["cpu"], "gpu": context.resources["gpu"]})

    class Recorder:
        def __init__(self) -> None:
            self.results: list[str] = []

        def tunecore_trial_result(self, trial, result):
            self.results.append(trial.trial_id)

    recorder = Recorder()
    analysis = tunecore.run(
        train,
        {"x": tunecore.uniform(0, 1)},
        metric="loss",
        mode="max",
        num_samples=3,
        search_alg="random",
        scheduler={"name": "fifo"},
        stop={"training_iteration": 2},
        resources_per_trial={"cpu": 2, "gpu": 0.5},
        max_concurrent_trials=2,
        time_budget_s=60,
        storage_path=tmp_path,
        name="all",
        checkpoint_config=tunecore.CheckpointConfig(num_to_keep=2),
        max_failures=3,
        fail_fast=True,
        verbose=0,
        callbacks=[recorder],
        seed=7,
        points_to_evaluate=[{"x": 0.25}],
        executor="inline",
    )
    spec = json.loads((tmp_path / "all" / "experiment.json").read_text())
    assert (spec["metric"], spec["mode"], spec["num_samples"], spec["seed"]) == ("loss", "max", 3, 7)
    assert spec["searcher"] == {"name": "random", "points_to_evaluate": [{"x": 0.25}]}
    assert spec["scheduler"] == {"name": "fifo"} and spec["executor"] == {"name": "inline"}
    assert (spec["max_concurrent_trials"], spec["time_budget_s"], spec["stop"]) == (2, 60, {"training_iteration": 2})
    assert spec["checkpoint_config"]["num_to_keep"] == 2
    assert spec["failure_config"] == {"max_failures": 3, "fail_fast": True}
    assert spec["verbose"] == 0
    assert analysis.trials[0].config == {"x": 0.25}
    assert [len(t.metrics_history) for t in analysis.trials] == [2, 2, 2]
    assert {(t.metrics["cpu"], t.metrics["gpu"]) for t in analysis.trials} == {(2.0, 0.5)}
    assert recorder.results == [t.trial_id for t in analysis.trials for _ in range(2)]
    again = tunecore.run(
        train,
        {"x": tunecore.uniform(0, 1)},
        num_samples=3,
        seed=7,
        storage_path=tmp_path,
        name="again",
        points_to_evaluate=[{"x": 0.25}],
        verbose=0,
        executor="inline",
    )
    assert [t.config for t in again.trials] == [t.config for t in analysis.trials]  # the seed counts


def test_search_alg_and_scheduler_may_be_instances(tmp_path):
    """Ray: search_alg and scheduler are searcher / scheduler objects (tunecore: also names and mappings)."""
    analysis = run_scripted(
        tmp_path, A, search_alg=RandomSearcher(points_to_evaluate=[{"losses": B}]), scheduler=FIFOScheduler()
    )
    spec = json.loads((tmp_path / "exp" / "experiment.json").read_text())
    assert spec["searcher"] == {"instance": "tunecore.builtin.searchers:RandomSearcher"}
    assert spec["scheduler"] == {"instance": "tunecore.builtin.schedulers:FIFOScheduler"}
    assert [t.config["losses"] for t in analysis.trials] == [B]


FAILURES: dict[int, int] = {}
"""``x`` -> how many more times :func:`flaky` fails at its step 2 for that ``x``."""
STARTS: list[tuple[int, int | None]] = []
"""Every start of :func:`flaky`: ``(x, the step of the checkpoint it started from, or None)``."""


def flaky(config: dict[str, Any]) -> None:
    """Three steps of ``loss = x * step``, each checkpointed; fails at step 2 while ``FAILURES[x]`` says so."""
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else None
    STARTS.append((config["x"], start))
    for step in range((start or 0) + 1, 4):
        if step == 2 and FAILURES.get(config["x"], 0) > 0:
            FAILURES[config["x"]] -= 1
            raise RuntimeError("boom")
        tunecore.report({"loss": config["x"] * step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))


@pytest.fixture
def flaky_runs(tmp_path):
    """``run(**options)`` of :func:`flaky` over x = 1, 2, 3, in ``tmp_path/exp``; FAILURES and STARTS emptied."""
    FAILURES.clear()
    STARTS.clear()

    def run(**options: Any) -> tunecore.ExperimentAnalysis:
        options = {
            "metric": "loss",
            "mode": "min",
            "storage_path": tmp_path,
            "name": "exp",
            "verbose": 0,
            "executor": "inline",
            **options,
        }
        return tunecore.run(flaky, {"x": tunecore.grid_search([1, 2, 3])}, **options)

    yield run
    FAILURES.clear()
    STARTS.clear()


def test_max_failures_retries_a_trial_from_its_checkpoint(flaky_runs):
    """Ray: max_failures=N retries a failed trial up to N times from its latest checkpoint; 0 = no retry."""
    FAILURES.update({1: 1})
    analysis = flaky_runs(max_failures=1)
    assert [t.status for t in analysis.trials] == ["TERMINATED"] * 3
    assert STARTS.count((1, None)) == 1 and (1, 1) in STARTS  # retried once, from its checkpoint of step 1
    FAILURES.update({1: 1})
    again = flaky_runs(name="again")
    assert [t.status for t in again.trials] == ["ERROR", "TERMINATED", "TERMINATED"]
    assert "RuntimeError: boom" in (again.trials[0].error or "")


def test_resume_true_continues_the_experiment_of_that_name(flaky_runs, tmp_path):
    """Ray: resume=True continues the experiment storage_path/name where it stopped: finished trials are not run
    again, ERROR trials stay failed; "+ERRORED" runs them again from their checkpoint; a finished experiment
    resumed runs nothing."""
    FAILURES.update({2: 1})
    first = flaky_runs(fail_fast=True)  # stops at t00002's failure: t00003 is never created
    assert [t.status for t in first.trials] == ["TERMINATED", "ERROR"]
    STARTS.clear()
    resumed = flaky_runs(resume=True)
    assert resumed.experiment_path == first.experiment_path and not (tmp_path / "exp_2").exists()
    assert [t.status for t in resumed.trials] == ["TERMINATED", "ERROR", "TERMINATED"]
    assert STARTS == [(3, None)]
    STARTS.clear()
    errored = flaky_runs(resume="AUTO+ERRORED")
    assert STARTS == [(2, 1)]  # from its checkpoint of step 1
    assert [t.status for t in errored.trials] == ["TERMINATED"] * 3
    assert [r["loss"] for r in errored.trials[1].metrics_history] == [2, 4, 6]
    assert errored.best_config == {"x": 1}
    STARTS.clear()
    done = flaky_runs(resume=True)
    assert STARTS == [] and [t.status for t in done.trials] == ["TERMINATED"] * 3


def test_resume_restart_errored_runs_errored_trials_from_scratch(flaky_runs):
    """Ray: resume="LOCAL+RESTART_ERRORED" starts the ERROR trials again from scratch."""
    FAILURES.update({2: 1})
    flaky_runs(fail_fast=True)
    STARTS.clear()
    resumed = flaky_runs(resume="local+restart_errored")
    assert sorted(STARTS) == [(2, None), (3, None)]
    assert [t.status for t in resumed.trials] == ["TERMINATED"] * 3


def test_resume_auto_starts_what_does_not_exist_and_continues_what_does(flaky_runs, tmp_path):
    """Ray: resume="AUTO" resumes the experiment when it exists, else starts it; resume=False starts a new one
    (tunecore never writes into an existing experiment: it takes the name exp_2)."""
    started = flaky_runs(resume="AUTO")
    assert len(STARTS) == 3 and [t.status for t in started.trials] == ["TERMINATED"] * 3
    STARTS.clear()
    again = flaky_runs(resume="AUTO")
    assert STARTS == [] and again.experiment_path == started.experiment_path
    new = flaky_runs()
    assert new.experiment_path == str(tmp_path / "exp_2") and len(STARTS) == 3


def test_resume_may_raise_num_samples(tmp_path):
    """Ray: a resumed experiment continues with its search state; tunecore: num_samples may be raised."""

    def train(config):
        tunecore.report({"loss": config["x"]})

    options = {"storage_path": tmp_path, "name": "exp", "verbose": 0, "executor": "inline", "seed": 3}
    first = tunecore.run(train, {"x": tunecore.uniform(0, 1)}, num_samples=2, **options)
    more = tunecore.run(train, {"x": tunecore.uniform(0, 1)}, num_samples=4, resume=True, **options)
    assert [t.config for t in more.trials[:2]] == [t.config for t in first.trials]
    assert len(more.trials) == 4 and len({t.config["x"] for t in more.trials}) == 4


def test_resume_without_an_experiment_to_resume_is_an_error(tmp_path):
    """Ray: resume=True without a checkpoint to resume raises (a ValueError); tunecore says which experiment."""
    with pytest.raises(tunecore.TuneError, match=r"no experiment 'exp' to resume in .*resume='AUTO'"):
        run_scripted(tmp_path, resume=True)
    assert not (tmp_path / "exp").exists()
    with pytest.raises(tunecore.ConfigError, match=r"run\(resume=True\) needs the name of the experiment"):
        run_scripted(tmp_path, resume=True, name=None)


@pytest.mark.parametrize(
    "resume, expected",
    [
        (False, None),
        (True, ResumeRequest()),
        ("LOCAL", ResumeRequest()),
        ("auto", ResumeRequest(auto=True)),
        ("AUTO+ERRORED", ResumeRequest(auto=True, resume_errored=True)),
        ("LOCAL+RESTART_ERRORED", ResumeRequest(restart_errored=True)),
        ("AUTO+ERRORED_ONLY", ResumeRequest(auto=True, resume_unfinished=False, resume_errored=True)),
        ("LOCAL+RESTART_ERRORED_ONLY", ResumeRequest(resume_unfinished=False, restart_errored=True)),
    ],
)
def test_resume_values_map_to_the_restore_options(resume, expected):
    """Ray: resume is True, False, "LOCAL", "AUTO"..., with an optional +ERRORED, +RESTART_ERRORED, +ERRORED_ONLY
    or +RESTART_ERRORED_ONLY (the _ONLY forms do not continue the other unfinished trials)."""
    assert ResumeRequest.parse(resume) == expected


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"resume": "REMOTE"}, tunecore.ConfigError, "tunecore has no remote resume"),
        ({"resume": "AUTO+SOMETIMES"}, tunecore.ConfigError, r"run\(resume=...\) must be True, False"),
        ({"resume": 1}, tunecore.ConfigError, r"run\(resume=...\) must be True, False"),
        ({"resources_per_trial": {"gpu": 1.5}}, tunecore.ConfigError, r"run\(resources_per_trial=...\).*whole"),
        ({"resources_per_trial": 2}, tunecore.ConfigError, r"run\(resources_per_trial=...\) needs a dict"),
        ({"fail_fast": "raise"}, tunecore.ConfigError, r"fail_fast='raise'\) is not supported"),
        ({"fail_fast": 1}, tunecore.ConfigError, r"fail_fast=...\) must be True or False"),
        ({"callbacks": object()}, tunecore.ConfigError, r"callbacks=...\) must be a list"),
        ({"points_to_evaluate": {"losses": A}}, tunecore.ConfigError, "must be a list of .*config dicts"),
        (
            {"points_to_evaluate": [{"losses": A}], "search_alg": RandomSearcher()},
            tunecore.ConfigError,
            "pass points_to_evaluate to the searcher's constructor",
        ),
        (
            {"points_to_evaluate": [{"losses": A}], "search_alg": {"name": "random", "points_to_evaluate": []}},
            tunecore.ConfigError,
            "given both in search_alg and to run",
        ),
        ({"mode": None}, tunecore.ConfigError, "has metric 'loss' but no mode"),
        ({"num_samples": 0}, tunecore.ConfigError, "num_samples must be a positive integer"),
        ({"max_failures": -2}, tunecore.ConfigError, "max_failures must be an integer >= -1"),
        ({"search_alg": "no_such_searcher"}, tunecore.ComponentError, "no_such_searcher"),
        ({"local_dir": "/tmp"}, TypeError, "local_dir"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(tmp_path, options, error, message):
    """Ray raises on each of these too (ValueError, or TypeError for an unknown keyword); tunecore's ConfigError
    is a ValueError, and nothing is left in storage_path."""
    with pytest.raises(error, match=message):
        run_scripted(tmp_path, **options)
    assert not (tmp_path / "exp").exists()


def test_bad_config_and_doubled_resources_are_refused(tmp_path):
    """Ray: config is a dict; resources given both with tune.with_resources and resources_per_trial is an error."""
    with pytest.raises(tunecore.ConfigError, match=r"run\(config=...\) is the search space, a dict, got list"):
        tunecore.run(scripted, [A], storage_path=tmp_path, verbose=0)
    wrapped = tunecore.with_resources(scripted, {"cpu": 1})
    with pytest.raises(tunecore.ConfigError, match="has resources already"):
        tunecore.run(wrapped, {"losses": A}, resources_per_trial={"cpu": 2}, storage_path=tmp_path, verbose=0)
    assert list(tmp_path.iterdir()) == []


# -- ExperimentAnalysis -----------------------------------------------------------------------------------


def test_best_properties_follow_the_one_rule_of_best(analysis):
    """Ray: best_trial, best_config, best_result, best_logdir, best_dataframe, best_result_df and best_checkpoint
    use the metric and mode given to run(), comparing each trial's last result (tunecore: ResultGrid's rule)."""
    assert analysis.best_trial is not None
    assert analysis.best_trial.trial_id == analysis.result_grid.get_best_result().trial_id == "t00002"
    assert analysis.best_config == {"losses": B}
    assert analysis.best_result["loss"] == 1.0 and analysis.best_result["val"] == {"acc": -1.0}
    assert analysis.best_logdir == analysis.best_trial.path and analysis.best_logdir.endswith("t00002")
    assert list(analysis.best_dataframe["loss"]) == B
    assert analysis.best_dataframe is analysis.trial_dataframes["t00002"]
    assert list(analysis.best_result_df.index) == ["t00002"] and analysis.best_result_df["val/acc"].iloc[0] == -1.0
    assert analysis.best_checkpoint is not None and analysis.best_checkpoint.to_dict() == {"step": 2}


def test_get_best_trial_and_config_take_metric_mode_scope_and_nan_filter(analysis, tmp_path):
    """Ray: get_best_trial(metric, mode, scope="last", filter_nan_and_inf=True) — scope "all" ranks each trial by
    its best result; NaN/inf never win unless filter_nan_and_inf=False; None when no trial has the metric."""
    assert analysis.get_best_trial().trial_id == "t00002"
    assert analysis.get_best_trial(scope="all").trial_id == "t00001"
    assert analysis.get_best_trial("loss", "max").trial_id == "t00001"
    assert analysis.get_best_trial("val/acc", "max").trial_id == "t00002"  # nested, as "outer/inner"
    assert analysis.get_best_trial("loss", "min", scope="avg").trial_id == "t00002"
    assert analysis.get_best_config("loss", "max", scope="last") == {"losses": A}
    assert analysis.get_best_config(scope="all") == {"losses": A}
    assert analysis.get_best_trial("no_such_metric", "min") is None
    assert analysis.get_best_config("no_such_metric", "min") is None
    with pytest.warns(tunecore.MetricWarning):
        infinite = run_scripted(tmp_path, [math.inf], A, mode="max")
    assert infinite.best_trial.trial_id == "t00002"
    assert infinite.get_best_trial(filter_nan_and_inf=False).trial_id == "t00001"
    with pytest.raises(tunecore.ConfigError, match="scope must be one of last, all"):
        analysis.get_best_trial(scope="first")
    with pytest.raises(tunecore.ConfigError, match="needs mode='min' or 'max'"):
        analysis.get_best_trial("loss", "lowest")


def test_dataframe_rows_are_last_results_or_each_trials_best(analysis):
    """Ray: dataframe() has one row per trial, its last result with config/ columns and logdir;
    dataframe(metric, mode) takes each trial's best result over its history instead (no defaults used)."""
    frame = analysis.dataframe()
    assert list(frame["trial_id"]) == ["t00001", "t00002", "t00003"]
    assert list(frame["loss"]) == [5.0, 1.0, 3.5] and list(frame["val/acc"]) == [-5.0, -1.0, -3.5]
    assert list(frame["config/losses"]) == [A, B, C]
    assert list(frame["logdir"]) == list(frame["path"]) == [t.path for t in analysis.trials]
    best = analysis.dataframe(metric="loss", mode="min")
    assert list(best["loss"]) == [0.1, 1.0, 3.0] and list(best["training_iteration"]) == [1, 2, 1]
    highest = analysis.dataframe(metric="loss", mode="max")
    assert list(highest["loss"]) == [5.0, 2.0, 4.0]
    with pytest.raises(tunecore.ConfigError, match="dataframe needs metric and mode together"):
        analysis.dataframe(metric="loss")


def test_result_grid_get_dataframe_filters_by_metric_and_mode(analysis, monkeypatch):
    """Ray: ResultGrid.get_dataframe(filter_metric, filter_mode) gives, for each trial, the result where the
    metric is best (the last results without them); nested metrics are "outer/inner" columns."""
    grid = analysis.result_grid
    assert list(grid.get_dataframe()["loss"]) == [5.0, 1.0, 3.5]
    assert list(grid.get_dataframe(filter_metric="loss", filter_mode="min")["loss"]) == [0.1, 1.0, 3.0]
    assert list(grid.get_dataframe(filter_metric="val/acc", filter_mode="max")["loss"]) == [0.1, 1.0, 3.0]
    assert "logdir" not in grid.get_dataframe().columns
    for bad, message in [
        ({"filter_metric": "loss"}, "filter_metric and filter_mode together"),
        ({"filter_mode": "min"}, "filter_metric and filter_mode together"),
        ({"filter_metric": "loss", "filter_mode": "lowest"}, "filter_mode must be 'min' or 'max'"),
        ({"filter_metric": "", "filter_mode": "min"}, "filter_metric must be a result field name"),
    ]:
        with pytest.raises(tunecore.ConfigError, match=message):
            grid.get_dataframe(**bad)
    monkeypatch.setitem(sys.modules, "pandas", None)  # without pandas: lists of dicts
    rows = grid.get_dataframe(filter_metric="loss", filter_mode="max")
    assert [(row["trial_id"], row["loss"]) for row in rows] == [("t00001", 5.0), ("t00002", 2.0), ("t00003", 4.0)]
    assert [row["logdir"] for row in analysis.dataframe()] == [t.path for t in analysis.trials]


def test_a_trial_without_a_finite_value_keeps_its_last_result(tmp_path):
    """tunecore: in get_dataframe(filter_metric, filter_mode) a trial with no finite value of the metric keeps its
    last result (NaN and ±inf never count as best, as everywhere)."""
    with pytest.warns(tunecore.MetricWarning):
        analysis = run_scripted(tmp_path, [math.inf, math.nan], A)
    rows = analysis.dataframe(metric="loss", mode="min")
    assert math.isnan(rows["loss"][0]) and rows["training_iteration"][0] == 2 and rows["loss"][1] == 0.1


def test_results_results_df_and_trial_dataframes(analysis):
    """Ray: results is {trial_id: last result}; results_df the flattened last results indexed by trial_id;
    trial_dataframes {trial_id: every result of the trial} (Ray 2.7+ keys by trial id)."""
    assert analysis.results == {
        "t00001": analysis.trials[0].metrics,
        "t00002": analysis.trials[1].metrics,
        "t00003": analysis.trials[2].metrics,
    }
    assert [result["loss"] for result in analysis.results.values()] == [5.0, 1.0, 3.5]
    frame = analysis.results_df
    assert list(frame.index) == ["t00001", "t00002", "t00003"] and list(frame["val/acc"]) == [-5.0, -1.0, -3.5]
    frames = analysis.trial_dataframes
    assert list(frames) == ["t00001", "t00002", "t00003"]
    assert [list(frames[t]["loss"]) for t in frames] == [A, B, C]
    assert list(frames["t00003"]["training_iteration"]) == [1, 2, 3] and "val/acc" in frames["t00003"].columns


def test_tables_without_pandas_are_lists_of_dicts(analysis, monkeypatch):
    """tunecore: like ResultGrid.get_dataframe, the tables are lists of dicts when pandas is not installed."""
    fresh = tunecore.ExperimentAnalysis(analysis.experiment_path)
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert [row["trial_id"] for row in fresh.results_df] == ["t00001", "t00002", "t00003"]
    assert [row["loss"] for row in fresh.trial_dataframes["t00003"]] == C
    (row,) = fresh.best_result_df
    assert row["trial_id"] == "t00002" and row["val/acc"] == -1.0 and "val" not in row


def test_a_trial_that_reported_nothing_has_an_empty_history(tmp_path):
    """Ray: a trial without results has an empty DataFrame in trial_dataframes; tunecore lists it everywhere, with
    an empty last result."""

    def train(config):
        if config["fail"]:
            raise RuntimeError("at once")
        tunecore.report({"loss": 1.0})

    options = {"metric": "loss", "mode": "min", "verbose": 0, "executor": "inline"}
    grid = tunecore.grid_search([True, False])
    analysis = tunecore.run(train, {"fail": grid}, storage_path=tmp_path, name="exp", **options)
    assert [t.status for t in analysis.trials] == ["ERROR", "TERMINATED"]
    assert analysis.results["t00001"] == {} and len(analysis.trial_dataframes["t00001"]) == 0
    assert list(analysis.results_df.index) == ["t00001", "t00002"]
    assert list(analysis.dataframe("loss", "min")["status"]) == ["ERROR", "TERMINATED"]
    assert analysis.best_trial.trial_id == "t00002" and analysis.stats()["trials"] == {"ERROR": 1, "TERMINATED": 1}


def test_get_all_configs_and_stats(analysis):
    """Ray: get_all_configs(prefix=False) maps trial ids to configs, prefix=True flattens them to config/...;
    stats() describes the experiment (tunecore: its state, times and trials by status)."""
    assert analysis.get_all_configs() == {"t00001": {"losses": A}, "t00002": {"losses": B}, "t00003": {"losses": C}}
    assert analysis.get_all_configs(prefix=True)["t00003"] == {"config/losses": C}
    stats = analysis.stats()
    assert stats["state"] == "finished" and stats["num_trials"] == 3 and stats["trials"] == {"TERMINATED": 3}
    assert stats["start_time"] <= stats["timestamp"] and stats["duration_s"] >= 0
    assert stats["timestamp"] == pytest.approx(stats["start_time"] + stats["duration_s"])


def test_get_best_checkpoint_and_last_checkpoint(analysis):
    """Ray: get_best_checkpoint(trial, metric=None, mode=None) is the trial's checkpoint with the best metric
    (default: the default metric, else training_iteration); get_last_checkpoint(trial=None) the latest one of the
    trial (default: the one with the most iterations). A trial is a trial object, an id or its directory."""
    first = analysis.trials[0]
    assert analysis.get_best_checkpoint(first).to_dict() == {"step": 1}  # loss 0.1
    assert analysis.get_best_checkpoint(first, "loss", "max").to_dict() == {"step": 2}
    assert analysis.get_best_checkpoint("t00001", "val/acc", "min").to_dict() == {"step": 2}
    assert analysis.get_best_checkpoint(first.path).to_dict() == {"step": 1}
    view = tunecore.Trial(trial_id="t00003", config={})
    assert analysis.get_best_checkpoint(view, "training_iteration", "max").to_dict() == {"step": 3}
    assert analysis.get_last_checkpoint().to_dict() == {"step": 3}  # t00003, the longest
    assert analysis.get_last_checkpoint(first).to_dict() == {"step": 2}
    with pytest.raises(tunecore.ConfigError, match=r"has no trial 't00009' \(its trials: t00001, t00002, t00003\)"):
        analysis.get_best_checkpoint("t00009")
    with pytest.raises(tunecore.ConfigError, match=r"a trial is a tunecore\.Result"):
        analysis.get_best_checkpoint(3)


def test_experiment_analysis_loads_a_path_with_the_experiments_metric_or_given_defaults(analysis):
    """Ray: ExperimentAnalysis(path, default_metric=None, default_mode=None) loads an experiment from its
    directory; tunecore uses the experiment's own metric and mode when no defaults are given."""
    loaded = tunecore.ExperimentAnalysis(analysis.experiment_path)
    assert (loaded.default_metric, loaded.default_mode) == ("loss", "min")
    assert [t.metrics_history for t in loaded.trials] == [t.metrics_history for t in analysis.trials]
    assert loaded.best_config == analysis.best_config
    other = tunecore.ExperimentAnalysis(Path(analysis.experiment_path), default_metric="loss", default_mode="max")
    assert other.best_config == {"losses": A} and other.best_checkpoint.to_dict() == {"step": 2}
    with pytest.raises(tunecore.ConfigError, match="default_mode must be 'min', 'max' or None"):
        tunecore.ExperimentAnalysis(analysis.experiment_path, default_metric="loss", default_mode="lowest")
    with pytest.raises(tunecore.TuneError, match="not a tunecore experiment directory"):
        tunecore.ExperimentAnalysis(os.path.dirname(analysis.experiment_path))


def test_properties_without_a_metric_and_mode_say_how_to_set_them(tmp_path):
    """Ray: best_* without metric and mode given to tune.run() raise, saying to pass them (a ValueError)."""
    analysis = run_scripted(tmp_path, A, B, metric=None, mode=None)
    assert (analysis.default_metric, analysis.default_mode) == (None, None)
    for name in (
        "best_trial",
        "best_config",
        "best_result",
        "best_result_df",
        "best_dataframe",
        "best_logdir",
        "best_checkpoint",
    ):
        with pytest.raises(
            tunecore.ConfigError,
            match=rf"ExperimentAnalysis.{name} needs a default metric and mode:"
            r" pass metric=\.\.\. and mode='min' or 'max' to tunecore.run\(\)",
        ):
            getattr(analysis, name)
    with pytest.raises(tunecore.ConfigError, match="get_best_trial needs a metric"):
        analysis.get_best_trial()
    with pytest.raises(tunecore.ConfigError, match="get_best_checkpoint needs mode='min' or 'max'"):
        analysis.get_best_checkpoint("t00001")
    assert analysis.get_best_config("loss", "min") == {"losses": B}  # given explicitly, they work
    assert analysis.get_best_checkpoint("t00001", mode="max").to_dict() == {"step": 2}  # training_iteration
    metric_only = tunecore.ExperimentAnalysis(analysis.experiment_path, default_metric="loss")
    assert metric_only.get_best_trial(mode="max").trial_id == "t00001"
    with pytest.raises(tunecore.ConfigError, match="best_config needs a default metric and mode"):
        getattr(metric_only, "best_config")  # noqa: B009


def test_best_properties_with_no_finite_value_say_so(tmp_path):
    """Ray: best_trial is None when no trial has a value of the metric; tunecore's best_result and the others
    that need a trial raise a TuneError naming the metric."""
    analysis = run_scripted(tmp_path, A, metric="val/nope", mode="min")
    assert analysis.best_trial is None and analysis.best_config is None
    with pytest.raises(tunecore.TuneError, match="no trial reported a finite value for metric 'val/nope'"):
        getattr(analysis, "best_result")  # noqa: B009


class FinishRecorder:
    """A callback noting the trials that finish."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def tunecore_trial_finished(self, trial) -> None:
        self.seen.append(trial.trial_id)


def test_resume_uses_the_callbacks_it_is_given(tmp_path):
    """As Ray Tune: run(resume=True, callbacks=[...]) gives the resumed run's events to those callbacks (they
    were silently replaced by the first run's pickled copies; found in review)."""
    options = {"config": {"x": tunecore.uniform(0, 1)}, "storage_path": str(tmp_path), "name": "e", "verbose": 0}
    tunecore.run(lambda c: tunecore.report({"loss": c["x"]}), num_samples=1, executor="inline", **options)
    recorder = FinishRecorder()
    analysis = tunecore.run(
        lambda c: tunecore.report({"loss": c["x"]}),
        num_samples=3,
        executor="inline",
        resume=True,
        callbacks=[recorder],
        **options,
    )
    assert len(analysis.trials) == 3
    assert recorder.seen == ["t00002", "t00003"]
