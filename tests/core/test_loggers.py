"""The json, csv and console loggers, called directly and through a real plugin manager."""

from __future__ import annotations

import builtins
import io
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tunecore
from tunecore.builtin import loggers
from tunecore.builtin.loggers import ConsoleLogger, CsvLogger, JsonLogger
from tunecore.experiment import ExperimentInfo
from tunecore.jsonutil import dumps as dumps_result
from tunecore.trial import Trial, TrialStatus


def make_experiment(tmp_path: Path, verbose: int = 1, metric: str | None = "loss", mode: str | None = "min"):
    return ExperimentInfo("exp", str(tmp_path), metric, mode, spec={"verbose": verbose})


def make_trial(tmp_path: Path, trial_id: str = "t0001", config: dict[str, Any] | None = None) -> Trial:
    path = tmp_path / trial_id
    path.mkdir(exist_ok=True)
    config = {"lr": 0.0031234, "layers": 2} if config is None else config
    return Trial(trial_id, config, TrialStatus.RUNNING, str(path))


def result(iteration: int, trial_id: str = "t0001", **values: Any) -> dict[str, Any]:
    return {**values, "training_iteration": iteration, "trial_id": trial_id, "done": False}


def on_disk(trial: Trial, name: str) -> str:
    return (Path(trial.path) / name).read_text(encoding="utf-8")


class Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- json ---------------------------------------------------------------------------------------------


def test_json_logger_writes_one_line_per_result(tmp_path):
    exp, trial = make_experiment(tmp_path), make_trial(tmp_path)
    logger = JsonLogger()
    logger.tunecore_trial_started(trial)
    assert on_disk(trial, "result.jsonl") == ""  # created at start
    logger.tunecore_trial_result(trial, result(1, loss=0.5, info={"lr": 0.1}))
    logger.tunecore_trial_result(trial, result(2, loss=0.25, info={"lr": 0.1}))
    logger.tunecore_trial_finished(trial)
    assert on_disk(trial, "result.jsonl") == (
        '{"loss": 0.5, "info": {"lr": 0.1}, "training_iteration": 1, "trial_id": "t0001", "done": false}\n'
        '{"loss": 0.25, "info": {"lr": 0.1}, "training_iteration": 2, "trial_id": "t0001", "done": false}\n'
    )
    logger.tunecore_experiment_finished()
    assert exp.path == str(tmp_path)


def test_json_logger_converts_numpy_nan_and_arbitrary_objects(tmp_path):
    trial = make_trial(tmp_path)
    logger = JsonLogger()
    logger.tunecore_trial_started(trial)

    class Thing:
        def __repr__(self) -> str:
            return "<Thing>"

    logger.tunecore_trial_result(
        trial,
        {
            "f32": np.float32(0.5),
            "f64": np.float64(0.25),
            "i64": np.int64(3),
            "flag": np.bool_(True),
            "array": np.arange(3),
            "matrix": np.ones((2, 2), dtype=np.float32),
            "nan": float("nan"),
            "np_nan": np.float32("nan"),
            "inf": np.inf,
            "minus_inf": -math.inf,
            "thing": Thing(),
            "set": {1},
            "tuple": (1, "a"),
            "when": np.datetime64("2024-01-02"),
        },
    )
    logger.tunecore_trial_finished(trial)
    text = on_disk(trial, "result.jsonl")
    assert text == (
        '{"f32": 0.5, "f64": 0.25, "i64": 3, "flag": true, "array": [0, 1, 2], "matrix": [[1.0, 1.0], [1.0, 1.0]],'
        ' "nan": NaN, "np_nan": NaN, "inf": Infinity, "minus_inf": -Infinity, "thing": "<Thing>", "set": "{1}",'
        ' "tuple": [1, "a"], "when": "datetime.date(2024, 1, 2)"}\n'
    )
    back = json.loads(text)
    assert math.isnan(back["nan"]) and back["inf"] == math.inf


def test_json_lines_survive_odd_keys_and_cycles():
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    assert dumps_result({(1, 2): np.int8(1), 3: "x"}) == '{"(1, 2)": 1, "3": "x"}'
    assert dumps_result(cyclic) == '{"a": 1, "self": "<cycle>"}'
    assert dumps_result({"l": [np.float32(1.5), None]}) == '{"l": [1.5, null]}'


def test_writes_are_buffered_and_flushed_at_trial_end(tmp_path):
    trial = make_trial(tmp_path)
    logger = JsonLogger(flush_interval_s=3600)
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, result(1, loss=1.0))
    assert on_disk(trial, "result.jsonl") == ""  # still in the buffer
    logger.tunecore_trial_finished(trial)
    assert on_disk(trial, "result.jsonl").count("\n") == 1


def test_flush_interval_bounds_the_loss_window(tmp_path):
    trial = make_trial(tmp_path)
    logger = JsonLogger(flush_interval_s=0.05)
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, result(1, loss=1.0))
    deadline = time.monotonic() + 10
    while on_disk(trial, "result.jsonl") == "" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert on_disk(trial, "result.jsonl").startswith('{"loss": 1.0')  # flushed while the trial still runs
    logger.tunecore_trial_result(trial, result(2, loss=0.5))
    while on_disk(trial, "result.jsonl").count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert on_disk(trial, "result.jsonl").count("\n") == 2
    logger.tunecore_experiment_finished()
    assert logger._stop is None


def test_flush_interval_zero_flushes_every_result(tmp_path):
    trial = make_trial(tmp_path)
    logger = CsvLogger(flush_interval_s=0)
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, result(1, loss=1.0))
    assert on_disk(trial, "progress.csv") == "loss,training_iteration,trial_id,done\n1.0,1,t0001,False\n"
    logger.tunecore_experiment_finished()


def test_files_are_opened_once_per_trial_not_per_result(tmp_path, monkeypatch):
    opened: list[str] = []

    def counting_open(file, *args, **kwargs):
        opened.append(Path(file).name)
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(loggers, "open", counting_open, raising=False)
    trial = make_trial(tmp_path)
    for logger in (JsonLogger(), CsvLogger()):
        logger.tunecore_trial_started(trial)
        at_start = len(opened)
        for i in range(50):
            logger.tunecore_trial_result(trial, result(i, loss=float(i)))
        assert len(opened) == at_start
        logger.tunecore_trial_finished(trial)
    assert 1 <= opened.count("result.jsonl") <= 2 and 1 <= opened.count("progress.csv") <= 3
    assert on_disk(trial, "result.jsonl").count("\n") == 50
    assert on_disk(trial, "progress.csv").count("\n") == 51


def test_experiment_end_closes_every_file(tmp_path):
    trials = [make_trial(tmp_path, f"t{i}") for i in range(3)]
    logger = JsonLogger(flush_interval_s=3600)
    for trial in trials:
        logger.tunecore_trial_started(trial)
        logger.tunecore_trial_result(trial, result(1, trial.trial_id, loss=1.0))
    handles = list(logger._files.values())
    logger.tunecore_experiment_finished()
    assert all(handle.closed for handle in handles) and not logger._files
    assert all(on_disk(trial, "result.jsonl").count("\n") == 1 for trial in trials)


def test_relaunched_trials_append_and_repair_a_torn_last_line(tmp_path):
    trial = make_trial(tmp_path)
    (Path(trial.path) / "result.jsonl").write_text('{"loss": 1.0}\n{"loss": 0.', encoding="utf-8")  # crashed
    logger = JsonLogger()
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, {"loss": 0.5})
    logger.tunecore_trial_finished(
        trial,
    )
    logger.tunecore_trial_started(trial)  # a retry
    logger.tunecore_trial_result(trial, {"loss": 0.25})
    logger.tunecore_experiment_finished()
    assert on_disk(trial, "result.jsonl") == '{"loss": 1.0}\n{"loss": 0.\n{"loss": 0.5}\n{"loss": 0.25}\n'


def test_many_open_trials_are_capped_and_reopened_on_demand(tmp_path, monkeypatch):
    monkeypatch.setattr(loggers, "MAX_OPEN_FILES", 2)
    trials = [make_trial(tmp_path, f"t{i}") for i in range(4)]
    logger = CsvLogger()
    for trial in trials:  # e.g. paused trials that keep their file
        logger.tunecore_trial_started(trial)
        logger.tunecore_trial_result(trial, result(1, trial.trial_id, loss=1.0))
    assert list(logger._files) == ["t2", "t3"]
    with pytest.warns(UserWarning, match="left out there .*: extra"):
        logger.tunecore_trial_result(trials[0], result(2, "t0", loss=0.5, extra=1))
    assert list(logger._files) == ["t3", "t0"]
    logger.tunecore_experiment_finished()
    assert on_disk(trials[0], "progress.csv") == (
        "loss,training_iteration,trial_id,done\n1.0,1,t0,False\n0.5,2,t0,False\n"
    )


def test_unwritable_trial_dir_warns_once_and_does_not_crash(tmp_path):
    trial = make_trial(tmp_path)
    (tmp_path / "a-file").write_text("not a directory")
    trial.path = str(tmp_path / "a-file" / "dir")
    logger = JsonLogger()
    with pytest.warns(UserWarning, match="cannot write result.jsonl of trial t0001") as caught:
        logger.tunecore_trial_started(trial)
        logger.tunecore_trial_result(trial, result(1, loss=1.0))
        logger.tunecore_trial_finished(trial)
    assert len(caught) == 1
    logger.tunecore_trial_result(Trial("t2", {}), {"loss": 1})  # no path yet: ignored
    logger.tunecore_experiment_finished()


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "1", True])
def test_file_loggers_reject_bad_flush_intervals(bad):
    with pytest.raises(ValueError, match="flush_interval_s"):
        JsonLogger(flush_interval_s=bad)


# --- csv ----------------------------------------------------------------------------------------------


def test_csv_logger_flattens_and_keeps_the_first_columns(tmp_path):
    trial = make_trial(tmp_path)
    other = make_trial(tmp_path, "t0002")
    logger = CsvLogger()
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_started(other)
    logger.tunecore_trial_result(
        trial, {"loss": np.float32(0.5), "info": {"lr": 0.1, "opt": {"beta": 0.9}}, "tags": ["a", 1], "note": "x,y"}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logger.tunecore_trial_result(trial, {"loss": math.nan, "info": {"lr": 0.2, "new": 1}, "acc": np.int64(1)})
        logger.tunecore_trial_result(trial, {"loss": math.inf, "acc": 2, "other": None})  # warned already
        logger.tunecore_trial_result(other, {"a": 1})
        logger.tunecore_trial_result(other, {"a": 2, "b": 3})  # once per trial
    logger.tunecore_experiment_finished()
    assert [str(w.message) for w in caught] == [
        "CsvLogger: trial t0001 reported keys that are not columns of its progress.csv and are left out there"
        " (result.jsonl has them): info/new, acc",
        "CsvLogger: trial t0002 reported keys that are not columns of its progress.csv and are left out there"
        " (result.jsonl has them): b",
    ]
    assert on_disk(trial, "progress.csv").splitlines() == [
        "loss,info/lr,info/opt/beta,tags,note",
        '0.5,0.1,0.9,"[""a"", 1]","x,y"',
        "nan,0.2,,,",
        "inf,,,,",
    ]
    assert on_disk(other, "progress.csv").splitlines() == ["a", "1", "2"]


def test_csv_logger_reuses_the_header_of_a_resumed_trial(tmp_path):
    trial = make_trial(tmp_path)
    logger = CsvLogger()
    logger.tunecore_trial_started(trial)
    logger.tunecore_trial_result(trial, {"loss": 1.0, "it": 1})
    logger.tunecore_trial_finished(trial)
    resumed = CsvLogger()  # e.g. after the experiment was resumed
    resumed.tunecore_trial_started(trial)
    resumed.tunecore_trial_result(trial, {"it": 2, "loss": 0.5})
    resumed.tunecore_experiment_finished()
    assert on_disk(trial, "progress.csv").splitlines() == ["loss,it", "1.0,1", "0.5,2"]


# --- console ------------------------------------------------------------------------------------------


def run_console(tmp_path: Path, logger: ConsoleLogger, verbose: int = 1) -> str:
    """A small experiment: 3 trials, one paused, one failing; one event per simulated second."""
    clock = Clock()
    logger.clock = clock
    stream = io.StringIO()
    logger.stream = stream
    exp = make_experiment(tmp_path, verbose=verbose)
    trials = [make_trial(tmp_path, f"t{i}", {"lr": 0.0031234 * (i + 1), "model": {"layers": i}}) for i in range(3)]
    logger.tunecore_experiment_started(exp)
    for trial in trials:
        logger.tunecore_trial_started(exp, trial)
    losses = {"t0": [0.9, 0.5], "t1": [0.8, math.nan], "t2": [0.7, 0.6]}
    for iteration in (1, 2):
        for trial in trials:
            clock.now += 0.5
            res = result(iteration, trial.trial_id, loss=losses[trial.trial_id][iteration - 1], acc=np.float32(0.25))
            trial.last_result = res
            logger.tunecore_trial_result(exp, trial, res)
    trials[1].status = TrialStatus.PAUSED  # no event for a pause
    clock.now += 1
    trials[0].status = TrialStatus.TERMINATED
    logger.tunecore_trial_finished(exp, trials[0], "TERMINATED", None)
    clock.now += 1
    trials[2].status = TrialStatus.ERROR
    error = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad lr\n'
    logger.tunecore_trial_finished(exp, trials[2], "ERROR", error)
    clock.now += 60
    logger.tunecore_experiment_finished(exp, trials)
    return stream.getvalue()


CONSOLE_VERBOSE_1 = """\
Experiment exp (min loss): results in {path}
[2.0s] 3 running | best loss=0.5 (t0)
t0 TERMINATED iter=2 loss=0.5 | lr=0.003123 model/layers=0
[4.0s] 1 running, 1 paused, 1 terminated | best loss=0.5 (t0)
t2 ERROR      iter=2 loss=0.6 | lr=0.00937 model/layers=2 | ValueError: bad lr
Finished exp: 3 trials (1 paused, 1 terminated, 1 error) in 1:05 | best loss=0.5 (t0, iter 2) lr=0.003123 model/layers=0
"""


def test_console_verbose_1_prints_status_finished_trials_and_a_summary(tmp_path):
    out = run_console(tmp_path, ConsoleLogger())
    assert out == CONSOLE_VERBOSE_1.format(path=tmp_path)


def test_console_verbose_2_also_prints_each_result(tmp_path):
    out = run_console(tmp_path, ConsoleLogger(), verbose=2)
    lines = out.splitlines()
    assert lines[1:4] == [
        "t0 iter=1 loss=0.9 acc=0.25",
        "t1 iter=1 loss=0.8 acc=0.25",
        "t2 iter=1 loss=0.7 acc=0.25",
    ]
    assert "t1 iter=2 loss=nan acc=0.25" in lines
    assert [line for line in lines if not line.startswith(("t0 iter", "t1 iter", "t2 iter"))] == (
        CONSOLE_VERBOSE_1.format(path=tmp_path).splitlines()
    )


def test_console_verbose_0_and_the_option_overriding_the_experiment(tmp_path):
    assert run_console(tmp_path, ConsoleLogger(), verbose=0) == ""
    assert run_console(tmp_path, ConsoleLogger(verbose=0), verbose=2) == ""
    assert run_console(tmp_path, ConsoleLogger(verbose=1), verbose=0) == CONSOLE_VERBOSE_1.format(path=tmp_path)
    assert "t0 iter=1" in run_console(tmp_path, ConsoleLogger(verbose=3), verbose=0)


def test_console_max_mode_no_metric_and_default_verbose(tmp_path):
    stream = io.StringIO()
    logger = ConsoleLogger(stream=stream, status_interval_s=0)
    exp = ExperimentInfo("exp", str(tmp_path), "acc", "max")  # no spec: verbose 1
    trial = make_trial(tmp_path, "a", {})
    logger.tunecore_trial_started(exp, trial)  # no experiment_started (attached late): still works
    for value in (0.5, 0.9, 0.7):
        logger.tunecore_trial_result(exp, trial, {"acc": value})
    logger.tunecore_trial_finished(exp, trial, "TERMINATED", None)
    # "best" compares trials' last results (tunecore.best): 0.7, not the 0.9 the trial reported earlier
    assert stream.getvalue().splitlines()[-2:] == ["a TERMINATED", "[0.0s] 0 running, 1 terminated | best acc=0.7 (a)"]

    stream = io.StringIO()
    logger = ConsoleLogger(stream=stream, status_interval_s=0)
    exp = ExperimentInfo("exp", str(tmp_path), None, None)
    logger.tunecore_trial_result(exp, trial, {"acc": 1})
    logger.tunecore_experiment_finished(exp, [trial])
    assert stream.getvalue().splitlines() == ["[0.0s] 0 running", "Finished exp: 1 trial (1 running) in 0.0s"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_redraws_the_status_line_in_place_on_a_terminal(tmp_path):
    terminal = FakeTerminal()
    logger = ConsoleLogger(stream=terminal, status_interval_s=0)
    logger.clock = Clock()
    exp = make_experiment(tmp_path)
    trial = make_trial(tmp_path, "a", {"x": 1})
    logger.tunecore_trial_started(exp, trial)
    trial.status = TrialStatus.TERMINATED
    logger.tunecore_trial_finished(exp, trial, "TERMINATED", None)
    logger.tunecore_experiment_finished(exp, [trial])
    clear = "\r\x1b[K"
    assert terminal.getvalue() == (
        f"{clear}[0.0s] 1 running"
        f"{clear}a TERMINATED | x=1\n[0.0s] 1 running"  # the finished line goes above the status line
        f"{clear}[0.0s] 0 running, 1 terminated"
        f"{clear}Finished exp: 1 trial (1 terminated) in 0.0s\n"
    )


def test_console_stream_names_and_bad_options(tmp_path, capsys):
    logger = ConsoleLogger(stream="stdout", verbose=1)
    logger.tunecore_experiment_started(make_experiment(tmp_path))
    logger = ConsoleLogger(verbose=1)  # stderr by default
    logger.tunecore_experiment_finished(make_experiment(tmp_path), [])
    captured = capsys.readouterr()
    assert captured.out == f"Experiment exp (min loss): results in {tmp_path}\n"
    assert captured.err.startswith("Finished exp: 0 trials in ")
    for kwargs in ({"verbose": -1}, {"verbose": "2"}, {"status_interval_s": -1}, {"stream": "stdlog"}, {"stream": 3}):
        with pytest.raises(ValueError):
            ConsoleLogger(**kwargs)


def test_console_keeps_counts_and_only_the_running_trials(tmp_path):
    stream = io.StringIO()
    logger = ConsoleLogger(stream=stream, status_interval_s=0)
    logger.clock = Clock()
    exp = make_experiment(tmp_path)
    for i in range(2000):
        trial = Trial(f"t{i}", {"i": i}, TrialStatus.RUNNING, None)
        logger.tunecore_trial_started(exp, trial)
        trial.last_result = {"loss": 1.0 / (i + 1)}
        logger.tunecore_trial_result(exp, trial, trial.last_result)
        trial.status = TrialStatus.TERMINATED
        logger.tunecore_trial_finished(exp, trial, "TERMINATED", None)
    assert logger._running == {}  # only the running trials are kept for the status line
    assert stream.getvalue().splitlines()[-1] == "[0.0s] 0 running, 2000 terminated | best loss=0.0005 (t1999)"


# --- through the plugin manager -----------------------------------------------------------------------


def test_loggers_observe_events_through_a_real_plugin_manager(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugins = tunecore.load_plugins({})
    events = plugins.events
    console = ConsoleLogger(stream=io.StringIO(), status_interval_s=3600)
    json_logger, csv_logger = JsonLogger(flush_interval_s=3600), CsvLogger(flush_interval_s=3600)
    for logger in (json_logger, csv_logger, console):
        events.observe(logger)
    exp = make_experiment(tmp_path, verbose=1)
    trial = make_trial(tmp_path)
    events.experiment_started(exp)
    events.trial_started(exp, trial)
    for i, loss in enumerate([0.5, np.float64(0.25)], start=1):
        res = result(i, loss=loss, info={"lr": np.float32(0.5)})
        trial.last_result = res
        events.trial_result(exp, trial, res)
        events.trial_checkpoint(exp, trial, "checkpoint")
    assert on_disk(trial, "result.jsonl") == ""  # buffered
    trial.status = TrialStatus.TERMINATED
    events.trial_finished(exp, trial, "TERMINATED", None)
    assert on_disk(trial, "result.jsonl") == (
        '{"loss": 0.5, "info": {"lr": 0.5}, "training_iteration": 1, "trial_id": "t0001", "done": false}\n'
        '{"loss": 0.25, "info": {"lr": 0.5}, "training_iteration": 2, "trial_id": "t0001", "done": false}\n'
    )
    assert on_disk(trial, "progress.csv") == (
        "loss,info/lr,training_iteration,trial_id,done\n0.5,0.5,1,t0001,False\n0.25,0.5,2,t0001,False\n"
    )
    events.experiment_finished(exp, [trial])
    assert console.stream.getvalue().splitlines()[1:] == [
        "t0001 TERMINATED iter=2 loss=0.25 | lr=0.003123 layers=2",
        "Finished exp: 1 trial (1 terminated) in 0.0s | best loss=0.25 (t0001, iter 2) lr=0.003123 layers=2",
    ]
    for logger in (json_logger, csv_logger, console):
        events.forget(logger)
