"""The console logger's progress: a live view on a (pseudo-)terminal, lines through a pipe, Jupyter, verbose 0-3."""

from __future__ import annotations

import io
import os
import pickle
import re
import select
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

import tunecore
from tunecore.builtin import console
from tunecore.builtin.console import ConsoleLogger, planned_trials
from tunecore.experiment import ExperimentInfo
from tunecore.formatting import format_value
from tunecore.trial import Trial, TrialStatus

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]")
HEADER = re.compile(r"^pty  \d+/3 done", re.MULTILINE)
"""The first line of the live view (one per redraw) of the pseudo-terminal runs below."""


RICH_ENV = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "COLUMNS", "LINES")
"""Variables that change what rich draws."""


@pytest.fixture(autouse=True)
def terminal_env(monkeypatch):
    """The same terminal for every test, whatever the environment the tests run in (CI may set TERM=dumb)."""
    for name in RICH_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")


class Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def experiment(tmp_path: Path, **spec: Any) -> ExperimentInfo:
    return ExperimentInfo("exp", str(tmp_path), "loss", "min", spec={"verbose": 1, **spec})


class Driver:
    """Sends a logger the events of trials that report one result per ``step`` fake seconds."""

    def __init__(self, logger: ConsoleLogger, exp: ExperimentInfo, step: float = 0.1) -> None:
        self.logger, self.exp, self.step = logger, exp, step
        self.clock = Clock()
        logger.clock = self.clock
        self.trials: dict[str, Trial] = {}

    def start(self, trial_id: str, **config: Any) -> None:
        self.trials[trial_id] = trial = Trial(trial_id, config, TrialStatus.RUNNING, None)
        self.logger.tunecore_trial_started(self.exp, trial)

    def report(self, trial_id: str, loss: float) -> None:
        self.clock.now += self.step
        trial = self.trials[trial_id]
        iteration = (trial.last_result or {}).get("training_iteration", 0) + 1
        result = {"loss": loss, "training_iteration": iteration, "trial_id": trial_id}
        self.trials[trial_id] = trial = attrs.evolve(trial, last_result=result)
        self.logger.tunecore_trial_result(self.exp, trial, result)

    def finish(self, trial_id: str, status: str = "TERMINATED") -> None:
        self.trials[trial_id] = trial = attrs.evolve(self.trials[trial_id], status=TrialStatus(status))
        self.logger.tunecore_trial_finished(self.exp, trial, status, None)

    def end(self) -> None:
        self.logger.tunecore_experiment_finished(self.exp, list(self.trials.values()))


# --- what the trials add up to ----------------------------------------------------------------------


def test_planned_trials_are_num_samples_times_the_grid_points():
    grid = {"a": {"grid_search": [1, 2]}, "b": {"c": {"grid_search": {"values": [1, 2, 3]}}}, "d": {"choice": [1, 2]}}
    assert planned_trials({"num_samples": 2, "param_space": grid}) == 12
    assert planned_trials({"num_samples": 4, "param_space": {"x": {"uniform": [0, 1]}}}) == 4
    assert planned_trials({"num_samples": -1, "param_space": grid}) is None
    assert planned_trials({}) is None


# --- through a pipe (not a terminal) ------------------------------------------------------------------


def test_through_a_pipe_one_line_per_finished_trial_and_a_heartbeat_every_30_s(tmp_path):
    stream = io.StringIO()
    driver = Driver(ConsoleLogger(stream=stream), experiment(tmp_path, num_samples=4), step=1.0)
    driver.logger.tunecore_experiment_started(driver.exp)
    driver.start("t1", lr=0.1)
    driver.start("t2", lr=0.2)
    for i in range(40):  # 40 fake seconds: one heartbeat, at 30 s
        driver.report("t1" if i % 2 else "t2", loss=1.0 / (i + 1))
    driver.finish("t1")
    driver.finish("t2", "ERROR")
    driver.end()
    lines = stream.getvalue().splitlines()
    assert lines == [
        f"Experiment exp (min loss): results in {tmp_path}",
        "[30.0s] 0/4 done | 2 running | best loss=0.03333 (t1)",
        "t1 TERMINATED iter=20 loss=0.025 | lr=0.1",
        "t2 ERROR      iter=20 loss=0.02564 | lr=0.2",
        "Finished exp: 2 trials (1 terminated, 1 error) in 40.0s | best loss=0.025 (t1, iter 20) lr=0.1",
    ]
    assert "\x1b" not in stream.getvalue()


def loss_is_x(config):
    tunecore.report({"loss": config["x"]})


HEARTBEAT = re.compile(r"^\[[^]]+\] (\d+)/(\d+) done \| ([^|]+?) (?:\| ETA [^|]+ )?(?:\| best loss=(\S+) \((t\d+)\))?$")


def test_after_a_resume_the_progress_counts_every_trial_of_the_experiment(tmp_path, capsys):
    """The resumed run reads the trials of the earlier runs from the journal: done/total and the best count them."""
    tunecore.Tuner(
        loss_is_x,
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=2, seed=0, executor="inline"),
        run_config=tunecore.RunConfig(
            storage_path=str(tmp_path), name="exp", verbose=1, loggers=[ConsoleLogger(status_interval_s=0)]
        ),
    ).fit()
    capsys.readouterr()
    earlier = tunecore.ResultGrid.from_path(tmp_path / "exp").get_best_result()
    grid = tunecore.Tuner.restore(tmp_path / "exp", num_samples=4).fit()
    beats = [m.groups() for line in capsys.readouterr().err.splitlines() if (m := HEARTBEAT.match(line))]
    assert beats[0][:3] == ("2", "4", "1 running, 2 terminated")  # the first heartbeat, as t00003 starts
    assert beats[0][3:] == (format_value(earlier.metrics["loss"]), earlier.trial_id)
    best = grid.get_best_result()
    assert beats[-1][:2] == ("4", "4") and beats[-1][3:] == (format_value(best.metrics["loss"]), best.trial_id)


def test_a_resumed_run_counts_the_earlier_trials_but_its_eta_comes_from_its_own_rate(tmp_path):
    """experiment_started gives a resumed run's earlier trials (t3 was left unfinished: PENDING again)."""
    earlier = [
        Trial(trial_id, {"lr": loss}, TrialStatus(status), str(tmp_path / trial_id), {"loss": loss})
        for trial_id, loss, status in (("t1", 0.5, "TERMINATED"), ("t2", 0.2, "ERROR"), ("t3", 0.1, "PENDING"))
    ]
    stream = io.StringIO()
    driver = Driver(ConsoleLogger(stream=stream, status_interval_s=0), experiment(tmp_path, num_samples=5))
    driver.logger.tunecore_experiment_started(driver.exp, earlier)
    driver.start("t3", lr=0.1)  # t3 was left running by a killed run: it runs again now
    driver.clock.now += 10
    driver.report("t3", 0.05)
    driver.finish("t3")
    lines = stream.getvalue().splitlines()
    assert lines[1] == "[0.0s] 2/5 done | 1 running, 1 terminated, 1 error | best loss=0.1 (t3)"
    assert lines[-1] == "[10.1s] 3/5 done | 0 running, 2 terminated, 1 error | ETA 20.2s | best loss=0.05 (t3)"


def test_verbose_0_prints_nothing_and_3_prints_starts_pauses_and_restarts(tmp_path):
    for verbose in (0, 3):
        stream = io.StringIO()
        driver = Driver(ConsoleLogger(verbose=verbose, stream=stream), experiment(tmp_path))
        driver.logger.tunecore_experiment_started(driver.exp)
        driver.start("t1", lr=0.1)
        driver.report("t1", 0.5)
        driver.logger.tunecore_trial_paused(driver.exp, driver.trials["t1"])
        restarted = attrs.evolve(driver.trials["t1"], config={"lr": 0.2}, status=TrialStatus.PENDING)
        driver.logger.tunecore_trial_restarted(driver.exp, restarted)
        driver.end()
        lines = stream.getvalue().splitlines()
        if verbose == 0:
            assert lines == []
        else:
            assert lines[1:5] == ["t1 STARTED    | lr=0.1", "t1 iter=1 loss=0.5", "t1 PAUSED", "t1 RESTARTED  | lr=0.2"]


def test_the_eta_comes_from_the_time_budget_or_the_rate(tmp_path):
    stream = io.StringIO()
    driver = Driver(ConsoleLogger(stream=stream, status_interval_s=0), experiment(tmp_path, time_budget_s=60))
    driver.start("t1")
    driver.clock.now += 15
    driver.finish("t1")
    assert stream.getvalue().splitlines()[-1] == "[15.0s] 1 done | 0 running, 1 terminated | ETA 45.0s"

    stream = io.StringIO()  # 1 of 4 trials in 10 s: 30 s to go (sooner than the budget says)
    exp = experiment(tmp_path, time_budget_s=3600, num_samples=4)
    driver = Driver(ConsoleLogger(stream=stream, status_interval_s=0), exp)
    driver.start("t1")
    driver.clock.now += 10
    driver.finish("t1")
    assert stream.getvalue().splitlines()[-1] == "[10.0s] 1/4 done | 0 running, 1 terminated | ETA 30.0s"


# --- on a terminal (in-process, fake clock) -----------------------------------------------------------


def test_the_live_view_shows_counts_best_eta_and_the_top_running_trials(tmp_path):
    terminal = FakeTerminal()
    driver = Driver(ConsoleLogger(stream=terminal), experiment(tmp_path, num_samples=20), step=0.5)
    driver.logger.tunecore_experiment_started(driver.exp)
    for i in range(12):
        driver.start(f"t{i:02d}", lr=i / 100)
    for i in range(12):
        driver.report(f"t{i:02d}", loss=1.0 + i)
    driver.finish("t00")
    driver.report("t05", loss=0.5)  # a refresh: the finished line goes above it
    out = plain(terminal.getvalue())
    view = out[out.rindex("exp  1/20 done") :]
    assert view.splitlines()[0].startswith("exp  1/20 done  11 running, 1 terminated  6.5s elapsed, ETA 2:03")
    assert "best loss=0.5 (t05) lr=0.05" in view
    rows = [line.split() for line in view.splitlines()[3:]]
    assert rows[0] == ["t05", "2", "0.5", "lr=0.05"]  # the best first
    assert [row[0] for row in rows[:10]] == ["t05", "t01", "t02", "t03", "t04", "t06", "t07", "t08", "t09", "t10"]
    assert rows[10] == ["+1", "more", "running"]
    assert "t00 TERMINATED iter=1 loss=1 | lr=0\nexp  1/20 done" in out  # printed above the view
    driver.end()
    out = plain(terminal.getvalue())
    assert out.rstrip().endswith(
        "Finished exp: 12 trials (11 running, 1 terminated) in 6.5s | best loss=0.5 (t05, iter 2) lr=0.05"
    )


def narrow_view(width: int) -> list[str]:
    """The lines of the running trials' table of a live view drawn ``width`` columns wide."""
    rows = [
        console.Row("t00012", 123, 0.012345, "lr=0.001234 momentum=0.9 width=128 act=relu dropout=0.25"),
        console.Row("t00003", 7, 1.5, "lr=0.1 momentum=0.5 width=64 act=tanh dropout=0.1"),
    ]
    view = console.Progress("exp", "val_loss", 12.0, 3, 40, {"RUNNING": 2}, None, None, rows, 0)
    text = console.render_text(view.renderable(), width)
    assert all(len(line) <= width for line in text.splitlines())
    return text.splitlines()[1:]


@pytest.mark.parametrize("width", [100, 60, 45, 30])
def test_on_a_narrow_terminal_the_config_shrinks_first_then_goes(width):
    head, first, second = narrow_view(width)
    assert head.split()[:3] == ["running", "iter", "val_loss"]
    assert first.split()[:3] == ["t00012", "123", "0.01235"] and second.split()[:3] == ["t00003", "7", "1.5"]
    config = first.split("0.01235", 1)[1].strip()
    if width == 100:
        assert config == "lr=0.001234 momentum=0.9 width=128 act=relu dropout=0.25" and head.split()[3] == "config"
    elif width >= 45:  # shrunk: its start, cut with an ellipsis
        assert config.startswith("lr=0.001") and config.endswith("…")
    else:  # no room for a useful part of it
        assert config == "" and len(head.split()) == 3


def test_the_live_view_is_redrawn_at_most_twice_a_second(tmp_path):
    terminal = FakeTerminal()
    driver = Driver(ConsoleLogger(stream=terminal, verbose=2), experiment(tmp_path), step=0.05)
    driver.logger.tunecore_experiment_started(driver.exp)
    driver.start("t1")
    for i in range(200):  # 10 fake seconds, 20 results a second, each printed (verbose 2)
        driver.report("t1", loss=float(i))
    redraws = terminal.getvalue().count("\x1b[1mexp\x1b[0m")
    assert 10 <= redraws <= 2 * 10 + 1
    driver.end()
    out = plain(terminal.getvalue())
    assert all(f"t1 iter={i} loss={i - 1}\n" in out for i in range(1, 201))  # every line, above the view


def test_rich_is_imported_only_for_a_live_view(tmp_path):
    code = textwrap.dedent(
        """
        import io, sys
        import tunecore, tunecore.builtin.loggers
        from tunecore.experiment import ExperimentInfo
        logger = tunecore.builtin.loggers.ConsoleLogger(stream=io.StringIO())
        logger.tunecore_experiment_started(ExperimentInfo("exp", ".", None, None))
        print("rich" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- Jupyter ------------------------------------------------------------------------------------------


class Handle:
    def __init__(self, shown: list[str]) -> None:
        self.shown = shown

    def update(self, data: dict[str, str], raw: bool) -> None:
        assert raw
        self.shown.append(data["text/plain"])


def test_in_a_notebook_one_output_is_updated_in_place(tmp_path, monkeypatch, capsys):
    shown: list[str] = []
    displayed: list[Handle] = []

    def display(data: dict[str, str], raw: bool, display_id: bool) -> Handle:
        assert raw and display_id
        shown.append(data["text/plain"])
        displayed.append(Handle(shown))
        return displayed[-1]

    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=display))
    driver = Driver(ConsoleLogger(), experiment(tmp_path, num_samples=2), step=0.25)
    driver.logger.tunecore_experiment_started(driver.exp)
    driver.start("t1", lr=0.1)
    for i in range(8):
        driver.report("t1", loss=1.0 / (i + 1))
    driver.finish("t1")
    driver.end()
    assert len(displayed) == 1  # one output
    assert 4 <= len(shown) <= 2 * 2 + 2  # updated in place, at most twice a (fake) second
    assert shown[-1].splitlines()[:2] == ["exp  1/2 done  0 running, 1 terminated  2.0s elapsed, ETA 2.0s",
                                          "best loss=0.125 (t1) lr=0.1"]  # fmt: skip
    assert any(re.search(r"^ t1 +8 +0.125 +lr=0.1$", text, re.MULTILINE) for text in shown)
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.splitlines()[-2:] == [
        "t1 TERMINATED iter=8 loss=0.125 | lr=0.1",
        "Finished exp: 1 trial (1 terminated) in 2.0s | best loss=0.125 (t1, iter 8) lr=0.1",
    ]
    assert console._in_notebook()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not console._in_notebook()  # IPython in a terminal, not a kernel


# --- a real experiment under a pseudo-terminal --------------------------------------------------------


CHILD = """
import sys, time
import tunecore
from tunecore.builtin.console import ConsoleLogger


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


fake = sys.argv[2] == "fake"
clock = Clock()
logger = ConsoleLogger()
if fake:
    logger.clock = clock


def train(config):
    for step in range(1, 6):
        if fake:
            clock.now += 0.25
        else:
            time.sleep(0.05)
        tunecore.report({"loss": config["x"] / step})


started = time.monotonic()
tunecore.Tuner(
    train,
    param_space={"x": tunecore.grid_search([3.0, 1.0, 2.0])},
    tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
    run_config=tunecore.RunConfig(name="pty", storage_path=sys.argv[1], loggers=[logger]),
).fit()
print(f"SECONDS {clock.now if fake else time.monotonic() - started}")
"""


def run_in_a_pty(tmp_path: Path, clock: str) -> str:
    """Run CHILD with stdout and stderr on a pseudo-terminal; what it wrote there."""
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "40"}  # TERM and the rest: terminal_env
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), clock], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise AssertionError("the child wrote nothing for 60 s")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        assert process.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


def test_a_real_experiment_under_a_pseudo_terminal_shows_a_live_view(tmp_path):
    raw = run_in_a_pty(tmp_path, "fake")
    out = plain(raw)
    assert "\x1b[2K\x1b[1A" in raw  # redrawn in place (cursor up, erase line)
    assert "pty  0/3 done  1 running  0.5s elapsed" in out
    assert "pty  1/3 done  1 running, 1 terminated  1.5s elapsed, ETA 3.0s" in out
    assert "best loss=0.6 (t00001) x=3" in out
    assert re.search(r"^ t00002 +\d  +[\d.]+  x=1 *$", out, re.MULTILINE)  # a row for the running trial
    assert "t00001 TERMINATED iter=5 loss=0.6 | x=3" in out
    summary = [line for line in out.splitlines() if line.startswith("Finished pty")]
    assert summary == ["Finished pty: 3 trials (3 terminated) in 3.8s | best loss=0.2 (t00002, iter 5) x=1"]
    seconds = float(re.search(r"SECONDS ([\d.]+)", out).group(1))  # 3.75 fake seconds
    # redraws: at most 2 a second, + the first one and the closing one
    assert 2 <= len(HEADER.findall(out)) <= 2 * seconds + 2


def test_a_real_clock_redraws_at_most_twice_a_second(tmp_path):
    raw = run_in_a_pty(tmp_path, "real")
    out = plain(raw)
    seconds = float(re.search(r"SECONDS ([\d.]+)", out).group(1))
    assert 1 <= len(HEADER.findall(out)) <= 2 * seconds + 2
    assert "Finished pty: 3 trials (3 terminated)" in out


@pytest.mark.parametrize("verbose", [0])
def test_verbose_0_under_a_pseudo_terminal_is_silent(tmp_path, verbose):
    stream = FakeTerminal()
    driver = Driver(ConsoleLogger(verbose=verbose, stream=stream), experiment(tmp_path))
    driver.logger.tunecore_experiment_started(driver.exp)
    driver.start("t1")
    driver.report("t1", 0.5)
    driver.finish("t1")
    driver.end()
    assert stream.getvalue() == ""


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_with_the_real_clock_the_view_and_the_heartbeat_move_while_no_event_comes(tmp_path):
    terminal, pipe = FakeTerminal(), io.StringIO()
    exp = experiment(tmp_path)
    live, lines = ConsoleLogger(stream=terminal), ConsoleLogger(stream=pipe, status_interval_s=0.2)
    for logger in (live, lines):
        logger.tunecore_experiment_started(exp)
        logger.tunecore_trial_started(exp, Trial("t1", {}, TrialStatus.RUNNING, None))
    try:  # no further event: the background ticker redraws the view (elapsed time) and prints heartbeats
        assert wait_for(lambda: terminal.getvalue().count("\x1b[1mexp\x1b[0m") >= 3)
        assert wait_for(lambda: pipe.getvalue().count("] 0 done | 1 running") >= 2)
    finally:
        for logger in (live, lines):
            logger.tunecore_experiment_finished(exp, [])
    assert live._ticker is None and lines._ticker is None


def test_a_logger_in_use_pickles_with_its_options_only(tmp_path):
    logger = ConsoleLogger(verbose=2, status_interval_s=5, stream="stderr")
    driver = Driver(logger, experiment(tmp_path))
    driver.start("t1")
    driver.report("t1", 0.5)
    copy = pickle.loads(pickle.dumps(logger))
    assert (copy.verbose, copy.status_interval_s, copy.stream, copy._latest, copy._level) == (
        2,
        5.0,
        "stderr",
        {},
        None,
    )
    driver.end()
