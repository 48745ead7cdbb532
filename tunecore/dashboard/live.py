"""One followed experiment: its journal follower, its trial index and its JSON documents, cached by version.

Many clients cost one computation: each document is computed once per version (the trial index's serial
number, state.json's and experiment.json's modification times, who holds the lock) and served as the same
bytes until the version changes. The next version is looked for no sooner than :data:`POLL_INTERVAL_S`.
What a version costs grows with what changed, not with the experiment's size: the journal is read from where
the last version stopped (at most :data:`RUN_READ_BYTES` per version while the experiment runs), the
:class:`~tunecore.dashboard.index.TrialIndex` updates the rows of the trials those records touched, the trial
table is served as the rows changed since the client's version (``?since=``), and the charts show a fixed
number of trials (:mod:`~tunecore.dashboard.payloads`). The charts are taken again at most every
:data:`CHART_INTERVAL_S`, and during a run only when their own budget covers what their last generation cost
(:data:`CHART_BUDGET`: :data:`CHART_SHARE` of a core); the summary says which generation they are at, so
that a client asks for them only when it changed.

The cost to a running experiment is bounded by :data:`BUDGET`, the safety net: a token bucket of the CPU time
the dashboard's requests use (everything they do: reading the journal, computing and encoding documents,
sending them to every client, answering 304s; counted per server thread, so a process the server runs in is
not charged; the charts' requests have their own budget): credit accrues at :data:`CPU_SHARE` of a core per
second (2.5%), at most :data:`BURST_S` (or the cost asked for) is kept, and the requests' CPU time is taken
from it. While a process holds the experiment's lock, a new version is taken only when the credit covers
what the last one cost, its reading of the journal replaced by what the bytes this one would read cost at
the cheapest rate per byte of the last :data:`READ_RATES` versions (:class:`ReadingCost`; under
:data:`GROWTH_FLOOR_BYTES` counts as that much: fixed costs rule there; one slow read, a garbage collection
in it, is not extrapolated). Credit is earned before it is spent,
not paid back after, and earned by the run itself: when a run begins (or is first seen) every budget drops
what it earned before (:meth:`CpuBudget.restart`; a debt is kept), so the run's first version (which reads no
more than RUN_READ_BYTES either) and its first charts are paid out of its own share. So even a short run is
charged no more than about its share, whatever the experiment's size, speed or number of clients; a run
that writes its journal faster than that share can read it is shown behind (the summary's ``behind_bytes``),
moving.
The end of a run is shown at once (the lock's holder is looked at every POLL_INTERVAL_S, one small file, and
a run that no longer holds it twice in a row is over: nothing to slow down). An experiment nobody runs is
followed with the older rule: no sooner than :data:`LOAD_FACTOR` times what the current version cost.
Parameter importance (scikit-learn, the dearest document, over every trial) is recomputed no sooner than
:data:`IMPORTANCE_INTERVAL_S` and LOAD_FACTOR times its own cost (the last one, scaled by how many more
trials there are now); during a run only when :data:`IMPORTANCE_BUDGET` (its own share, besides CPU_SHARE and
CHART_SHARE) covers that, the first time an estimate from the number of trials (:data:`IMPORTANCE_FIRST_COST_S`;
until then it says "computing…").
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from tunecore.dashboard import payloads
from tunecore.dashboard.follower import READ_CHUNK, JournalFollower
from tunecore.dashboard.index import TrialIndex
from tunecore.dashboard.paths import StorageRoot
from tunecore.errors import TuneError
from tunecore.lock import LockHolder
from tunecore.storage import ERROR_FILE, EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE, read_experiment
from tunecore.views import running_holder

POLL_INTERVAL_S = 0.25
"""The journal is read at most this often, however many clients ask."""
IMPORTANCE_INTERVAL_S = 5.0
"""Parameter importance is recomputed at most this often."""
LOAD_FACTOR = 25.0
"""An experiment nobody runs: a version is followed for at least this many times what it cost."""
CPU_SHARE = 0.025
"""While an experiment runs, following it (reading the journal, the summaries and the trial table, 304s) uses
at most about this share of a core (see :data:`BUDGET`)."""
CHART_SHARE = 0.01
"""... and the charts (computing, encoding and sending them; but importance) this share, besides
(:data:`CHART_BUDGET`)."""
BURST_S = 0.1
"""Unspent credit is kept up to this many CPU seconds (or what the next computation is expected to cost)."""
GROWTH_FLOOR_BYTES = 1 << 15
"""Reading fewer journal bytes than this is taken to cost as much as reading this many (fixed costs rule)."""
RUN_READ_BYTES = 1 << 18
"""While the experiment runs, a version reads at most this many journal bytes (the next version reads on)."""
CHART_INTERVAL_S = 1.0
"""During a run, the charts (but importance, see :data:`IMPORTANCE_INTERVAL_S`) are taken again at most this
often; the summary and the trial table follow every version."""
READ_RATES = 4
"""The next version's reading is expected to cost the cheapest per byte of this many last ones."""
IMPORTANCE_SHARE = 0.015
"""While an experiment runs, parameter importance uses at most about this share of a core (besides CPU_SHARE
and CHART_SHARE: 5% of a core in all)."""


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

    def restart(self) -> None:
        """A run begins: the credit earned before it is dropped (a debt is kept), so that the run pays for what
        the dashboard spends on it, its first version and first charts included, out of its own share. The
        budgets are shared by every experiment followed: another running one loses its unspent credit too, and
        waits a little longer for its next step (never spends more)."""
        with self._lock:
            wall, cpu = time.monotonic(), self._used()
            earned = self.share * (wall - self._wall) - (cpu - self._cpu)
            self._credit = min(self._credit + earned, 0.0)
            self._wall, self._cpu = wall, cpu


class ReadingCost:
    """What reading the journal costs per byte, as the cheapest of the last :data:`READ_RATES` versions (each
    read counted as at least :data:`GROWTH_FLOOR_BYTES`): a version slowed down once (a full garbage
    collection in its reading) is not extrapolated to the next, larger reads, which would hold them back for
    tens of seconds while the journal grows; one that cost less than expected is paid back by the budget."""

    def __init__(self) -> None:
        self._rates: collections.deque[float] = collections.deque(maxlen=READ_RATES)

    def record(self, cpu: float, read: int) -> None:
        """A version read ``read`` journal bytes for ``cpu`` CPU seconds."""
        self._rates.append(max(cpu, 0.0) / max(GROWTH_FLOOR_BYTES, read))

    def expected(self, coming: int) -> float:
        """CPU seconds reading ``coming`` bytes is expected to cost (0 before any version was recorded)."""
        return min(self._rates, default=0.0) * max(GROWTH_FLOOR_BYTES, coming)


_importance_cpu = [0.0]
"""CPU seconds spent computing parameter importance in this process."""
_served_cpu = {"follow": 0.0, "charts": 0.0}
"""CPU seconds the dashboard's requests have used in this process (see :func:`serving`), by kind: the charts'
requests (but importance's) and every other."""
_serving = threading.local()


def dashboard_cpu(kind: str | None = None) -> float:
    """CPU seconds the dashboard's requests (of ``kind``, ``"follow"`` or ``"charts"``; default: all) have used
    so far, the one this thread is serving included: the server's threads only, not the rest of a process the
    server runs in (a test's, a notebook's)."""
    started = getattr(_serving, "started", None)
    running = 0.0 if started is None else time.thread_time() - started
    if kind is None:
        return sum(_served_cpu.values()) + running
    return _served_cpu[kind] + (running if getattr(_serving, "kind", "follow") == kind else 0.0)


class serving:
    """Counts the CPU time of the request this thread serves in :func:`dashboard_cpu` (as ``"follow"`` unless
    :func:`serving_as` says otherwise)."""

    def __enter__(self) -> None:
        _serving.started, _serving.kind = time.thread_time(), "follow"

    def __exit__(self, *exc: object) -> None:
        _served_cpu[_serving.kind] += time.thread_time() - _serving.started
        _serving.started = None


def serving_as(kind: str) -> None:
    """Count the request this thread serves, all of it, as ``kind`` (``"charts"``: a chart's, but importance's)."""
    _serving.kind = kind


def charged_cpu() -> float:
    """What :data:`BUDGET` counts: the CPU of following (:func:`dashboard_cpu`'s ``"follow"``) but parameter
    importance's (it has its own budget)."""
    return dashboard_cpu("follow") - _importance_cpu[0]


BUDGET = CpuBudget(CPU_SHARE, charged_cpu)
"""The budget of following (the requests' CPU but the charts': reading, computing, encoding, sending, 304s;
parameter importance has its own), shared by every experiment the dashboard follows."""
CHART_BUDGET = CpuBudget(CHART_SHARE, lambda: dashboard_cpu("charts"))
"""The charts' budget (their requests' CPU, importance's but): a new generation of the charts is taken during a
run only when it covers what the last one cost, so the charts never hold back the count and the best."""
IMPORTANCE_BUDGET = CpuBudget(IMPORTANCE_SHARE, lambda: _importance_cpu[0])
"""Parameter importance's own share during a run (its CPU is not charged to :data:`BUDGET`: a dear importance
does not hold back the other documents)."""
IMPORTANCE_FIRST_COST_S = 0.08
"""What an importance never computed yet is taken to cost, plus :data:`IMPORTANCE_COST_PER_TRIAL_S` a trial (it
is computed once the credit covers that). Measured on the 2-core machine, scikit-learn loaded: 0.08 CPU s for
30 trials, 0.11 s for 300, 0.17 s for 1,000."""
IMPORTANCE_COST_PER_TRIAL_S = 1e-4
"""See :data:`IMPORTANCE_FIRST_COST_S`."""


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
        self._experiment_mtime: int | None = None
        self._holder: LockHolder | None = None
        self._index = TrialIndex(path, None, None)
        self._resets = self._follower.resets
        self._cache: dict[str, tuple[str, bytes]] = {}
        """Documents of the current version, by name."""
        self._chart_cache: dict[str, tuple[str, bytes]] = {}
        """Charts of the current generation (:attr:`_charts`), by kind."""
        self._charts = (0, "", -1e9)
        """The charts' generation, the version it took and when."""
        self._chart_cost = 0.0
        """What the charts' last generation cost (their requests' CPU, every client's)."""
        self._chart_cpu_at = dashboard_cpu("charts")
        self._importance: tuple[float, int, bytes] | None = None
        """When it was last computed, a serial number (its ETag), its JSON."""
        self._importance_cost = (0, 0.0)
        """How many trials it was last computed for, and what that cost (its cost grows with the trials)."""
        self._spent = 0.0
        """Seconds spent on the current version (reading the journal, computing documents)."""
        self._read = 0
        """Journal bytes the current version read."""
        self._read_cpu = 0.0
        """What reading them and updating the index cost."""
        self._reading = ReadingCost()
        """What reading costs per byte (the last versions')."""
        self._cpu_at = charged_cpu()
        """The CPU time :data:`BUDGET` counts when the current version was taken."""
        self._cpu_done = self._cpu_at
        """... and when the last of its documents was computed (the process's CPU in between: what it cost)."""
        self._holder_checked = -1e9
        self._unheld = 0

    def version(self) -> str:
        """The experiment's version now (the ETag of its documents); polls the journal when it is due."""
        with self._lock:
            return self._refresh()

    def take(self) -> str:
        """Take the next version now, with new charts, whatever the polling interval, the charts' interval and
        the budget say (measurements, tests)."""
        with self._lock:
            self._polled, self._holder_checked = -1e9, -1e9
            version = self._take(time.monotonic())
            self._charts = (self._charts[0] + 1, version, time.monotonic())
            return version

    def behind(self) -> int:
        """Journal bytes not read yet (as of the last version)."""
        return max(0, self._follower.size - self._follower.offset)

    def _charts_due(self, now: float) -> None:
        """A new generation of the charts, when they lag the version, the interval has passed and (during a
        run) :data:`CHART_BUDGET` covers what the last generation cost."""
        generation, version, taken = self._charts
        if version == self._version or now - taken < CHART_INTERVAL_S:
            return
        if self._holder is not None and not CHART_BUDGET.affords(self._chart_cost):
            return
        cpu = dashboard_cpu("charts")
        self._chart_cost, self._chart_cpu_at = cpu - self._chart_cpu_at, cpu
        self._charts = (generation + 1, self._version, now)

    def _refresh(self) -> str:
        now = time.monotonic()
        self._charts_due(now)
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
        return self._take(now)

    def _take(self, now: float) -> str:
        self._polled = now
        self._cpu_at = self._cpu_done = charged_cpu()
        holder = running_holder(self.path)  # before reading: a run's first version reads no more than the next
        if holder is not None and self._holder is None:  # a run begins (or is first seen): it pays its own way
            for budget in (BUDGET, CHART_BUDGET, IMPORTANCE_BUDGET):
                budget.restart()
        offset = self._follower.offset
        self._follower.poll(RUN_READ_BYTES if holder is not None else READ_CHUNK)
        self._read = self._follower.offset - offset
        self._holder, self._holder_checked, self._unheld = holder, now, 0
        mtime = _mtime_ns(os.path.join(self.path, EXPERIMENT_FILE))
        if mtime != self._experiment_mtime or not self._experiment:
            self._experiment_mtime = mtime
            try:
                self._experiment = read_experiment(self.path)
            except TuneError:
                self._experiment = {}
        metric, mode = self._experiment.get("metric"), self._experiment.get("mode")
        index = self._index
        if self._follower.resets != self._resets or (metric, mode) != (index.metric, index.mode):
            self._resets = self._follower.resets  # the journal started over, or the metric changed: all anew
            index = self._index = TrialIndex(self.path, metric, mode)
            self._follower.take_changed()
            changed: set[str] = set(self._follower.trials)
        else:
            changed = self._follower.take_changed()
        index.update(self._follower.trials, changed, self._holder is not None)
        self._read_cpu = charged_cpu() - self._cpu_at
        self._reading.record(self._read_cpu, self._read)
        stamp = (
            index.epoch,
            index.serial,
            _mtime_ns(os.path.join(self.path, STATE_FILE)),
            mtime,
            None if self._holder is None else (self._holder.host, self._holder.pid),
        )
        if stamp != self._stamp:
            self._stamp = stamp
            self._version = f"{index.epoch}-{index.serial:x}-{abs(hash(stamp)):x}"
            self._cache.clear()
            self._spent = 0.0
            self._charts_due(now)
        self._spent += time.monotonic() - now
        return self._version

    def _next_cost(self) -> float:
        """What the next version is expected to cost the process: what the current one used from its taking to
        its last document (their sending to every client included), its reading of the journal replaced by
        what the bytes the next one would read cost at the last versions' cheapest rate (:class:`ReadingCost`;
        the rest does not grow with them)."""
        used = max(self._cpu_done - self._cpu_at, 0.0)
        reading = min(self._read_cpu, used)
        try:
            size = os.stat(os.path.join(self.path, JOURNAL_FILE)).st_size
        except OSError:
            size = 0
        coming = min(RUN_READ_BYTES, max(0, size - self._follower.offset))
        return used - reading + self._reading.expected(coming)

    def _document(self, key: str, version: str, build: Callable[[], Any]) -> tuple[str, bytes]:
        """``(version, JSON)`` of ``build()``, computed once for ``version`` (the caller holds the lock)."""
        cached = self._cache.get(key)
        if cached is None or cached[0] != version:
            started = time.monotonic()
            cached = (version, encode(build()))
            self._cache[key] = cached
            self._spent += time.monotonic() - started
            self._cpu_done = charged_cpu()
        return cached

    def summary(self) -> tuple[str, bytes]:
        """``(version, JSON)`` of its ``ls`` line, with where the page's documents are: the trial table's
        ``token`` (``?since=`` it), the charts' ``charts`` generation, how many journal bytes are not read yet."""
        with self._lock:
            version = self._refresh()

            def build() -> dict[str, Any]:
                document = payloads.summary(self.name, self._index, self._holder)
                document["token"] = self._index.token()
                document["charts"] = self._charts[0]
                document["behind_bytes"] = self.behind()
                return document

            return self._document("summary", f"{version}.{self._charts[0]}", build)

    def trials(self, since: str | None = None) -> tuple[str, bytes]:
        """``(version, JSON)`` of its trial table: every row, or with ``since`` (the ``token`` of a table the
        client has) the rows changed since (:func:`payloads.table`)."""
        with self._lock:
            version = self._refresh()
            if since is None:
                return self._document("trials", version, lambda: payloads.table(self._index))
            return self._document(f"trials?since={since}", version, lambda: payloads.table(self._index, since))

    def chart(self, kind: str) -> tuple[str, bytes]:
        """``(version, JSON)`` of a chart's plot data (importance: at most every few seconds)."""
        if kind != "importance":
            with self._lock:
                self._refresh()
                etag = f"{kind}-{self._index.epoch}-{self._charts[0]}"
                cached = self._chart_cache.get(kind)
                if cached is None or cached[0] != etag:  # kept across versions: a generation spans several
                    cached = self._chart_cache[kind] = (etag, encode(payloads.chart(self._index, kind)))
                return cached
        with self._lock:
            self._refresh()
            found = self._importance
            trials, (then, cost) = len(self._index), self._importance_cost
            interval = max(IMPORTANCE_INTERVAL_S, LOAD_FACTOR * cost * max(1.0, trials / max(1, then)))
            index = None
            due = found is None or time.monotonic() - found[0] >= interval
            if due and self._holder is not None:  # during a run: once its own share covers it
                first = IMPORTANCE_FIRST_COST_S + IMPORTANCE_COST_PER_TRIAL_S * trials
                expected = cost * max(1.0, trials / max(1, then)) if then else first
                due = IMPORTANCE_BUDGET.affords(expected)
            if due:
                index = self._index
                previous = found[2] if found else encode({"kind": "importance", "note": "computing…"})
                self._importance = found = (time.monotonic(), (found[1] + 1) if found else 0, previous)
            elif found is None:  # not yet: "computing…" until the share covers it
                self._importance = found = (-1e9, 0, encode({"kind": "importance", "note": "computing…"}))
            grid = None if index is None else index.grid()
        if grid is not None:  # computed outside the lock, by one thread: the other documents do not wait for it
            started, cpu = time.monotonic(), time.thread_time()
            document = encode(payloads.importance(grid))
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
            directory = self._root.confined(os.path.join(self.path, record.path))

            def confined(name: str) -> str | None:
                return None if directory is None else self._root.confined(os.path.join(directory, name))

            def exists(name: str) -> bool:
                found = confined(name)
                return found is not None and os.path.isdir(found)

            def build() -> dict[str, Any]:
                error_file = confined(ERROR_FILE)
                error_file = error_file if error_file is not None and os.path.isfile(error_file) else None
                running = self._holder is not None
                return payloads.trial(record, self._index.objectives, running, exists, error_file)

            return self._document(f"trial:{trial_id}", version, build)


def _mtime_ns(file: str) -> int | None:
    try:
        return os.stat(file).st_mtime_ns
    except OSError:
        return None
