"""A followed experiment's trials, derived data kept up to date one changed trial at a time.

:class:`TrialIndex` keeps, per trial, what every document needs (its :class:`~tunecore.Result`, its value of
the metric by :mod:`tunecore.best`'s rule, its row of ``tunecore show``'s table) and, across trials, the
ranking (best first, as ``show`` sorts), the status counts and which trials each version changed. Applying a
version costs what its changed trials cost (each moved in the ranking by bisection), not the experiment's
size. Only what touches every row starts over: a new config key (a new column), the run starting or ending
(RUNNING is shown INTERRUPTED once no process runs the experiment).
"""

from __future__ import annotations

import bisect
import itertools
import math
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from tunecore.formatting import flatten_dict, result_field
from tunecore.journal import TrialRecord, Trials
from tunecore.options import finite_float
from tunecore.results import Result, ResultGrid, result_of
from tunecore.views import STATUSES, column_value, objectives, shown_status

MAX_LOG = 512
"""How many versions' changed trials are remembered for deltas (an older ``since`` gets the whole table)."""


@attrs.define
class Entry:
    """What the index keeps about one trial."""

    index: int
    """Its place in creation order (the journal's trial order)."""
    result: Result
    """What ``ResultGrid.from_path`` would give for it (:func:`tunecore.results.result_of`)."""
    value: float | None
    """Its finite value of the metric (its last result's; None: none, or no single metric)."""
    rank: tuple[float, int, str]
    """Its key in the ranking: best first, then those without a value, each in creation order."""
    ended: tuple[bool, float, int]
    """Its key in the order trials ended (:func:`tunecore.views.best_so_far`'s)."""
    config_keys: tuple[str, ...]
    """The table's columns its config has (``config/<flattened key>``)."""
    row: list[Any] = attrs.field(factory=list)
    """Its row of the trial table (:attr:`TrialIndex.columns`)."""


class TrialIndex:
    """The trials of the experiment at ``path`` (metric and mode from its experiment.json), as :meth:`update`
    is told; every version gets a serial number, and :meth:`changed_since` says which rows it changed."""

    def __init__(self, path: str, metric: Any, mode: Any) -> None:
        self.path = path
        self.metric = metric
        self.mode = mode
        self.objectives = objectives(ResultGrid([], path, metric, mode))
        single = next(iter(self.objectives.items())) if len(self.objectives) == 1 else None
        self.sort: tuple[str, str] | None = single if single and single[1] in ("min", "max") else None
        """``(metric, mode)`` the table is sorted by (best first), or None: creation order."""
        self.epoch = secrets.token_hex(4)
        """Names this index in delta tokens (a new index, e.g. after a restart of the journal: the whole table)."""
        self.entries: dict[str, Entry] = {}
        """Every trial's entry, in creation order."""
        self.running = False
        """Whether a process ran the experiment at the last :meth:`update`."""
        self.serial = 0
        """The current version's number (one more each time :meth:`update` changes something)."""
        self.full_at = 0
        """The serial of the last version that changed every row (columns, the run starting or ending)."""
        self.columns: list[str] = []
        """The trial table's columns (``tunecore show``'s: trial_id, status, training_iteration, the metric(s),
        every config key)."""
        self._config_keys: dict[str, None] = {}
        self._ranking: list[tuple[float, int, str]] = []
        self._counts: dict[str, int] = {}
        self._running_ids: dict[str, None] = {}
        self._log: deque[tuple[int, tuple[str, ...]]] = deque(maxlen=MAX_LOG)
        self._set_columns()

    def __len__(self) -> int:
        return len(self.entries)

    def update(self, trials: Trials, changed: Iterable[str], running: bool) -> bool:
        """Apply the trials ``changed`` (ids in ``trials``) and whether a process runs the experiment now;
        True when this made a new version."""
        ids = set(changed)
        every = running != self.running
        self.running = running
        new = [tid for tid in itertools.islice(trials, len(self.entries), None)]  # created since: in order
        ids.difference_update(new)
        keys_before = len(self._config_keys)
        reorder = False  # an existing trial's config keys changed (a restart's new config): count them again
        for trial_id in ids:
            before = self.entries[trial_id].config_keys
            reorder = self._apply(trials[trial_id], self.entries[trial_id].index) != before or reorder
        for trial_id in new:
            for key in self._apply(trials[trial_id], len(self.entries)):
                self._config_keys.setdefault(key, None)
        if reorder:
            known = list(self._config_keys)
            self._config_keys = dict.fromkeys(k for e in self.entries.values() for k in e.config_keys)
            reorder = list(self._config_keys) != known
        if reorder or len(self._config_keys) != keys_before:
            self._set_columns()
            every = True
        if not (ids or new or every):
            return False
        self.serial += 1
        if every:
            for entry in self.entries.values():
                entry.row = self._row(entry)
            self.full_at = self.serial
            self._log.clear()
        else:
            for trial_id in itertools.chain(ids, new):
                entry = self.entries[trial_id]
                entry.row = self._row(entry)
            self._log.append((self.serial, (*ids, *new)))
        return True

    def _apply(self, trial: TrialRecord, index: int) -> tuple[str, ...]:
        old = self.entries.get(trial.trial_id)
        if old is not None:
            del self._ranking[bisect.bisect_left(self._ranking, old.rank)]
            self._count(old.result.status, -1)
        result = result_of(self.path, trial)
        value = None
        if self.sort is not None:
            value = _finite(result_field(result.metrics, self.sort[0]))
        rank = (math.inf if value is None else (value if self.sort and self.sort[1] == "min" else -value), index)
        history = result.metrics_history
        if not history:
            ended = (True, math.inf, index)
        else:
            stamp = _finite(history[-1].get("timestamp"))
            ended = (False, math.inf if stamp is None else stamp, index)
        keys = tuple(f"config/{key}" for key in flatten_dict(result.config))
        entry = Entry(index, result, value, (*rank, trial.trial_id), ended, keys, old.row if old else [])
        self.entries[trial.trial_id] = entry
        bisect.insort(self._ranking, entry.rank)
        self._count(result.status, 1)
        if result.status == "RUNNING":
            self._running_ids[trial.trial_id] = None
        else:
            self._running_ids.pop(trial.trial_id, None)
        return keys

    def _count(self, status: str, by: int) -> None:
        self._counts[status] = self._counts.get(status, 0) + by
        if not self._counts[status]:
            del self._counts[status]

    def _set_columns(self) -> None:
        names = ["training_iteration", *self.objectives, *self._config_keys]
        self.columns = ["trial_id", "status", *(n for n in names if n not in ("trial_id", "status"))]

    def _row(self, entry: Entry) -> list[Any]:
        result = entry.result
        status = shown_status(result.status, self.running)
        return [result.trial_id, status, *(column_value(result, c) for c in self.columns[2:])]

    # -- what the documents read -------------------------------------------------------------------------

    def ranked(self) -> Iterator[Entry]:
        """The trials best first (``tunecore show``'s order; creation order without a single metric)."""
        return (self.entries[key[2]] for key in self._ranking)

    def best(self) -> tuple[float | None, str | None]:
        """The best value and trial (:func:`tunecore.views.best_of`), or Nones."""
        if self._ranking and self.sort is not None:
            entry = self.entries[self._ranking[0][2]]
            if entry.value is not None:
                return entry.value, entry.result.trial_id
        return None, None

    def counts(self) -> dict[str, int]:
        """How many trials have each status as the views show it (:func:`tunecore.views.count_statuses`)."""
        counts: dict[str, int] = {}
        for status, n in self._counts.items():
            shown = shown_status(status, self.running)
            counts[shown] = counts.get(shown, 0) + n
        order = [s for s in STATUSES if s in counts] + sorted(set(counts) - set(STATUSES))
        return {status: counts[status] for status in order}

    def token(self) -> str:
        """This version's name for a delta (``?since=`` it)."""
        return f"{self.epoch}.{self.serial}"

    def changed_since(self, token: str | None) -> list[Entry] | None:
        """The trials changed since the version ``token`` named, in creation order; None when every row must
        be sent (no token, another index's, one older than :data:`MAX_LOG` versions or than a change of every
        row)."""
        epoch, _, serial_text = (token or "").partition(".")
        if epoch != self.epoch or not serial_text.isdigit():
            return None
        serial = int(serial_text)
        if serial > self.serial or serial < self.full_at:
            return None
        if serial < self.serial and (not self._log or self._log[0][0] > serial + 1):
            return None
        ids: dict[str, None] = {}
        for logged, changed in reversed(self._log):
            if logged <= serial:
                break
            ids.update(dict.fromkeys(changed))
        return sorted((self.entries[tid] for tid in ids), key=lambda entry: entry.index)

    def grid(self, entries: Iterable[Entry] | None = None) -> ResultGrid:
        """A :class:`~tunecore.ResultGrid` of ``entries`` (default: every trial), in creation order."""
        chosen = self.entries.values() if entries is None else sorted(entries, key=lambda entry: entry.index)
        return ResultGrid([entry.result for entry in chosen], self.path, self.metric, self.mode)

    def newest(self, count: int) -> list[Entry]:
        """The ``count`` trials created last."""
        return list(itertools.islice(reversed(self.entries.values()), count))

    def running_trials(self, count: int) -> list[Entry]:
        """Up to ``count`` of the trials the journal says run, the newest first."""
        return [self.entries[tid] for tid in itertools.islice(reversed(self._running_ids), count)]

    def top(self, count: int) -> list[Entry]:
        """The ``count`` best trials (those with a value; none without a single metric)."""
        if self.sort is None:
            return []
        return [e for e in itertools.islice(self.ranked(), count) if e.value is not None]

    def by_end(self) -> list[Entry]:
        """Every trial in the order they ended (:func:`tunecore.views.best_so_far`'s)."""
        return sorted(self.entries.values(), key=lambda entry: entry.ended)


def _finite(value: Any) -> float | None:
    """:func:`tunecore.options.finite_float`, quicker for a plain float or int (no ABC check: the index does
    this for every changed trial)."""
    if type(value) is float or type(value) is int:
        return float(value) if math.isfinite(value) else None
    return finite_float(value)
