"""The ``local`` executor forwards its workers' stdout and stderr to the driver's ``sys.stdout``/``sys.stderr``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

import tunecore
from tunecore.builtin.local_executor import LocalExecutor
from tunecore.executors import ExecutorHandler, Outcome, TrialLaunch
from tunecore.protocols import CONTINUE, Decision
from tunecore.session import report


@pytest.fixture(autouse=True, scope="module")
def _ship_test_module_by_value() -> Iterator[None]:
    """Workers get this module's trainables by value instead of importing it (and pytest)."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


class Streams:
    """Buffers that replace the driver's ``sys.stdout`` and ``sys.stderr`` once installed (by ``start``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.out = io.StringIO()
        self.err = io.StringIO()

    def install(self) -> None:
        """Replace the streams (in the test itself: pytest's capture sets its own when the test starts)."""
        self.monkeypatch.setattr(sys, "stdout", self.out)
        self.monkeypatch.setattr(sys, "stderr", self.err)


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> Streams:
    return Streams(monkeypatch)


class Recorder(ExecutorHandler):
    """Records each trial's end with what the driver's streams held at that moment."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.ends: dict[str, tuple[Outcome, str, str]] = {}

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        return CONTINUE

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        self.ends[trial_id] = (outcome, self.streams.out.getvalue(), self.streams.err.getvalue())


Start = Callable[..., tuple[LocalExecutor, Recorder]]


@pytest.fixture
def start(streams: Streams) -> Iterator[Start]:
    """``start(trainable, **options)``: a started executor and its handler, shut down at the end."""
    made: list[LocalExecutor] = []

    def make(trainable: Any, **options: Any) -> tuple[LocalExecutor, Recorder]:
        streams.install()
        executor = LocalExecutor(**options)
        executor.shutdown_grace_s = 2.0
        handler = Recorder(streams)
        made.append(executor)
        executor.start(trainable, handler)
        return executor, handler

    yield make
    for executor in made:
        executor.shutdown()


def run_until(executor: LocalExecutor, condition: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the executor"
        executor.process(0.05)


def run(executor: LocalExecutor, trial_dir: Path, *configs: dict[str, Any]) -> None:
    """Launch one trial per config (t0, t1, ...) and process until they all ended."""
    for i, config in enumerate(configs):
        executor.launch(TrialLaunch(f"t{i}", config, str(trial_dir)))
    run_until(executor, lambda: executor.running() == 0, timeout=60.0)


# -- trainables -----------------------------------------------------------------------------------------


def chatty(config: dict[str, Any]) -> None:
    print("out 1")
    print("err 1", file=sys.stderr)
    print("out 2")
    report({"x": 1})
    print("err 2", file=sys.stderr)
    print("no newline", end="")


def dies(config: dict[str, Any]) -> None:
    print("last words")
    print("partial", end="", file=sys.stderr, flush=True)
    os._exit(3)


def waits(config: dict[str, Any]) -> None:
    print(config["text"], end="", flush=True)
    if config.get("printed"):
        Path(config["printed"]).touch()
    deadline = time.monotonic() + 30
    while not os.path.exists(config["flag"]) and time.monotonic() < deadline:
        time.sleep(0.01)


def floods(config: dict[str, Any]) -> None:
    for i in range(config["lines"]):
        print(f"{i:08d} " + "x" * 91)  # 100 bytes a line
    sys.stderr.write("y" * config["blob"])  # one long line without its newline


def pieces(config: dict[str, Any]) -> None:
    name = config["name"]
    for i in range(config["lines"]):
        for part in (f"{name} {i:05d} ", "-" * 50, f" {name} end\n"):  # each line in three writes to the pipe
            os.write(1, part.encode())


def child(config: dict[str, Any]) -> None:
    subprocess.run([sys.executable, "-c", "import sys; print('from a child'); print('child err', file=sys.stderr)"])


def raw(config: dict[str, Any]) -> None:
    e_acute = "é".encode()
    os.write(1, b"bad \xff byte\n" + e_acute[:1])
    time.sleep(0.05)
    os.write(1, e_acute[1:] + b" whole\n")


# -- tests ----------------------------------------------------------------------------------------------


def test_a_trials_lines_reach_the_drivers_stdout_and_stderr_through_tuner(tmp_path: Path, capsys: Any) -> None:
    grid = tunecore.Tuner(
        chatty,
        param_space={},
        tune_config=tunecore.TuneConfig(executor="local", executor_options={"num_workers": 1}),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    assert grid[0].status == "TERMINATED"
    captured = capsys.readouterr()
    assert captured.out == "out 1\nout 2\nno newline"
    assert captured.err == "err 1\nerr 2\n"


def test_output_arrives_before_the_trials_end_partial_line_included(start: Start, tmp_path: Path) -> None:
    executor, handler = start(chatty, num_workers=1, num_cpus=1)
    run(executor, tmp_path, {})
    assert handler.ends["t0"] == ("completed", "out 1\nout 2\nno newline", "err 1\nerr 2\n")


def test_a_partial_line_appears_after_a_moment_while_the_trial_runs(
    start: Start, streams: Streams, tmp_path: Path
) -> None:
    executor, handler = start(waits, num_workers=1, num_cpus=1)
    flag = tmp_path / "flag"
    executor.launch(TrialLaunch("t0", {"text": "50% ...", "flag": str(flag)}, str(tmp_path)))
    began = time.monotonic()
    run_until(executor, lambda: streams.out.getvalue())
    assert streams.out.getvalue() == "50% ..." and executor.running() == 1
    assert time.monotonic() - began < 10
    flag.touch()
    run_until(executor, lambda: executor.running() == 0)
    assert handler.ends["t0"][0] == "completed" and streams.out.getvalue() == "50% ..."


def test_the_output_of_a_worker_that_dies_is_not_lost(start: Start, tmp_path: Path) -> None:
    executor, handler = start(dies, num_workers=1, num_cpus=1)
    run(executor, tmp_path, {})
    assert handler.ends["t0"] == ("worker_died", "last words\n", "partial")


def test_shutdown_writes_what_workers_printed(start: Start, streams: Streams, tmp_path: Path) -> None:
    executor, _ = start(waits, num_workers=1, num_cpus=1)
    executor.shutdown_grace_s = 0.3
    printed = tmp_path / "printed"
    config = {"text": "said before shutdown\nand half", "flag": str(tmp_path / "never"), "printed": str(printed)}
    executor.launch(TrialLaunch("t0", config, str(tmp_path)))
    deadline = time.monotonic() + 30
    while not printed.exists():  # the driver reads nothing meanwhile
        assert time.monotonic() < deadline
        time.sleep(0.01)
    executor.shutdown()
    assert streams.out.getvalue() == "said before shutdown\nand half"


def test_a_large_output_does_not_block_and_arrives_whole(start: Start, streams: Streams, tmp_path: Path) -> None:
    lines, blob = 50_000, 1_000_000  # 5 MB of lines on stdout, a 1 MB line on stderr
    executor, handler = start(floods, num_workers=1, num_cpus=1)
    run(executor, tmp_path, {"lines": lines, "blob": blob})
    assert handler.ends["t0"][0] == "completed"
    assert streams.out.getvalue() == "".join(f"{i:08d} " + "x" * 91 + "\n" for i in range(lines))
    assert streams.err.getvalue() == "y" * blob


def test_lines_of_concurrent_trials_are_not_mixed(start: Start, streams: Streams, tmp_path: Path) -> None:
    lines = 3000
    executor, _ = start(pieces, num_workers=2, num_cpus=2)
    run(executor, tmp_path, {"name": "A", "lines": lines}, {"name": "B", "lines": lines})
    written = streams.out.getvalue().splitlines()
    for name in ("A", "B"):
        assert [line for line in written if line.startswith(name)] == [
            f"{name} {i:05d} {'-' * 50} {name} end" for i in range(lines)
        ]
    assert len(written) == 2 * lines


def test_the_trainables_subprocesses_print_to_the_driver_too(start: Start, tmp_path: Path) -> None:
    executor, handler = start(child, num_workers=1, num_cpus=1)
    run(executor, tmp_path, {})
    assert handler.ends["t0"] == ("completed", "from a child\n", "child err\n")


def test_bytes_are_decoded_as_utf8_with_replacement(start: Start, tmp_path: Path) -> None:
    executor, handler = start(raw, num_workers=1, num_cpus=1)
    run(executor, tmp_path, {})
    assert handler.ends["t0"][1] == "bad \ufffd byte\né whole\n"


def test_another_workers_output_starts_on_a_line_of_its_own(start: Start, streams: Streams, tmp_path: Path) -> None:
    """A partial line written after its wait ("50% ...") is not continued by another worker's text."""
    executor, _ = start(waits, num_workers=2, num_cpus=2)
    flag = tmp_path / "flag"
    executor.launch(TrialLaunch("t0", {"text": "50% ...", "flag": str(flag)}, str(tmp_path)))
    run_until(executor, lambda: streams.out.getvalue())  # written after the wait for its newline
    executor.launch(TrialLaunch("t1", {"text": "other\n", "flag": str(flag)}, str(tmp_path)))
    run_until(executor, lambda: "other" in streams.out.getvalue())
    flag.touch()
    run_until(executor, lambda: executor.running() == 0)
    assert streams.out.getvalue() == "50% ...\nother\n"
