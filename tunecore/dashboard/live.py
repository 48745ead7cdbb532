"""One followed experiment: its journal follower and its JSON documents, cached by the experiment's version.

Many clients cost one computation: each document is computed once per version (the journal's bytes and
records read, state.json's and experiment.json's modification times, who holds the lock) and served as the
same bytes until the version changes. The cost to the experiment is bounded: the next version is looked for
no sooner than :data:`POLL_INTERVAL_S` and no sooner than :data:`LOAD_FACTOR` times the seconds spent on the
current one (reading the journal and computing its documents), so following uses at most about 1/LOAD_FACTOR
of a core whatever the experiment's size or the number of clients. A small experiment is therefore updated
within a second; a large, fast one less often. Parameter importance (scikit-learn, the dearest document) is
recomputed no sooner than :data:`IMPORTANCE_INTERVAL_S` and LOAD_FACTOR times its own cost (the last one,
scaled by how many more trials there are now).
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
from tunecore.storage import EXPERIMENT_FILE, STATE_FILE, read_experiment
from tunecore.views import running_holder

POLL_INTERVAL_S = 0.25
"""The journal is read at most this often, however many clients ask."""
IMPORTANCE_INTERVAL_S = 5.0
"""Parameter importance is recomputed at most this often."""
LOAD_FACTOR = 25.0
"""A version is followed for at least this many times what it cost to read and compute (at most 4% of a core)."""


def encode(document: Any) -> bytes:
    """A JSON document as the bytes served (strict JSON: the documents hold no NaN)."""
    return json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8")


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

    def version(self) -> str:
        """The experiment's version now (the ETag of its documents); polls the journal when it is due."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> str:
        now = time.monotonic()
        if now - self._polled < max(POLL_INTERVAL_S, LOAD_FACTOR * self._spent):
            return self._version
        self._polled = now
        self._follower.poll()
        self._holder = running_holder(self.path)
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
            if found is None or time.monotonic() - found[0] >= interval:
                grid = self._current_grid()
                previous = found[2] if found else encode({"kind": "importance", "note": "computing…"})
                self._importance = found = (time.monotonic(), (found[1] + 1) if found else 0, previous)
        if grid is not None:  # computed outside the lock, by one thread: the other documents do not wait for it
            started = time.monotonic()
            document = encode(payloads.chart(grid, "importance"))
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
            return cached


def _mtime_ns(file: str) -> int | None:
    try:
        return os.stat(file).st_mtime_ns
    except OSError:
        return None
