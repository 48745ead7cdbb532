"""A scripted executor: drives the real controller through any interleaving of results, ends, crashes and
interrupts, so that races between them are unit tests.

A script is a list of steps, played one per ``process()`` call, in order:

- ``result("t00001", loss=0.5)``: the trial reports; its ``training_iteration`` is filled in
  (``checkpoint=True``: with a checkpoint directory, created in the trial's directory). When an earlier
  decision (STOP, PAUSE, restart) or a stop request is pending for the trial, the report is where it takes
  effect, as in the real trial runner: the result is not delivered and the launch ends ``stopped``.
- ``finish("t00001")``: the trainable returns (outcome ``completed``).
- ``crash("t00001", "RuntimeError: boom")``: the trainable raises (outcome ``error``).
- ``died("t00001")``: the worker running the trial dies (outcome ``worker_died``).
- ``interrupt()``: Ctrl+C, as the Tuner's signal handler delivers it (``Controller.interrupt``);
  ``second_interrupt()``: the second Ctrl+C (KeyboardInterrupt).

A step for a trial that is not running is an error of the script. When the script runs out, every running
trial finishes. ``stop(force=True)`` ends a trial at once; ``stop()`` at its next report (delivered first).
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from tests.conftest import CORE_AND_FIXTURES
from tunecore.controller import Controller, ResumeOptions
from tunecore.executors import Action, Executor, ExecutorHandler, Outcome, ResourceRequest, TrialLaunch
from tunecore.journal import replay
from tunecore.plugins import load_plugins
from tunecore.storage import read_journal


@attrs.frozen
class Step:
    """One event of a script."""

    kind: str
    trial_id: str | None = None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    error: str | None = None
    checkpoint: bool = False


def result(trial_id: str, checkpoint: bool = False, **metrics: Any) -> Step:
    """The trial reports ``metrics`` (with a checkpoint directory written in its trial directory)."""
    return Step("result", trial_id, metrics, checkpoint=checkpoint)


def finish(trial_id: str) -> Step:
    """The trial's trainable returns."""
    return Step("finish", trial_id)


def crash(trial_id: str, error: str = "Traceback ...\nRuntimeError: boom") -> Step:
    """The trial's trainable raises."""
    return Step("crash", trial_id, error=error)


def died(trial_id: str, error: str = "worker process 123 died while running the trial (exit code 3)") -> Step:
    """The worker running the trial dies."""
    return Step("died", trial_id, error=error)


def interrupt(reason: str = "interrupted by SIGINT") -> Step:
    """The driver gets Ctrl+C."""
    return Step("interrupt", metrics={"reason": reason})


def second_interrupt() -> Step:
    """The driver gets a second Ctrl+C: KeyboardInterrupt, wherever it is."""
    return Step("keyboard_interrupt")


@attrs.define
class _Running:
    launch: TrialLaunch
    iteration: int
    pending: Action | None = None
    stop_requested: bool = False


class ScriptedExecutor(Executor):
    """Plays a script into the controller; records launches and what it delivered."""

    def __init__(self, script: list[Step], slots: int = 2) -> None:
        self.script = list(script)
        self.slots = slots
        self.launches: list[TrialLaunch] = []
        self.delivered: list[tuple[str, str, Any]] = []
        self._running: dict[str, _Running] = {}
        self._handler: ExecutorHandler | None = None

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Remember the controller."""
        self._handler = handler

    def capacity(self, resources: ResourceRequest) -> int:
        """Free slots."""
        return self.slots - len(self._running)

    def launch(self, launch: TrialLaunch) -> None:
        """Start a trial (it acts only when the script says so)."""
        self.launches.append(launch)
        self._running[launch.trial_id] = _Running(launch, launch.start_iteration)

    def process(self, timeout: float) -> None:
        """Play the next step (or, with no script left, finish every running trial)."""
        if not self.script:
            for trial_id in list(self._running):
                self._end(trial_id, Outcome.COMPLETED, None)
            return
        step = self.script.pop(0)
        if step.kind == "keyboard_interrupt":
            raise KeyboardInterrupt
        if step.kind == "interrupt":
            assert isinstance(self._handler, Controller)
            self._handler.interrupt(step.metrics["reason"])
            return
        assert step.trial_id in self._running, f"script: {step.trial_id} is not running ({sorted(self._running)})"
        trial_id, running = step.trial_id, self._running[step.trial_id]
        if step.kind == "finish":
            self._end(trial_id, Outcome.COMPLETED, None)
        elif step.kind == "crash":
            self._end(trial_id, Outcome.ERRORED, step.error)
        elif step.kind == "died":
            self._end(trial_id, Outcome.WORKER_DIED, step.error)
        elif running.pending is not None:  # a decision takes effect at the next report
            self._end(trial_id, Outcome.STOPPED, None)
        else:
            running.iteration += 1
            reported = {"training_iteration": running.iteration, **step.metrics}
            checkpoint = None
            if step.checkpoint:
                checkpoint = os.path.join(running.launch.trial_dir, f"checkpoint_{running.iteration:06d}")
                os.makedirs(checkpoint)
            assert self._handler is not None
            decision = self._handler.on_result(trial_id, reported, checkpoint)
            self.delivered.append(("result", trial_id, reported))
            if running.stop_requested:
                self._end(trial_id, Outcome.STOPPED, None)
            elif decision.action is not Action.CONTINUE:
                running.pending = decision.action

    def _end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        del self._running[trial_id]
        self.delivered.append(("end", trial_id, outcome))
        assert self._handler is not None
        self._handler.on_trial_end(trial_id, outcome, error)

    def stop(self, trial_id: str, force: bool = False) -> None:
        """End at once (force) or at the trial's next report."""
        if trial_id not in self._running:
            return
        if force:
            self._end(trial_id, Outcome.STOPPED, None)
        else:
            self._running[trial_id].stop_requested = True

    def running(self) -> int:
        """Trials launched and not ended."""
        return len(self._running)

    def shutdown(self) -> None:
        """Nothing runs anywhere."""
        self._running.clear()


def run_controller(
    spec: Any, path: str, executor: ScriptedExecutor, resume: ResumeOptions | None = None
) -> Controller:
    """Run ``spec`` (an ExperimentSpec) in ``path`` through ``executor``, as Tuner.fit would."""
    spec = attrs.evolve(spec, tune_config=attrs.evolve(spec.tune_config, executor=executor))
    controller = Controller(spec, load_plugins(environ=dict(CORE_AND_FIXTURES)), path, spec.trainable, resume)
    controller.run()
    return controller


def statuses(path: str) -> dict[str, list[str]]:
    """Every trial's status changes, in journal order."""
    changes: dict[str, list[str]] = {}
    for record in read_journal(path):
        if record.get("event") == "status":
            changes.setdefault(record["trial_id"], []).append(record["status"])
    return changes


def final_statuses(path: str) -> dict[str, str]:
    """Every trial's status as the journal says it is now."""
    return {trial_id: record.status for trial_id, record in replay(read_journal(path)).items()}
