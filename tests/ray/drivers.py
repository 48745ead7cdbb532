"""An executor's driver side without a Ray cluster, for tests that drive its messages directly: a recording
handler, a ledger that books nothing, and an executor whose one actor (key 1, not connected) runs trial t1."""

from __future__ import annotations

import time
from typing import Any

from tune_ray import executor as module
from tune_ray.jobs import Jobs
from tunecore.executors import Outcome, TrialLaunch


class Handler:
    def __init__(self) -> None:
        self.results: list[tuple[str, Any]] = []
        self.ends: list[tuple[str, Outcome, str | None]] = []

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> None:
        self.results.append((trial_id, checkpoint))

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        self.ends.append((trial_id, outcome, error))


class NoLedger:
    def unbook(self, nodes: list[str], shape: Any) -> None:
        pass

    def set_idle(self, nodes: list[str], shape: Any, idle: bool) -> None:
        pass


def bare_executor(trial_dir: str, ray: Any = None) -> tuple[module.RayExecutor, module._Actor]:
    """A started executor (``ray``: the module, or None) with no liveness checks or node refreshes, and its
    actor running trial t1 in ``trial_dir``; ``shutdown()`` it."""
    made = module.RayExecutor()
    made._handler = Handler()  # type: ignore[assignment]
    made._ledger = NoLedger()  # type: ignore[assignment]
    made._ray = ray
    made._jobs = Jobs()
    made._watch(made._jobs.wake_fd, "jobs")
    made._started = True
    made._next_liveness = made._next_refresh = float("inf")
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir=trial_dir)
    actor = module._Actor(1, None, launch.resources, [], None, None, time.monotonic() + 600)
    actor.run = module._Run(launch, actor, sent=True)
    made._actors[1] = actor
    made._by_trial["t1"] = actor.run
    return made, actor


def settle(executor: module.RayExecutor, timeout: float = 30.0) -> Handler:
    """Call ``process()`` until trial t1 ended; its handler."""
    handler: Handler = executor._handler  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while not handler.ends:
        assert time.monotonic() < deadline, "t1 never ended"
        executor.process(0.05)
    return handler
