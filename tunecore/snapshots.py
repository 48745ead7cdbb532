"""The components' state on disk: what a snapshot holds and how often one is taken.

A snapshot pickles the searcher's, scheduler's and stoppers' ``save()`` together with the journal position
it reflects (see :meth:`tunecore.storage.ExperimentStorage.write_snapshot`); a resume restores the newest
one and replays the journal records after it into the components.
"""

from __future__ import annotations

import gc
import pickle
import time
from typing import Any

import attrs
import cloudpickle

from tunecore.protocols import Scheduler, Searcher, Stopper
from tunecore.references import USER_MODULE_PREFIX
from tunecore.storage import ExperimentStorage

CHEAP_SNAPSHOT_S = 0.001
"""Snapshots faster than this are taken at every trial end (and every creation on resume)."""
SNAPSHOT_TIME_SHARE = 0.05
"""Slower snapshots are spaced so that they take at most this share of the run's time."""
REPLAYABLE_SNAPSHOT_S = 1.0
"""When every component is ``replayable``, snapshots are at most this often: the journal replays the rest."""


@attrs.define
class Components:
    """The experiment's stateful components, saved and restored together."""

    searcher: Searcher
    scheduler: Scheduler
    stoppers: list[Stopper]

    def save(self) -> dict[str, Any]:
        """Every component's ``save()``."""
        return {
            "searcher": self.searcher.save(),
            "scheduler": self.scheduler.save(),
            "stoppers": [stopper.save() for stopper in self.stoppers],
        }

    @property
    def replayable(self) -> bool:
        """True when every component's own class says the journal replays it exactly (``replayable = True``
        in the class itself: a subclass may add state, so it must say so again)."""
        return all(
            vars(type(c)).get("replayable") is True for c in (self.searcher, self.scheduler, *self.stoppers)
        )

    def restore(self, state: dict[str, Any]) -> None:
        """Give each component what its ``save()`` returned."""
        self.searcher.restore(state["searcher"])
        self.scheduler.restore(state["scheduler"])
        for stopper, saved in zip(self.stoppers, state["stoppers"], strict=False):
            stopper.restore(saved)


class Snapshots:
    """Takes snapshots of the components: cheap ones whenever asked, expensive ones spaced out.

    When every component is ``replayable`` (the journal replays it exactly: the built-in ``random`` searcher
    and ``fifo`` scheduler), :meth:`take` takes at most one a second and marks the others due. Otherwise
    cheap snapshots (under 1 ms: the built-in components) are taken whenever :meth:`take` is called. A
    component whose state is expensive to pickle (a model-based searcher after many trials) is snapshotted
    less often, so that snapshots take at most ~5% of the run: :meth:`take` then only marks one as due, and
    :meth:`take_if_due` (called by the run loop) takes it when its time has come. The journal records after
    the latest snapshot are replayed into the components on resume.
    """

    def __init__(self, storage: ExperimentStorage, components: Components) -> None:
        self._storage = storage
        self._components = components
        self._started = time.monotonic()
        self._next = 0.0
        self.due = False
        """True when a snapshot was asked for but postponed."""
        self._suspect = False
        """The last snapshot took long by the clock: the next one is timed in CPU time too (see :meth:`take`)."""
        self._interval = REPLAYABLE_SNAPSHOT_S if components.replayable else 0.0
        """The least time between two snapshots: 0 (one at every trial creation and end) unless every component
        is replayable."""

    def run_started(self, elapsed_s: float = 0.0) -> None:
        """The run (re)starts now, ``elapsed_s`` seconds into the experiment (what earlier sessions ran)."""
        self._started = time.monotonic() - elapsed_s

    @property
    def elapsed_s(self) -> float:
        """Seconds the experiment has run, over every session."""
        return time.monotonic() - self._started

    @property
    def started(self) -> float:
        """``time.monotonic()`` at which the experiment would have started had it run in one go."""
        return self._started

    def take(self, force: bool = False) -> None:
        """Snapshot now, or (an expensive one, not ``force``) mark it as due."""
        now = time.monotonic()
        if not force and now < self._next:
            self.due = True
            return
        self.due = False
        suspect = self._suspect
        collecting = gc.isenabled()
        gc.disable()  # a collection of the whole heap may start at any allocation: its cost is not the snapshot's
        try:
            cpu = time.thread_time() if suspect else 0.0
            storage = self._storage
            storage.flush()
            state = {"journal_records": storage.journal_records, "elapsed_s": now - self._started}
            state.update(self._components.save())
            storage.write_snapshot(dumps_state(state))
            cost = time.monotonic() - now
            cpu = time.thread_time() - cpu if suspect else 0.0
        finally:
            if collecting:
                gc.enable()
        # A snapshot slow by the clock may only have waited for the CPU (a busy machine): it is spaced out only
        # once the next one is slow in this thread's CPU time too, so that how often snapshots are taken (and
        # so what a resume replays) does not depend on the machine's load. thread_time() costs ~0.5 us: only
        # then is it read.
        self._suspect = cost > CHEAP_SNAPSHOT_S
        if suspect and self._suspect:
            cost = cpu
        expensive = suspect and cost > CHEAP_SNAPSHOT_S
        self._next = now + max(cost / SNAPSHOT_TIME_SHARE if expensive else 0.0, self._interval)

    def take_if_due(self, now: float) -> None:
        """Take a postponed snapshot once its time has come."""
        if self.due and now >= self._next:
            self.take()


_BY_VALUE = (b"__main__", USER_MODULE_PREFIX.encode())
"""Module names whose objects only cloudpickle can carry to another process (it pickles them by value)."""


def dumps_state(state: Any) -> bytes:
    """Pickle the components' state: with the standard pickle when it can (4x faster for plain data), else with
    cloudpickle — when something cannot be pickled by reference (a lambda, a local class) or refers to a
    module another process cannot import (``__main__``, a ``file.py`` module). Both load with ``pickle.loads``."""
    try:
        data = pickle.dumps(state, protocol=5)
    except Exception:  # whatever pickle refuses, cloudpickle may take
        return cloudpickle.dumps(state)
    if _BY_VALUE[0] in data or _BY_VALUE[1] in data:  # (not any() over a generator: a third of the cost)
        return cloudpickle.dumps(state)
    return data
