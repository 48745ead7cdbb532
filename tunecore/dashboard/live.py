"""One followed experiment: its journal follower and its JSON documents, cached by the experiment's version.

Many clients cost one computation: each document is computed once per version (the journal's bytes and
records read, state.json's and experiment.json's modification times, who holds the lock) and served as the
same bytes until the version changes. The next version is looked for no sooner than :data:`POLL_INTERVAL_S`.

The cost to a running experiment is bounded by :data:`BUDGET`, a token bucket of the CPU time the
dashboard's requests use (everything they do: reading the journal, computing and encoding documents, sending
them to every client, answering 304s; counted per server thread, so a process the server runs in is not
charged): credit accrues at :data:`CPU_SHARE` of a core per second (3.5%), at most :data:`BURST_S` (or the cost
asked for) is kept, and the requests' CPU time is taken from it. While a process holds the experiment's
lock, a new version is taken only when the credit covers what the last one cost (its documents and their
sending), scaled by how much the journal grew since (a journal under :data:`GROWTH_FLOOR_BYTES` counts as
not grown: fixed costs rule there). Credit is earned before it is spent, not paid back after, so even a
short run is charged no more than about its share, whatever the experiment's size, speed or number of
clients. A small experiment (a version costs ~0.03 CPU s at 100 trials) is updated within a second; a
larger one about every 25 times what a version costs; a large, fast one (thousands of trials a second) may
show its first version only until the run ends: each version would cost more than the credit earned while
the journal grows. The end of a run is shown at once (the lock's holder is looked at every
POLL_INTERVAL_S, one small file, and a run that no longer holds it twice in a row is over: nothing to slow
down). An experiment nobody runs is followed with the older rule: no sooner than :data:`LOAD_FACTOR` times
what the current version cost. Parameter importance (scikit-learn, the dearest document) is recomputed no
sooner than :data:`IMPORTANCE_INTERVAL_S` and LOAD_FACTOR times its own cost (the last one, scaled by how
many more trials there are now); during a run only when :data:`IMPORTANCE_BUDGET` (its own share, besides
CPU_SHARE) covers that, the first time :data:`IMPORTANCE_FIRST_COST_S` (until then it says "computing…").
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from tunecore.dashboard import payloads
from tunecore.dashboard.follower import JournalFollower
from tunecore.dashboard.paths import StorageRoot
from tunecore.errors import TuneError
from tunecore.lock import LockHolder
from tunecore.results import ResultGrid
from tunecore.storage import EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE, read_experiment
from tunecore.views import running_holder

POLL_INTERVAL_S = 0.25
"""The journal is read at most this often, however many clients ask."""
IMPORTANCE_INTERVAL_S = 5.0
"""Parameter importance is recomputed at most this often."""
LOAD_FACTOR = 25.0
"""An experiment nobody runs: a version is followed for at least this many times what it cost."""
CPU_SHARE = 0.035
"""While an experiment runs, the dashboard process uses at most about this share of a core (see :data:`BUDGET`)."""
BURST_S = 0.1
"""Unspent credit is kept up to this many CPU seconds (or what the next computation is expected to cost)."""
GROWTH_FLOOR_BYTES = 1 << 18
"""A journal under this size is taken to cost what it cost last time (fixed costs rule a small experiment's)."""
IMPORTANCE_SHARE = 0.015
"""While an experiment runs, parameter importance uses at most about this share of a core (besides CPU_SHARE:
5% of a core in all)."""
"""Unspent credit is kept up to this many CPU seconds (or what the next version is expected to cost)."""


class CpuBudget:
    """A token bucket of CPU time: ``share`` of a core per second of wall time accrues, and every CPU second
    ``used()`` counts is taken away; unspent credit is kept up to :data:`BURST_S` (or the cost asked for)."""

    def __init__(self, share: float, used: Callable[[], float]) -> None:
        self.share = share
        self._used = used
        self._lock = threading.Lock()
        self._wall = time.monotonic()
        self._cpu = used()
        self._credit = 0.0

    def affords(self, cost: float) -> bool:
        """Whether the credit now covers ``cost`` CPU seconds (what is then spent is taken from it as used)."""
        with self._lock:
            wall, cpu = time.monotonic(), self._used()
            earned = self.share * (wall - self._wall) - (cpu - self._cpu)
            self._credit = min(self._credit + earned, max(BURST_S, cost))
            self._wall, self._cpu = wall, cpu
            return self._credit >= cost


_importance_cpu = [0.0]
"""CPU seconds spent computing parameter importance in this process."""
_served_cpu = [0.0]
"""CPU seconds the dashboard's requests have used in this process (see :func:`serving`)."""
_serving = threading.local()


def dashboard_cpu() -> float:
    """CPU seconds the dashboard's requests have used so far, the one this thread is serving included: the
    server's threads only, not the rest of a process the server runs in (a test's, a notebook's)."""
    started = getattr(_serving, "started", None)
    return _served_cpu[0] + (0.0 if started is None else time.thread_time() - started)


class serving:
    """Counts the CPU time of the request this thread serves in :func:`dashboard_cpu`."""

    def __enter__(self) -> None:
        _serving.started = time.thread_time()

    def __exit__(self, *exc: object) -> None:
        _served_cpu[0] += time.thread_time() - _serving.started
        _serving.started = None


BUDGET = CpuBudget(CPU_SHARE, lambda: dashboard_cpu() - _importance_cpu[0])
"""The dashboard's budget (all its requests' CPU: reading, computing, encoding, sending, 304s; parameter
importance has its own), shared by every experiment it follows."""
IMPORTANCE_BUDGET = CpuBudget(IMPORTANCE_SHARE, lambda: _importance_cpu[0])
"""Parameter importance's own share during a run (its CPU is not charged to :data:`BUDGET`: a dear importance
does not hold back the other documents)."""
IMPORTANCE_FIRST_COST_S = 0.2
"""What an importance never computed yet is taken to cost (it is computed once the credit covers that)."""


def encode(document: Any) -> bytes:
    """A JSON document as the bytes served (strict JSON: NaN and infinities become strings, as
    :func:`payloads.strict` says). The C encoder takes the data as it is; only a document that holds a
    non-finite number or a key JSON has no form for is converted by :func:`payloads.strict` first."""
    try:
        text = json.dumps(document, allow_nan=False, separators=(",", ":"), default=repr)
    except (ValueError, TypeError):
        text = json.dumps(payloads.strict(document), allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


class LiveExperiment:
    """The experiment at ``path`` (named ``name`` in URLs), followed read-only."""

    def __init__(self, name: str, path: str, root: StorageRoot) -> None:
        self.name = name
        self.path = path
        self._root = root
        self._follower = JournalFollower(path)
        self._lock = threading.Lock()
        self._polled = -1e9
        self._version = ""
        self._stamp: tuple[Any, ...] = ()
        self._experiment: dict[str, Any] = {}
        self._holder: LockHolder | None = None
        self._grid: ResultGrid | None = None
        self._cache: dict[str, tuple[str, bytes]] = {}
        self._importance: tuple[float, int, bytes] | None = None
        """When it was last computed, a serial number (its ETag), its JSON."""
        self._importance_cost = (0, 0.0)
        """How many trials it was last computed for, and what that cost (its cost grows with the trials)."""
        self._spent = 0.0
        """Seconds spent on the current version (reading the journal, computing documents)."""
        self._cpu_at = dashboard_cpu()
        """The process's CPU time when the current version was taken."""
        self._cpu_done = self._cpu_at
        """... and when the last of its documents was computed (the process's CPU in between: what it cost)."""
        self._holder_checked = -1e9
        self._unheld = 0

    def version(self) -> str:
        """The experiment's version now (the ETag of its documents); polls the journal when it is due."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> str:
        now = time.monotonic()
        if now - self._polled < POLL_INTERVAL_S:
            return self._version
        if self._version:
            if self._holder is not None and now - self._holder_checked >= POLL_INTERVAL_S:
                self._holder_checked = now  # a run that ended is shown at once: there is nothing to slow down
                if running_holder(self.path) is not None:
                    self._unheld = 0
                else:  # twice in a row: a lock file read while it is being written names nobody
                    self._unheld += 1
                    if self._unheld >= 2:
                        self._holder, self._polled = None, -1e9
            if self._holder is None:
                if now - self._polled < LOAD_FACTOR * self._spent:
                    return self._version
            elif not BUDGET.affords(self._next_cost()):
                return self._version
        self._polled = now
        self._cpu_at = self._cpu_done = dashboard_cpu()
        self._follower.poll()
        self._holder = running_holder(self.path)
        self._holder_checked, self._unheld = now, 0
        stamp = (
            self._follower.offset,
            self._follower.records,
            _mtime_ns(os.path.join(self.path, STATE_FILE)),
            _mtime_ns(os.path.join(self.path, EXPERIMENT_FILE)),
            None if self._holder is None else (self._holder.host, self._holder.pid),
        )
        if stamp != self._stamp:
            if stamp[3] != (self._stamp[3] if self._stamp else None) or not self._experiment:
                try:
                    self._experiment = read_experiment(self.path)
                except TuneError:
                    self._experiment = {}
            self._stamp = stamp
            self._version = f"{self._follower.offset:x}-{self._follower.records:x}-{abs(hash(stamp)):x}"
            self._grid = None
            self._cache.clear()
            self._spent = 0.0
        self._spent += time.monotonic() - now
        return self._version

    def _next_cost(self) -> float:
        """What the next version is expected to cost the process: what it used from taking the current one to
        computing its last document (their sending to every client included), scaled by how much the journal
        grew since."""
        used = self._cpu_done - self._cpu_at
        try:
            size = os.stat(os.path.join(self.path, JOURNAL_FILE)).st_size
        except OSError:
            size = 0
        return used * max(1.0, size / max(GROWTH_FLOOR_BYTES, self._follower.offset))

    def _current_grid(self) -> ResultGrid:
        if self._grid is None:
            started = time.monotonic()
            metric, mode = self._experiment.get("metric"), self._experiment.get("mode")
            self._grid = payloads.grid_of(self.path, self._follower.trials, metric, mode)
            self._spent += time.monotonic() - started
        return self._grid

    def _document(self, key: str, build: Callable[[ResultGrid], Any]) -> tuple[str, bytes]:
        with self._lock:
            version = self._refresh()
            cached = self._cache.get(key)
            if cached is None or cached[0] != version:
                started = time.monotonic()
                cached = (version, encode(build(self._current_grid())))
                self._cache[key] = cached
                self._spent += time.monotonic() - started
                self._cpu_done = dashboard_cpu()
            return cached

    def summary(self) -> tuple[str, bytes]:
        """``(version, JSON)`` of its ``ls`` line."""
        return self._document("summary", lambda grid: payloads.summary(self.name, grid, self._holder))

    def trials(self) -> tuple[str, bytes]:
        """``(version, JSON)`` of its trial table."""
        return self._document("trials", payloads.table)

    def chart(self, kind: str) -> tuple[str, bytes]:
        """``(version, JSON)`` of a chart's plot data (importance: at most every few seconds)."""
        if kind != "importance":
            return self._document(f"chart:{kind}", lambda grid: payloads.chart(grid, kind))
        with self._lock:
            self._refresh()
            found = self._importance
            trials, (then, cost) = len(self._follower.trials), self._importance_cost
            interval = max(IMPORTANCE_INTERVAL_S, LOAD_FACTOR * cost * max(1.0, trials / max(1, then)))
            grid = None
            due = found is None or time.monotonic() - found[0] >= interval
            if due and self._holder is not None:  # during a run: once its own share covers it
                expected = cost * max(1.0, trials / max(1, then)) if then else IMPORTANCE_FIRST_COST_S
                due = IMPORTANCE_BUDGET.affords(expected)
            if due:
                grid = self._current_grid()
                previous = found[2] if found else encode({"kind": "importance", "note": "computing…"})
                self._importance = found = (time.monotonic(), (found[1] + 1) if found else 0, previous)
            elif found is None:  # not yet: "computing…" until the share covers it
                self._importance = found = (-1e9, 0, encode({"kind": "importance", "note": "computing…"}))
        if grid is not None:  # computed outside the lock, by one thread: the other documents do not wait for it
            started, cpu = time.monotonic(), time.thread_time()
            document = encode(payloads.chart(grid, "importance"))
            _importance_cpu[0] += time.thread_time() - cpu
            with self._lock:
                self._importance = found = (started, found[1] + 1, document)
                self._importance_cost = (len(grid), time.monotonic() - started)
        return f"importance-{found[1]}", found[2]

    def trial(self, trial_id: str) -> tuple[str, bytes] | None:
        """``(version, JSON)`` of one trial's page, or None when the journal has no such trial."""
        with self._lock:
            version = self._refresh()
            record = self._follower.trial(trial_id)
            if record is None:
                return None
            key = f"trial:{trial_id}"
            cached = self._cache.get(key)
            if cached is None or cached[0] != version:
                directory = self._root.confined(os.path.join(self.path, record.path))

                def exists(name: str) -> bool:
                    if directory is None:
                        return False
                    found = self._root.confined(os.path.join(directory, name))
                    return found is not None and os.path.isdir(found)

                started = time.monotonic()
                document = payloads.trial(self._current_grid(), record, self._holder is not None, exists)
                cached = (version, encode(document))
                self._cache[key] = cached
                self._spent += time.monotonic() - started
                self._cpu_done = dashboard_cpu()
            return cached


def _mtime_ns(file: str) -> int | None:
    try:
        return os.stat(file).st_mtime_ns
    except OSError:
        return None
