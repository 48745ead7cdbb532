"""The ``tensorboard`` logger, read back with TensorBoard's own reader (``EventAccumulator``) and its HParams
plugin's own parsers: every result's scalars per trial, and each trial's config and status as HParams."""

from __future__ import annotations

import glob
import os
import time

import pytest

import tunecore
from tune_torch.tensorboard import TensorBoardLogger
from tunecore.errors import ComponentError

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="TensorBoard is not installed: pip install 'tune-torch[tensorboard]'",
)
from tensorboard.plugins.hparams import api_pb2, metadata  # noqa: E402

STEPS = 4


def train(config: dict) -> None:
    for step in range(1, STEPS + 1):
        tunecore.report({"loss": config["lr"] / step, "nested": {"acc": step / 10}, "label": "text", "flag": True})
    if config["fail"]:
        raise RuntimeError("the last trial fails")


def run(tmp_path, logger) -> tunecore.ResultGrid:
    return tunecore.Tuner(
        train,
        param_space={
            "lr": tunecore.grid_search([0.1, 0.2, 0.3]),
            "fail": tunecore.sample_from(lambda spec: spec.config["lr"] == 0.3),
            "model": {"width": 8, "act": "relu"},
        },
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[logger]),
    ).fit()


def read(trial_dir: str):
    accumulator = event_accumulator.EventAccumulator(trial_dir, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return accumulator


def test_every_result_and_each_trials_hparams_read_back_with_tensorboard(tmp_path):
    grid = run(tmp_path, {"name": "tensorboard", "flush_interval_s": 5})
    assert len(grid) == 3
    for result in grid:
        assert glob.glob(os.path.join(result.path, "events.out.tfevents.*")), os.listdir(result.path)
        events = read(result.path)
        scalars = events.Tags()["scalars"]
        assert {"loss", "nested/acc", "time_this_iter_s", "time_total_s"} <= set(scalars)
        skipped = {"training_iteration", "done", "timestamp", "trial_id", "pid", "hostname"}
        assert not ({"label", "flag"} | skipped) & set(scalars)
        history = result.metrics_history
        assert [(e.step, e.value) for e in events.Scalars("loss")] == [
            (r["training_iteration"], pytest.approx(r["loss"])) for r in history
        ]
        assert [e.step for e in events.Scalars("nested/acc")] == list(range(1, STEPS + 1))
        assert [e.wall_time for e in events.Scalars("loss")] == [pytest.approx(r["timestamp"]) for r in history]
        content = events.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
        assert start.hparams["lr"].number_value == pytest.approx(result.config["lr"])
        assert start.hparams["model/width"].number_value == 8
        assert start.hparams["model/act"].string_value == "relu"
        assert start.hparams["fail"].bool_value is result.config["fail"]
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        failed = result.config["fail"]
        assert end.status == (api_pb2.STATUS_FAILURE if failed else api_pb2.STATUS_SUCCESS)
        assert metadata.EXPERIMENT_TAG not in content  # TensorBoard builds the experiment from all sessions
    files = glob.glob(str(tmp_path / "**" / "events.out.tfevents.*"), recursive=True)
    assert {os.path.dirname(path) for path in files} == {result.path for result in grid}  # inside trial dirs only


def test_only_the_chosen_metrics_and_no_hparams(tmp_path):
    grid = run(tmp_path, {"name": "tensorboard", "metrics": ["loss", "nested/acc", "missing"], "hparams": False})
    for result in grid:
        events = read(result.path)
        assert set(events.Tags()["scalars"]) == {"loss", "nested/acc"}
        with pytest.raises(KeyError):  # no HParams data at all
            events.PluginTagToContent(metadata.PLUGIN_NAME)


def test_flush_interval_zero_writes_each_result_at_once_and_the_end_flushes_the_rest(tmp_path):
    eager, lazy = TensorBoardLogger(flush_interval_s=0), TensorBoardLogger(flush_interval_s=600)
    trials = [tunecore.Trial(name, {"lr": 0.1}, path=str(tmp_path / name)) for name in ("eager", "lazy")]
    seen: dict[str, list[int]] = {"eager": [], "lazy": []}
    for step in range(1, STEPS + 1):
        for logger, trial in zip((eager, lazy), trials, strict=True):
            logger.tunecore_trial_result(trial, {"loss": 1 / step, "training_iteration": step})
            events = read(trial.path)
            seen[trial.trial_id].append(len(events.Scalars("loss")) if "loss" in events.Tags()["scalars"] else 0)
    assert seen == {"eager": [1, 2, 3, 4], "lazy": [0, 0, 0, 0]}
    lazy.tunecore_experiment_finished()
    assert len(read(trials[1].path).Scalars("loss")) == STEPS


def test_the_flusher_writes_within_the_interval(tmp_path):
    logger = TensorBoardLogger(flush_interval_s=0.1)
    trial = tunecore.Trial("t", {}, path=str(tmp_path))
    logger.tunecore_trial_result(trial, {"loss": 1.0, "training_iteration": 1})
    deadline = time.monotonic() + 5
    while "loss" not in read(trial.path).Tags()["scalars"]:
        assert time.monotonic() < deadline, "the buffered result was never flushed"
        time.sleep(0.05)
    logger.tunecore_experiment_finished()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"flush_interval_s": -1}, "flush_interval_s"),
        ({"metrics": []}, "metrics must be a non-empty list"),
        ({"metrics": "loss"}, "metrics must be a non-empty list"),
        ({"hparams": "yes"}, "hparams must be true or false"),
        ({"flush": 1}, "has no option 'flush'"),
    ],
)
def test_bad_options_are_refused_by_name(tmp_path, options, message):
    with pytest.raises((ComponentError, ValueError), match=message):
        run(tmp_path, {"name": "tensorboard", **options})


def test_the_logger_pickles_its_options_only():
    import pickle

    logger = TensorBoardLogger(metrics=["loss"], flush_interval_s=2)
    copy = pickle.loads(pickle.dumps(logger))
    assert (copy.metrics, copy.flush_interval_s, copy.hparams) == (["loss"], 2.0, True)


@pytest.mark.filterwarnings("ignore:html5lib's sanitizer is deprecated:DeprecationWarning")
def test_tensorboards_hparams_view_compares_the_trials(tmp_path):
    """TensorBoard itself (its web server, on the loopback, in this process) lists one session per trial with
    its config and final metrics: what its HParams tab shows."""
    import json
    import threading
    import urllib.request

    from tensorboard import program

    grid = run(tmp_path, "tensorboard")
    board = program.TensorBoard()
    board.configure(
        argv=[None, "--logdir", str(grid.experiment_path), "--host", "127.0.0.1", "--port", "0", "--load_fast", "false"]
    )
    server = board._make_server()  # launch() would give no way to stop it
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = {
            "experimentName": "",
            "allowedStatuses": ["STATUS_SUCCESS", "STATUS_FAILURE"],
            "colParams": [],
            "startIndex": 0,
            "sliceSize": 10,
        }
        deadline = time.monotonic() + 30
        while True:  # TensorBoard loads the event files in the background
            post = urllib.request.Request(
                server.get_url() + "data/plugin/hparams/session_groups",
                data=json.dumps(request).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(post, timeout=30) as answer:
                groups = json.load(answer)["sessionGroups"]
            if len(groups) == len(grid) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        server.shutdown()
        server.server_close()
    by_name = {group["name"]: group for group in groups}
    assert sorted(by_name) == sorted(result.trial_id for result in grid)
    for result in grid:
        group = by_name[result.trial_id]
        assert group["hparams"]["lr"] == pytest.approx(result.config["lr"])
        assert group["hparams"]["model/act"] == "relu"
        final = {metric["name"]["tag"]: metric["value"] for metric in group["metricValues"]}
        assert final["loss"] == pytest.approx(result.metrics["loss"])
        assert final["nested/acc"] == pytest.approx(result.metrics["nested"]["acc"])
        status = group["sessions"][0]["status"]
        assert status == ("STATUS_FAILURE" if result.config["fail"] else "STATUS_SUCCESS")


def test_a_trial_that_runs_again_gets_a_new_event_file(tmp_path):
    logger = TensorBoardLogger(flush_interval_s=600)
    trial = tunecore.Trial("t", {"lr": 0.1}, path=str(tmp_path))
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, {"loss": 1.0, "training_iteration": 1})
    logger.tunecore_trial_result(trial, {"loss": 0.5, "training_iteration": 2})
    logger.tunecore_trial_started(trial)  # retried (or restarted by PBT) without a pause or an end in between
    first = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert len(first) == 1 and [e.value for e in read(str(tmp_path)).Scalars("loss")] == [1.0, 0.5]  # closed
    logger.tunecore_trial_result(trial, {"loss": 0.25, "training_iteration": 2})
    logger.tunecore_trial_finished(trial, "TERMINATED")
    files = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert len(files) == 2 and set(first) < set(files)
    assert [(e.step, e.value) for e in read(str(tmp_path)).Scalars("loss")][-1] == (2, 0.25)
    logger.tunecore_experiment_finished()
