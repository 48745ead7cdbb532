"""The executor conformance suite: the contract of :mod:`tunecore.executors`, checked against any executor.

Subclass :class:`ExecutorConformance` in a test module (the name must start with ``Test``), say what the
executor can do, and build it in :meth:`~ExecutorConformance.make_executor`::

    from tunecore.testing.executors import ExecutorConformance

    class TestMyExecutor(ExecutorConformance):
        max_slots = 4  # it runs up to 4 trials at once

        def make_executor(self, slots):
            return MyExecutor(num_cpus=slots)

The suite drives the executor directly, with a recording handler and no controller: results and their
order, decisions at the next report, stop requests, forced stops, checkpoints, crashes and retries, stale
answers on a reused worker, exactly one ``on_trial_end`` per launch, capacity, impossible requests and a
shutdown that leaves nothing running. The trainables come from :mod:`tunecore.testing.trainables`, which a
worker process or actor imports (the executor must ship importable trainables by reference).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunecore.checkpoint import Checkpoint
from tunecore.executors import (
    Decision,
    Executor,
    ExecutorHandler,
    Outcome,
    ResourceError,
    Resources,
    TrialLaunch,
)
from tunecore.protocols import CONTINUE, PAUSE, STOP
from tunecore.testing.trainables import ConformanceTrainable, conformance_trainable
from tunecore.trainable import with_resources

Rule = Callable[["Harness", str, dict[str, Any]], Decision]
"""How the recording handler decides: ``rule(harness, trial_id, result)``."""


class RecordingHandler(ExecutorHandler):
    """Records every call; notes each breach of the contract (checked by :meth:`Harness.check`)."""

    def __init__(self, harness: Harness | None = None, rule: Rule | None = None) -> None:
        self.harness = harness
        self.rule = rule
        self.running: set[str] = set()
        """Trials launched whose launch has not ended."""
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: dict[str, list[str | None]] = {}
        self.ends: dict[str, list[tuple[Outcome, str | None]]] = {}
        """Every ``on_trial_end`` per trial, one entry per launch."""
        self.breaches: list[str] = []

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        """Record the result; decide by the rule (CONTINUE without one)."""
        if trial_id not in self.running:
            self.breaches.append(f"on_result for {trial_id}, which is not running (ended or never launched)")
        self.results.setdefault(trial_id, []).append(dict(result))
        self.checkpoints.setdefault(trial_id, []).append(checkpoint)
        if self.rule is None or self.harness is None:
            return CONTINUE
        return self.rule(self.harness, trial_id, result)

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        """Record the end of a launch."""
        if trial_id not in self.running:
            self.breaches.append(f"on_trial_end for {trial_id}, which is not running (a second end?)")
        if not isinstance(outcome, Outcome):
            self.breaches.append(f"on_trial_end({trial_id!r}) got {outcome!r}, not a tunecore.executors.Outcome")
        self.running.discard(trial_id)
        self.ends.setdefault(trial_id, []).append((outcome, error))

    def outcome(self, trial_id: str) -> Outcome:
        """How the trial's latest launch ended."""
        return self.ends[trial_id][-1][0]


class Harness:
    """One started executor, its recording handler and helpers to drive it."""

    def __init__(self, executor: Executor, trainable: Any, tmp_path: Path, rule: Rule | None, timeout_s: float) -> None:
        self.executor = executor
        self.tmp_path = tmp_path
        self.timeout_s = timeout_s
        self.handler = RecordingHandler(self, rule)
        self.children_before = child_processes()
        executor.start(trainable, self.handler)

    def launch(self, trial_id: str, config: dict[str, Any], **fields: Any) -> TrialLaunch:
        """Launch a trial (asserting that capacity says it fits) in ``tmp_path/trial_id``."""
        trial_dir = self.tmp_path / trial_id
        trial_dir.mkdir(exist_ok=True)
        launch = TrialLaunch(trial_id=trial_id, config=config, trial_dir=str(trial_dir), **fields)
        assert self.executor.capacity(launch.resources) >= 1, f"no capacity to launch {trial_id}"
        self.handler.running.add(trial_id)
        self.executor.launch(launch)
        return launch

    def run_until(self, condition: Callable[[], Any], what: str = "the condition") -> None:
        """Call ``process`` until ``condition()`` holds (failing after ``timeout_s``)."""
        deadline = time.monotonic() + self.timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out waiting for {what}: running {sorted(self.handler.running)}, ends {self.handler.ends}"
                )
            self.executor.process(0.02)

    def finish(self) -> None:
        """Process until no launch is running; check the contract."""
        self.run_until(lambda: not self.handler.running and self.executor.running() == 0, "every launch to end")
        self.check()

    def check(self) -> None:
        """Fail on any breach the handler noted."""
        assert not self.handler.breaches, "\n".join(self.handler.breaches)

    def results(self, trial_id: str, key: str = "i") -> list[Any]:
        """``key`` of each result of the trial, in order."""
        return [result.get(key) for result in self.handler.results.get(trial_id, [])]

    def shutdown_and_check(self) -> None:
        """Shut down, then check that nothing is left running (and that shutting down again is harmless)."""
        began = time.monotonic()
        self.executor.shutdown()
        assert time.monotonic() - began < self.timeout_s / 2, "shutdown took too long"
        self.executor.shutdown()
        assert self.executor.running() == 0
        left = child_processes() - self.children_before
        assert not left, f"processes left running after shutdown: {describe_processes(left)}"
        self.check()


def child_processes() -> set[int]:
    """This process's children (zombies too: a child not reaped is a leak), but interpreter helpers."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        psutil = None
    me = os.getpid()
    if psutil is not None:
        pids = {child.pid for child in psutil.Process(me).children()}
    else:
        pids = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                    pids.add(int(entry))
    return {pid for pid in pids if not _is_interpreter_helper(pid)}


def _is_interpreter_helper(pid: int) -> bool:
    """multiprocessing's resource tracker and forkserver outlive any executor by design."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" in command or b"multiprocessing.forkserver" in command


def describe_processes(pids: set[int]) -> str:
    """Pids with their command lines, for a failure message."""
    parts = []
    for pid in sorted(pids):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            command = "?"
        parts.append(f"{pid} ({command.strip()})")
    return ", ".join(parts)


def _stop_at(iteration: int, decision: Decision) -> Rule:
    return lambda harness, trial_id, result: decision if result["training_iteration"] == iteration else CONTINUE


class ExecutorConformance:
    """The conformance suite; subclass it as ``Test...`` and implement :meth:`make_executor`.

    Class attributes say what the executor can do; tests that need more are skipped, saying why.
    """

    max_slots: ClassVar[int] = 2
    """How many trials the executor can run at once (1: one at a time)."""
    runs_in_background: ClassVar[bool] = True
    """Trials run between ``process()`` calls (False: ``process()`` runs them, as ``inline`` does)."""
    isolates_crashes: ClassVar[bool] = True
    """A trial that kills its process (``os._exit``) ends WORKER_DIED and the executor goes on."""
    accounts_resources: ClassVar[bool] = True
    """``capacity()`` follows resources, and ``start()`` refuses a request that can never fit."""
    timeout_s: ClassVar[float] = 30.0
    """How long any wait may take before the test fails."""

    def make_executor(self, slots: int) -> Executor:
        """A new, unstarted executor with ``slots`` CPUs: it runs up to ``slots`` one-CPU trials at once."""
        raise NotImplementedError("subclasses of ExecutorConformance build their executor in make_executor()")

    def impossible_requests(self) -> list[Any]:
        """Requests (what ``with_resources`` takes) that an executor from ``make_executor(1)`` never fits."""
        return [{"cpu": 100_000}, {"cpu": 1, "conformance_no_such_resource": 1}]

    # -- fixtures -------------------------------------------------------------------------------------------

    @pytest.fixture
    def start(self, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
        """``start(trainable=conformance_trainable, slots=1, rule=None)``: a started :class:`Harness`."""
        made: list[Harness] = []

        def build(trainable: Any = conformance_trainable, slots: int = 1, rule: Rule | None = None) -> Harness:
            harness = Harness(self.make_executor(slots), trainable, tmp_path, rule, self.timeout_s)
            made.append(harness)
            return harness

        yield build
        for harness in made:
            harness.executor.shutdown()

    def _need(self, capability: str, reason: str) -> None:
        if not getattr(self, capability):
            pytest.skip(f"{type(self).__name__}.{capability} is False: {reason}")

    # -- launch and the result pipeline ---------------------------------------------------------------------

    def test_results_arrive_in_order_with_automatic_fields(self, start: Callable[..., Harness]) -> None:
        harness = start()
        harness.launch("t1", {"n": 4, "final": True})
        harness.finish()
        results = harness.handler.results["t1"]
        assert harness.results("t1") == [1, 2, 3, 4, "final"]
        assert [r["training_iteration"] for r in results] == [1, 2, 3, 4, 5]
        assert [r["done"] for r in results] == [False] * 4 + [True]
        assert all(r["trial_id"] == "t1" and r["time_this_iter_s"] >= 0 for r in results)
        assert [r["time_total_s"] for r in results] == sorted(r["time_total_s"] for r in results)
        assert [r["timestamp"] for r in results] == sorted(r["timestamp"] for r in results)
        assert harness.handler.ends["t1"] == [(Outcome.COMPLETED, None)]

    def test_the_trial_sees_its_launch(self, start: Callable[..., Harness]) -> None:
        harness = start()
        checkpoint = Checkpoint.from_dict({"step": 5}).to_directory(str(harness.tmp_path / "given_checkpoint"))
        config = {"mode": "context", "x": 1}
        launch = harness.launch("t1", config, checkpoint=checkpoint, seed=7, start_iteration=5, time_total_s=10.0)
        harness.finish()
        (result,) = harness.handler.results["t1"]
        assert result["context_trial_id"] == "t1" and result["context_trial_dir"] == launch.trial_dir
        assert result["context_config"] == config and result["context_seed"] == 7
        assert result["context_resources"]["cpu"] == 1.0
        assert result["checkpoint"] == {"step": 5}, "get_checkpoint() does not give the launch's checkpoint"
        assert result["context_start_iteration"] == 5 and result["training_iteration"] == 6
        assert result["time_total_s"] >= 10.0
        assert harness.handler.outcome("t1") is Outcome.COMPLETED

    def test_reported_checkpoints_arrive_in_the_trial_directory(self, start: Callable[..., Harness]) -> None:
        harness = start()
        launch = harness.launch("t1", {"mode": "checkpoint"})
        harness.finish()
        (path,) = harness.handler.checkpoints["t1"]
        assert path is not None and Path(path).parent == Path(launch.trial_dir)
        assert Checkpoint(path).to_dict() == {"step": 1}

    def test_class_trainables_checkpoint_as_the_launch_says(self, start: Callable[..., Harness]) -> None:
        harness = start(ConformanceTrainable)
        harness.launch("t1", {"steps": 4}, checkpoint_frequency=2)
        harness.finish()
        assert harness.results("t1", "steps") == [1, 2, 3, 4]
        checkpoints = harness.handler.checkpoints["t1"]
        assert [c is not None for c in checkpoints] == [False, True, False, True]
        assert Path(str(checkpoints[-1]), "steps").read_text() == "4"
        harness.launch("t2", {"steps": 6}, checkpoint=checkpoints[1], start_iteration=2)
        harness.finish()
        assert harness.results("t2", "steps") == [3, 4, 5, 6]
        assert harness.results("t2", "training_iteration") == [3, 4, 5, 6]

    # -- decisions and stops ----------------------------------------------------------------------------

    @pytest.mark.parametrize("decision", [STOP, PAUSE, Decision.restart({"x": 2})], ids=["stop", "pause", "restart"])
    def test_a_decision_takes_effect_exactly_at_the_next_report(
        self, start: Callable[..., Harness], decision: Decision
    ) -> None:
        harness = start(rule=_stop_at(3, decision))
        log = harness.tmp_path / "progress.log"
        harness.launch("t1", {"n": 6, "log": str(log)})
        harness.finish()
        assert harness.results("t1") == [1, 2, 3], "results after the decision were delivered"
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)]
        lines = log.read_text().splitlines()
        assert lines == ["before 1", "after 1", "before 2", "after 2", "before 3", "after 3", "before 4"], (
            "the decision about result 3 must end the trial inside report 4: the code between them runs"
        )

    def test_a_decision_about_the_last_report_keeps_the_returned_result_back(
        self, start: Callable[..., Harness]
    ) -> None:
        harness = start(rule=_stop_at(2, STOP))
        harness.launch("t1", {"n": 2, "final": True})
        harness.finish()
        assert harness.results("t1") == [1, 2]
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)]

    def test_stop_from_inside_on_result_makes_that_result_the_last(self, start: Callable[..., Harness]) -> None:
        def rule(harness: Harness, trial_id: str, result: dict[str, Any]) -> Decision:
            if result["training_iteration"] == 3:
                harness.executor.stop(trial_id)
                harness.executor.stop(trial_id)  # asking twice changes nothing
            return CONTINUE

        harness = start(rule=rule)
        harness.launch("t1", {"mode": "report_forever"})
        harness.finish()
        assert harness.results("t1", "training_iteration") == [1, 2, 3]
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)]

    def test_stop_between_process_calls_ends_the_trial_after_its_next_result(
        self, start: Callable[..., Harness]
    ) -> None:
        self._need("runs_in_background", "a trial only runs inside process(), so stop() cannot come in between")
        harness = start()
        harness.launch("t1", {"mode": "report_forever"})
        harness.run_until(lambda: len(harness.handler.results.get("t1", [])) >= 3, "three results")
        delivered = len(harness.handler.results["t1"])
        harness.executor.stop("t1")
        harness.executor.stop("t1")
        harness.finish()
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)]
        assert 1 <= len(harness.handler.results["t1"]) - delivered <= 2, (
            "after stop(), the trial's next result (at most one more already on its way) must be its last"
        )

    def test_force_stop_of_a_trial_that_has_not_reported(self, start: Callable[..., Harness]) -> None:
        harness = start()
        harness.launch("t1", {"n": 3})
        harness.executor.stop("t1", force=True)
        assert harness.handler.ends.get("t1") == [(Outcome.STOPPED, None)], "on_trial_end must come before stop()"
        assert harness.executor.running() == 0
        harness.executor.stop("t1", force=True)  # no longer running: nothing happens
        harness.launch("t2", {"n": 2})
        harness.finish()
        assert harness.results("t2") == [1, 2] and harness.handler.outcome("t2") is Outcome.COMPLETED
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)]

    def test_force_stop_ends_a_running_trial_at_once(self, start: Callable[..., Harness]) -> None:
        self._need("runs_in_background", "a trial only runs inside process(), so it cannot be stopped by force")
        harness = start()
        harness.launch("t1", {"mode": "report_then_hang"})
        harness.run_until(lambda: "t1" in harness.handler.results, "the first result")
        began = time.monotonic()
        harness.executor.stop("t1", force=True)
        assert time.monotonic() - began < self.timeout_s / 3
        assert harness.handler.ends["t1"] == [(Outcome.STOPPED, None)], "on_trial_end must come before stop()"
        assert harness.executor.running() == 0
        harness.launch("t2", {"n": 1})
        harness.finish()
        assert harness.handler.outcome("t2") is Outcome.COMPLETED

    # -- failures -------------------------------------------------------------------------------------------

    def test_a_raising_trainable_ends_errored_with_its_traceback(self, start: Callable[..., Harness]) -> None:
        harness = start()
        harness.launch("bad", {"mode": "raise"})
        harness.finish()
        ((outcome, error),) = harness.handler.ends["bad"]
        assert outcome is Outcome.ERRORED and outcome.is_failure
        assert error is not None and "Traceback" in error and "ValueError: boom from the conformance trainable" in error
        harness.launch("after", {"n": 1})
        harness.finish()
        assert harness.handler.outcome("after") is Outcome.COMPLETED

    def test_a_crashed_worker_ends_worker_died_and_the_retry_resumes(self, start: Callable[..., Harness]) -> None:
        self._need("isolates_crashes", "the trial runs in this process: os._exit() would end the test run")
        harness = start()
        harness.launch("t1", {"mode": "crash_once"})
        harness.finish()
        ((outcome, error),) = harness.handler.ends["t1"]
        assert outcome is Outcome.WORKER_DIED and outcome.is_failure
        assert error, "WORKER_DIED comes with a message saying what happened"
        (checkpoint,) = harness.handler.checkpoints["t1"]
        assert checkpoint is not None
        harness.launch("t1", {"mode": "crash_once"}, checkpoint=checkpoint, start_iteration=1)  # the retry
        harness.finish()
        assert harness.handler.ends["t1"][-1] == (Outcome.COMPLETED, None)
        retried = harness.handler.results["t1"][-1]
        assert (retried["resumed_from"], retried["training_iteration"]) == (1, 2)

    def test_a_handler_error_propagates_out_of_process(self, start: Callable[..., Harness]) -> None:
        def rule(harness: Harness, trial_id: str, result: dict[str, Any]) -> Decision:
            raise RuntimeError("the handler failed")

        harness = start(rule=rule)
        harness.launch("t1", {"n": 3})
        with pytest.raises(RuntimeError, match="the handler failed"):
            harness.run_until(lambda: False, "the handler's error")
        harness.shutdown_and_check()

    # -- launch tokens --------------------------------------------------------------------------------------

    def test_stale_answers_and_stops_never_apply_to_the_next_launch(self, start: Callable[..., Harness]) -> None:
        harness = start(rule=lambda h, trial_id, result: STOP if trial_id == "t1" else CONTINUE)
        harness.launch("t1", {"mode": "report_then_sleep", "sleep": 0.3})
        harness.run_until(lambda: "t1" in harness.handler.results, "t1's result")
        if self.runs_in_background:
            harness.executor.stop("t1")  # t1 never reports again: this request is never used
        harness.finish()
        assert harness.handler.ends["t1"] == [(Outcome.COMPLETED, None)], (
            "a decision or stop request that never meets a report leaves the trial to finish"
        )
        for i in range(3):  # on the same worker (one slot), if the executor reuses workers
            harness.launch(f"t{i + 2}", {"n": 3})
            harness.finish()
            assert harness.results(f"t{i + 2}") == [1, 2, 3], "a stale answer or stop applied to a later launch"
            assert harness.handler.ends[f"t{i + 2}"] == [(Outcome.COMPLETED, None)]

    def test_every_launch_ends_exactly_once(self, start: Callable[..., Harness]) -> None:
        harness = start(slots=min(2, self.max_slots), rule=_stop_at(2, STOP))
        modes: list[dict[str, Any]] = [{"n": 1}, {"mode": "raise"}, {"n": 4}, {"n": 2, "final": True}]
        modes = [*modes, {"mode": "checkpoint"}] * 2
        pending = list(enumerate(modes))
        while pending or harness.handler.running:
            while pending and harness.executor.capacity({"cpu": 1}) > 0:
                i, config = pending.pop(0)
                harness.launch(f"t{i}", config)
            harness.executor.process(0.02)
        harness.check()
        assert sorted(harness.handler.ends) == sorted(f"t{i}" for i in range(len(modes)))
        assert all(len(ends) == 1 for ends in harness.handler.ends.values())
        assert {harness.handler.outcome(f"t{i}") for i in (0, 2, 3)} == {Outcome.COMPLETED, Outcome.STOPPED}

    # -- resources ------------------------------------------------------------------------------------------

    def test_capacity_is_respected(self, start: Callable[..., Harness]) -> None:
        slots = min(2, self.max_slots)
        harness = start(slots=slots)
        one = Resources.parse({"cpu": 1})
        assert harness.executor.capacity({"cpu": 1}) == harness.executor.capacity(one) == slots
        marks = [str(harness.tmp_path / f"mark{i}") for i in range(slots)]
        for i in range(slots):
            other = marks[(i + 1) % slots] if slots > 1 else marks[i]
            harness.launch(f"t{i}", {"mode": "meet", "mine": marks[i], "other": other, "wait": 10.0})
        assert harness.executor.capacity({"cpu": 1}) == 0
        assert harness.executor.running() == slots
        harness.finish()
        assert all(harness.handler.results[f"t{i}"][-1]["met"] for i in range(slots)), "the trials did not overlap"
        assert harness.executor.capacity({"cpu": 1}) == slots
        if self.accounts_resources:
            assert harness.executor.capacity({"cpu": 2}) == slots // 2
            assert harness.executor.capacity(Resources.parse([{"cpu": 1}, {"cpu": 1}])) == slots // 2

    def test_impossible_requests_are_refused_at_start(self, tmp_path: Path) -> None:
        self._need("accounts_resources", "the executor accepts any request")
        for request in self.impossible_requests():
            executor = self.make_executor(1)
            before = child_processes()
            with pytest.raises(ResourceError) as refused:
                executor.start(with_resources(conformance_trainable, request), RecordingHandler())
            message = str(refused.value)
            wanted = Resources.parse(request)
            for kind, amount in wanted.totals().items():
                if amount > 0:
                    assert kind in message, f"the refusal does not name the request's {kind!r}: {message}"
            assert " has " in message, f"the refusal does not say what the executor has: {message}"
            executor.shutdown()
            assert not child_processes() - before, "a refused start left processes behind"

    # -- shutdown -------------------------------------------------------------------------------------------

    def test_shutdown_leaves_nothing_running(self, start: Callable[..., Harness]) -> None:
        harness = start(slots=min(2, self.max_slots))
        if self.runs_in_background:
            harness.launch("quick", {"n": 1})
            harness.run_until(lambda: "quick" in harness.handler.ends, "the quick trial")
            if self.max_slots > 1:
                harness.launch("hang", {"mode": "report_then_hang"})
                harness.run_until(lambda: "hang" in harness.handler.results, "the hanging trial's result")
        else:
            harness.launch("queued", {"n": 1})
        harness.shutdown_and_check()
        assert "hang" not in harness.handler.ends and "queued" not in harness.handler.ends, (
            "trials running at shutdown are abandoned without on_trial_end"
        )
