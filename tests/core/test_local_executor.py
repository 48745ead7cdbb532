"""The ``local`` executor with real worker processes: overlap, report semantics, failures, stops, shutdown."""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

import tunecore
from tunecore.builtin.local_executor import LocalExecutor
from tunecore.executors import Outcome, ResourceError, TrialLaunch
from tunecore.protocols import CONTINUE, PAUSE, STOP, Decision
from tunecore.references import resolve_reference
from tunecore.session import get_context, report
from tunecore.trainable import Trainable, with_parameters, with_resources

# -- trainables (shipped by value, see the fixture below) ------------------------------------------------


def _log(path: str | None, line: str) -> None:
    if path:
        with open(path, "a") as file:
            file.write(line + "\n")


def _write_atomically(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as file:
        file.write(text)
    os.replace(path + ".tmp", path)


def trainable(config: dict[str, Any]) -> dict[str, Any] | None:
    """Behaves as ``config["mode"]`` says."""
    mode = config.get("mode", "count")
    if mode == "count":  # report n results, logging progress around each report
        for i in range(1, config["n"] + 1):
            _log(config.get("log"), f"before {i}")
            report({"i": i})
            _log(config.get("log"), f"after {i}")
        return {"i": "final"} if config.get("final") else None
    if mode == "sleep":
        start = time.time()
        time.sleep(config["sleep"])
        return {"start": start, "end": time.time(), "pid": os.getpid()}
    if mode == "hang":  # tell the test who we are, then never report
        _write_atomically(config["pidfile"], str(os.getpid()))
        time.sleep(60)
    if mode == "report_forever":
        while True:
            report({"pid": os.getpid()})
            time.sleep(0.005)
    if mode == "raise":
        raise ValueError("boom from the trainable")
    if mode == "exit":
        os._exit(3)
    if mode == "call":
        return {"y": config["fn"](1)}
    if mode == "env":
        return {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "gpu": get_context().resources["gpu"]}
    raise AssertionError(mode)


def with_payload(config: dict[str, Any], payload: Any) -> dict[str, Any]:
    """Uses an object bound with ``with_parameters``."""
    return {"size": len(payload.data), "pid": os.getpid()}


class Payload:
    """Logs every unpickling (with the pid) to a file; counts its picklings in the driver."""

    pickled = 0

    def __init__(self, log: str, size: int) -> None:
        self.log = log
        self.data = b"x" * size

    def __getstate__(self) -> dict[str, Any]:
        type(self).pickled += 1
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        _log(self.log, f"unpickled in {os.getpid()}")


class BreaksInWorker:
    """Cannot be unpickled outside the process that created it."""

    def __init__(self) -> None:
        self.home = os.getpid()

    def __setstate__(self, state: dict[str, Any]) -> None:
        if os.getpid() != state["home"]:
            raise RuntimeError("cannot rebuild this object here")
        self.__dict__.update(state)


class Reusable(Trainable):
    """Logs each setup; accepts new configs through reset_config; checkpoints its step count."""

    def setup(self, config: dict[str, Any]) -> None:
        _log(config["log"], f"setup {os.getpid()}")
        self.steps = 0

    def step(self) -> dict[str, Any]:
        self.steps += 1
        return {"steps": self.steps, "x": self.config["x"], "pid": os.getpid(), "done": self.steps >= 2}

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        Path(checkpoint_dir, "steps").write_text(str(self.steps))

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        self.steps = 0
        return True


@pytest.fixture(autouse=True, scope="module")
def _ship_test_module_by_value() -> Iterator[None]:
    """Workers get this module's trainables by value instead of importing it (and pytest) each time."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


# -- the driver's side ----------------------------------------------------------------------------------


class Recorder:
    """An ExecutorHandler that records everything and decides with ``rule(trial_id, result)``."""

    def __init__(self, rule: Callable[[str, dict[str, Any]], Decision] | None = None) -> None:
        self.rule = rule
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: dict[str, list[str | None]] = {}
        self.ends: dict[str, tuple[str, str | None]] = {}

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        assert trial_id not in self.ends, f"result of {trial_id} after its end"
        self.results.setdefault(trial_id, []).append(result)
        self.checkpoints.setdefault(trial_id, []).append(checkpoint)
        return self.rule(trial_id, result) if self.rule else CONTINUE

    def on_trial_end(self, trial_id: str, outcome: str, error: str | None) -> None:
        assert trial_id not in self.ends, f"{trial_id} ended twice"
        self.ends[trial_id] = (outcome, error)


Start = Callable[..., tuple[LocalExecutor, Recorder]]


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(trainable, rule=None, **options)``: a started executor and its handler, shut down at the end."""
    made: list[LocalExecutor] = []

    def make(trainable: Any, rule: Any = None, **options: Any) -> tuple[LocalExecutor, Recorder]:
        executor = LocalExecutor(**options)
        executor.shutdown_grace_s = 0.2
        handler = Recorder(rule)
        made.append(executor)
        executor.start(trainable, handler)
        return executor, handler

    yield make
    for executor in made:
        executor.shutdown()


def run_until(executor: LocalExecutor, condition: Callable[[], Any], timeout: float = 15.0) -> None:
    """Process events until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the executor"
        executor.process(0.02)


def launch(executor: LocalExecutor, trial_id: str, config: dict[str, Any], trial_dir: Path, **kwargs: Any) -> None:
    """Launch a trial (asserting there is room)."""
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) >= 1
    executor.launch(TrialLaunch(trial_id, config, str(trial_dir), **kwargs))


def finish(executor: LocalExecutor) -> None:
    """Process until nothing runs."""
    run_until(executor, lambda: executor.running() == 0)


def gone(pid: int) -> bool:
    """True when no live process has ``pid`` (a zombie left to another parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# -- tests ----------------------------------------------------------------------------------------------


def test_two_workers_run_two_trials_at_the_same_time(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=2, num_cpus=2)
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 2
    for trial_id in ("a", "b"):
        launch(executor, trial_id, {"mode": "sleep", "sleep": 0.3}, tmp_path)
    assert executor.running() == 2
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 0
    finish(executor)
    a, b = (handler.results[t][-1] for t in ("a", "b"))
    assert a["start"] < b["end"] and b["start"] < a["end"], "the trials did not overlap"
    assert a["pid"] != b["pid"]
    assert handler.ends == {"a": ("completed", None), "b": ("completed", None)}
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 2


def test_results_arrive_in_order_with_automatic_fields(start: Start, tmp_path: Path, capfd: Any) -> None:
    def chatty(config: dict[str, Any]) -> dict[str, Any]:
        print("hello from the worker")
        for i in range(4):
            report({"loss": 1.0 / (i + 1)})
        return {"loss": 0.0}

    executor, handler = start(chatty, num_workers=1)
    launch(executor, "t1", {}, tmp_path)
    finish(executor)
    results = handler.results["t1"]
    assert [r["training_iteration"] for r in results] == [1, 2, 3, 4, 5]
    assert [r["loss"] for r in results] == [1.0, 0.5, 1 / 3, 0.25, 0.0]
    assert [r["done"] for r in results] == [False] * 4 + [True]
    assert all(r["trial_id"] == "t1" for r in results)
    assert all(r["time_this_iter_s"] >= 0 for r in results)
    assert [r["time_total_s"] for r in results] == sorted(r["time_total_s"] for r in results)
    assert [r["timestamp"] for r in results] == sorted(r["timestamp"] for r in results)
    assert handler.ends == {"t1": ("completed", None)}
    assert "hello from the worker" in capfd.readouterr().out


def test_configs_that_plain_pickle_cannot_handle_still_travel(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=1)
    launch(executor, "t1", {"mode": "call", "fn": lambda x: x + 41}, tmp_path)
    finish(executor)
    assert handler.ends == {"t1": ("completed", None)}
    assert handler.results["t1"][-1]["y"] == 42


@pytest.mark.parametrize("decision", [STOP, PAUSE, Decision.restart({"x": 2})], ids=["stop", "pause", "restart"])
def test_a_decision_ends_the_trial_at_its_next_report(start: Start, tmp_path: Path, decision: Decision) -> None:
    executor, handler = start(trainable, lambda t, r: decision if r["training_iteration"] == 3 else CONTINUE)
    log = tmp_path / "progress.log"
    launch(executor, "t1", {"n": 6, "log": str(log)}, tmp_path)
    finish(executor)
    assert [r["i"] for r in handler.results["t1"]] == [1, 2, 3]
    assert handler.ends == {"t1": ("stopped", None)}
    assert log.read_text().split("\n")[:-1] == [
        "before 1",
        "after 1",
        "before 2",
        "after 2",
        "before 3",
        "after 3",
        "before 4",
    ]


def test_a_stop_on_the_last_report_keeps_the_returned_result_back(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, lambda t, r: STOP if r["training_iteration"] == 2 else CONTINUE)
    launch(executor, "t1", {"n": 2, "final": True}, tmp_path)
    finish(executor)
    assert [r["i"] for r in handler.results["t1"]] == [1, 2]
    assert handler.ends == {"t1": ("stopped", None)}


def test_a_raising_trainable_errors_while_others_complete(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=2, num_cpus=2)
    launch(executor, "bad", {"mode": "raise"}, tmp_path)
    launch(executor, "good", {"n": 2}, tmp_path)
    finish(executor)
    outcome, error = handler.ends["bad"]
    assert outcome == "error"
    assert error is not None and "Traceback" in error and "ValueError: boom from the trainable" in error
    assert handler.ends["good"] == ("completed", None)
    launch(executor, "after", {"n": 1}, tmp_path)  # the worker that ran "bad" goes on
    launch(executor, "after2", {"n": 1}, tmp_path)
    finish(executor)
    assert handler.ends["after"] == handler.ends["after2"] == ("completed", None)


def test_a_traceback_shows_the_file_line_and_source_of_a_trainable_shipped_by_value(
    start: Start, tmp_path: Path
) -> None:
    executor, handler = start(trainable, num_workers=1, num_cpus=1)  # this module travels by value
    launch(executor, "bad", {"mode": "raise"}, tmp_path)
    finish(executor)
    error = handler.ends["bad"][1]
    assert error is not None and "<dynamic-code>" not in error
    line = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1) if "raise ValueError(" in text)
    assert f'File "{__file__}", line {line}, in trainable\n    raise ValueError("boom from the trainable")' in error


def test_a_traceback_shows_the_file_line_and_source_of_a_file_reference(start: Start, tmp_path: Path) -> None:
    source = tmp_path / "failing_train.py"
    source.write_text("def helper(x):\n    return 1 / x\n\n\ndef train(config):\n    helper(config['x'])\n")
    executor, handler = start(resolve_reference(f"{source}:train"), num_workers=1, num_cpus=1)
    launch(executor, "bad", {"x": 0}, tmp_path)
    finish(executor)
    error = handler.ends["bad"][1]
    assert error is not None and error.rstrip().endswith("ZeroDivisionError: division by zero")
    assert f"File \"{source}\", line 6, in train\n    helper(config['x'])" in error
    assert f'File "{source}", line 2, in helper\n    return 1 / x' in error


def test_a_worker_killed_mid_trial_ends_worker_died_and_is_replaced(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=2, num_cpus=2)
    pidfile = tmp_path / "pid"
    launch(executor, "victim", {"mode": "hang", "pidfile": str(pidfile)}, tmp_path)
    launch(executor, "bystander", {"mode": "sleep", "sleep": 0.2}, tmp_path)
    run_until(executor, pidfile.exists)
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGKILL)
    finish(executor)
    outcome, error = handler.ends["victim"]
    assert outcome is Outcome.WORKER_DIED
    assert error == f"worker process {pid} died while running trial victim (killed by signal SIGKILL)"
    assert handler.ends["bystander"] == ("completed", None)
    assert gone(pid)
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 2
    for trial_id in ("next1", "next2"):
        launch(executor, trial_id, {"mode": "sleep", "sleep": 0.05}, tmp_path)
    finish(executor)
    assert {handler.ends["next1"][0], handler.ends["next2"][0]} == {"completed"}
    assert pid not in {handler.results[t][-1]["pid"] for t in ("next1", "next2")}


def test_a_worker_that_exits_reports_its_exit_code(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=1)
    launch(executor, "t1", {"mode": "exit"}, tmp_path)
    finish(executor)
    outcome, error = handler.ends["t1"]
    assert outcome is Outcome.WORKER_DIED
    assert error is not None and error.startswith("worker process ") and error.endswith("(exit code 3)")
    launch(executor, "t2", {"n": 1}, tmp_path)
    finish(executor)
    assert handler.ends["t2"] == ("completed", None)


def test_stop_asks_the_trial_to_stop_at_its_next_report(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=1)
    launch(executor, "t1", {"mode": "report_forever"}, tmp_path)
    run_until(executor, lambda: len(handler.results.get("t1", [])) >= 3)
    executor.stop("t1")
    executor.stop("t1")  # asking twice changes nothing
    finish(executor)
    assert handler.ends == {"t1": ("stopped", None)}
    # the same worker runs the next trial: the stale answer left for t1 is ignored
    launch(executor, "t2", {"n": 3}, tmp_path)
    finish(executor)
    assert [r["i"] for r in handler.results["t2"]] == [1, 2, 3]
    assert handler.ends["t2"] == ("completed", None)


def test_forced_stop_kills_the_worker_and_replaces_it(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=1)
    pidfile = tmp_path / "pid"
    launch(executor, "t1", {"mode": "hang", "pidfile": str(pidfile)}, tmp_path)
    run_until(executor, pidfile.exists)
    pid = int(pidfile.read_text())
    executor.stop("t1", force=True)
    assert handler.ends == {"t1": ("stopped", None)}
    assert executor.running() == 0
    assert gone(pid)
    executor.stop("t1", force=True)  # no longer running: nothing happens
    launch(executor, "t2", {"mode": "sleep", "sleep": 0.0}, tmp_path)
    finish(executor)
    assert handler.ends["t2"] == ("completed", None)
    assert handler.results["t2"][-1]["pid"] != pid


def test_with_parameters_objects_are_unpickled_once_per_worker(start: Start, tmp_path: Path) -> None:
    log = tmp_path / "unpickled.log"
    Payload.pickled = 0
    payload = Payload(str(log), 200_000)  # above a pipe's buffer: sent without blocking start()
    executor, handler = start(with_parameters(with_payload, payload=payload), num_workers=2, num_cpus=2)
    assert Payload.pickled == 1
    for i in range(6):
        run_until(executor, lambda: executor.capacity({"cpu": 1.0, "gpu": 0.0}) > 0)
        launch(executor, f"t{i}", {}, tmp_path)
    finish(executor)
    assert all(handler.ends[f"t{i}"] == ("completed", None) for i in range(6))
    assert {handler.results[f"t{i}"][-1]["size"] for i in range(6)} == {200_000}
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and len(set(lines)) == 2, lines
    used = {f"unpickled in {handler.results[f't{i}'][-1]['pid']}" for i in range(6)}
    assert used <= set(lines)


def test_class_trainables_are_reused_on_their_worker(start: Start, tmp_path: Path) -> None:
    log = tmp_path / "setup.log"
    executor, handler = start(Reusable, num_workers=1)
    for i in range(3):
        launch(executor, f"t{i}", {"x": i, "log": str(log)}, tmp_path, checkpoint_frequency=1)
        finish(executor)
    assert len(log.read_text().splitlines()) == 1
    for i in range(3):
        assert handler.ends[f"t{i}"] == ("completed", None)
        assert [(r["steps"], r["x"]) for r in handler.results[f"t{i}"]] == [(1, i), (2, i)]
    checkpoints = handler.checkpoints["t2"]
    assert all(c is not None and Path(c).parent == tmp_path for c in checkpoints)
    assert Path(checkpoints[-1], "steps").read_text() == "2"


def test_trainables_from_a_file_reference(start: Start, tmp_path: Path) -> None:
    """A ``path/file.py:name`` trainable runs in the workers, and is not left registered to pickle by value.
    (How soon the first trial starts is a benchmark figure: benchmarks/local_executor_micro.py.)"""
    source = tmp_path / "user_train.py"
    source.write_text(
        textwrap.dedent(
            """
            import os
            import time

            from tunecore.session import report

            SCALE = 3


            def train(config):
                report({"began": time.time(), "y": config["x"] * SCALE, "pid": os.getpid()})
            """
        )
    )
    train = resolve_reference(f"{source}:train")
    assert train.__module__.startswith("tunecore_user_")
    executor, handler = start(train, num_workers=2, num_cpus=2)
    launch(executor, "t1", {"x": 2}, tmp_path)
    finish(executor)
    assert handler.ends == {"t1": ("completed", None)}
    result = handler.results["t1"][0]
    assert result["y"] == 6 and result["pid"] != os.getpid()
    assert not any(name.startswith("tunecore_user_") for name in cloudpickle.list_registry_pickle_by_value())


def test_trainables_importable_in_the_driver_are_imported_by_workers(
    start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "tunecore_test_local_executor_importable"
    (tmp_path / f"{name}.py").write_text(
        "import os\n\ndef train(config):\n    return {'cwd': os.getcwd(), 'module': __name__}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    try:
        train = importlib.import_module(name).train
        executor, handler = start(train, num_workers=1)
        launch(executor, "t1", {}, tmp_path)
        finish(executor)
    finally:
        sys.modules.pop(name, None)
    result = handler.results["t1"][-1]
    assert (result["cwd"], result["module"]) == (str(workdir), name)


def test_a_trainable_that_cannot_be_unpickled_fails_every_trial(start: Start, tmp_path: Path) -> None:
    executor, handler = start(with_parameters(with_payload, payload=BreaksInWorker()), num_workers=1)
    for trial_id in ("t1", "t2"):
        launch(executor, trial_id, {}, tmp_path)
        finish(executor)
        outcome, error = handler.ends[trial_id]
        assert outcome == "error"
        assert error is not None and "could not be unpickled" in error
        assert "RuntimeError: cannot rebuild this object here" in error


def test_shutdown_leaves_no_worker_behind(start: Start, tmp_path: Path) -> None:
    executor, handler = start(trainable, num_workers=3, num_cpus=3)
    pidfiles = [tmp_path / "pid1", tmp_path / "pid2"]
    for i, pidfile in enumerate(pidfiles):
        launch(executor, f"hang{i}", {"mode": "hang", "pidfile": str(pidfile)}, tmp_path)
    launch(executor, "quick", {"mode": "sleep", "sleep": 0.0}, tmp_path)  # its worker is idle at shutdown
    run_until(executor, lambda: "quick" in handler.ends and all(p.exists() for p in pidfiles))
    pids = [int(p.read_text()) for p in pidfiles] + [handler.results["quick"][-1]["pid"]]
    assert len(set(pids)) == 3
    began = time.monotonic()
    executor.shutdown()
    assert time.monotonic() - began < 2.0
    assert all(gone(pid) for pid in pids)
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: not our child any more
    executor.shutdown()
    assert executor.running() == 0 and executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 0
    assert set(handler.ends) == {"quick"}  # trials running at shutdown are abandoned


def test_workers_exit_when_the_driver_dies(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"  # no __main__ guard: workers must never import the driver's script
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from tunecore.builtin.local_executor import LocalExecutor
            from tunecore.executors import TrialLaunch
            from tunecore.protocols import CONTINUE

            pids = []

            class Handler:
                def on_result(self, trial_id, result, checkpoint):
                    pids.append(result["pid"])
                    return CONTINUE

                def on_trial_end(self, trial_id, outcome, error):
                    pass

            def train(config):
                if config["hang"]:
                    with open(config["pidfile"] + ".tmp", "w") as file:
                        file.write(str(os.getpid()))
                    os.replace(config["pidfile"] + ".tmp", config["pidfile"])
                    time.sleep(60)
                return {"pid": os.getpid()}

            executor = LocalExecutor(num_workers=2, num_cpus=2)
            executor.start(train, Handler())
            executor.launch(TrialLaunch("busy", {"hang": True, "pidfile": sys.argv[1]}, sys.argv[2]))
            executor.launch(TrialLaunch("idle", {"hang": False}, sys.argv[2]))
            while not (pids and os.path.exists(sys.argv[1])):
                executor.process(0.02)
            with open(sys.argv[1]) as file:
                print(file.read(), pids[0], flush=True)
            os._exit(0)  # the driver dies: one worker runs a trial, the other waits for work
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "pid"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=15,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    pids = [int(pid) for pid in done.stdout.split()]
    assert len(set(pids)) == 2
    deadline = time.monotonic() + 5.0
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, "workers outlived their driver"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("visible", "num_gpus", "gpu", "expected"),
    [
        (None, 2, 0.5, ["0", "0", "1", "1"]),
        ("3,5", None, 1, ["3", "5"]),
        ("3,5", None, 2, ["3,5"]),
        (None, None, 0, [None, None, None, None]),
    ],
    ids=["fractions-share", "whole-disjoint", "two-per-trial", "no-gpu"],
)
def test_each_worker_sees_its_gpus(
    start: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    visible: str | None,
    num_gpus: float | None,
    gpu: float,
    expected: list[str | None],
) -> None:
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    resources = {"cpu": 0.5, "gpu": gpu}
    executor, handler = start(with_resources(trainable, resources), num_cpus=2, num_gpus=num_gpus)
    assert executor.capacity(resources) == len(expected)
    for i in range(len(expected)):
        executor.launch(TrialLaunch(f"t{i}", {"mode": "env"}, str(tmp_path), resources=resources))
    assert executor.capacity(resources) == 0
    finish(executor)
    seen = [handler.results[f"t{i}"][-1] for i in range(len(expected))]
    assert sorted(r["cvd"] or "" for r in seen) == [e or "" for e in expected]
    assert {r["gpu"] for r in seen} == {gpu}


def test_capacity_follows_cpus_and_workers(start: Start) -> None:
    executor, _ = start(trainable, num_workers=3, num_cpus=2)
    assert executor.capacity({"cpu": 1.0, "gpu": 0.0}) == 2
    assert executor.capacity({"cpu": 0.5, "gpu": 0.0}) == 3
    assert executor.capacity({"cpu": 1.0, "gpu": 1.0}) == 0
    assert executor.running() == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_workers": 0}, "num_workers must be a positive integer, got 0"),
        ({"num_workers": 1.5}, "num_workers must be a positive integer, got 1.5"),
        ({"num_workers": True}, "num_workers must be a positive integer, got True"),
        ({"num_cpus": 0}, "num_cpus must be a positive number, got 0"),
        ({"num_cpus": "4"}, "num_cpus must be a positive number, got '4'"),
        ({"num_gpus": -1}, "num_gpus must be a number >= 0, got -1"),
    ],
)
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        LocalExecutor(**options)


def test_trials_that_cannot_fit_are_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    handler = Recorder()
    with pytest.raises(
        ResourceError,
        match=r"^each trial needs cpu=4, gpu=0 but the local executor has cpu=2, gpu=0, memory=[\d.]+ GB"
        r" \(cpu=4 needed, cpu=2 there\): lower the trial's request \(tunecore.with_resources\) or give the local"
        r" executor more \(its num_cpus, num_gpus, memory and resources=\{name: amount\} options\)$",
    ):
        LocalExecutor(num_cpus=2).start(with_resources(trainable, {"cpu": 4}), handler)
    with pytest.raises(ResourceError, match=r"^each trial needs cpu=1, gpu=1 but .* \(gpu=1 needed, gpu=0 there\)"):
        LocalExecutor().start(with_resources(trainable, {"gpu": 1}), handler)


def test_an_executor_instance_in_the_config_can_be_saved_with_the_experiment(tmp_path):
    """TuneConfig(executor=LocalExecutor(...)) is a documented form: spec.pkl pickles it (before it starts)."""
    import pickle

    executor = LocalExecutor(num_workers=1)
    assert pickle.loads(pickle.dumps(executor)).num_workers == 1
    grid = tunecore.Tuner(
        lambda config: tunecore.report({"loss": config["x"]}),
        param_space={"x": tunecore.grid_search([1, 2])},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor=executor),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[]),
    ).fit()
    assert [result.status for result in grid] == ["TERMINATED", "TERMINATED"]
