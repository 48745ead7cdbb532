"""Follow one experiment's journal incrementally: read only the bytes appended since the last call.

The journal is opened read-only (``"rb"``), one complete line at a time: a partial last line (a record the
run is still writing) is left for the next call, which reads it again once its newline is there. Nothing is
locked, written or unpickled. A journal that shrank or was replaced (another file at the same path) is read
again from its start (:attr:`JournalFollower.resets` counts it). Which trials each call touched is kept in
:attr:`JournalFollower.changed`, so that what is derived from them is updated one trial at a time.
"""

from __future__ import annotations

import json
import os

import attrs

from tunecore.journal import TrialRecord, Trials, parse
from tunecore.storage import JOURNAL_FILE

READ_CHUNK = 1 << 22
"""At most this many bytes are read per call by default (a large journal is caught up over several calls)."""


@attrs.define
class JournalFollower:
    """The trials of the experiment at ``path`` as its journal says now, kept up to date by :meth:`poll`."""

    path: str
    """The experiment's directory."""
    trials: Trials = attrs.field(factory=dict)
    """Every trial's record, in creation order."""
    offset: int = 0
    """Bytes of the journal consumed (up to the end of its last complete line)."""
    records: int = 0
    """Records read."""
    changed: set[str] = attrs.field(factory=set)
    """The trials the records read since :meth:`take_changed` was last called are about."""
    resets: int = 0
    """How many times the journal was read again from its start (it shrank, was replaced or removed)."""
    size: int = 0
    """The journal's size when it was last looked at (``size - offset``: bytes not read yet)."""
    _identity: tuple[int, int] | None = None

    def poll(self, limit: int = READ_CHUNK) -> bool:
        """Read what was appended since the last call, at most ``limit`` bytes (whole lines; one longer line is
        read whole); True when some record was read (or the journal restarted)."""
        file = os.path.join(self.path, JOURNAL_FILE)
        try:
            handle = open(file, "rb")  # read-only: closed below
        except FileNotFoundError:
            return self._reset() if self.offset else False
        with handle:
            status = os.fstat(handle.fileno())
            identity = (status.st_dev, status.st_ino)
            restarted = False
            if identity != self._identity or status.st_size < self.offset:
                restarted = self._identity is not None
                self._reset()
                self._identity = identity
            self.size = status.st_size
            if status.st_size == self.offset:
                return restarted
            handle.seek(self.offset)
            data = handle.read(min(status.st_size - self.offset, max(1, limit)))
            end = data.rfind(b"\n")
            if end < 0 and self.offset + len(data) < status.st_size:  # one line longer than the limit
                data += handle.readline()
                end = data.rfind(b"\n")
        if end < 0:
            return restarted  # only a partial line so far: wait for its newline
        self._apply(data[: end + 1])
        self.offset += end + 1
        return True

    def _reset(self) -> bool:
        self.trials, self.offset, self.records, self._identity = {}, 0, 0, None
        self.changed = set()
        self.resets += 1
        return True

    def take_changed(self) -> set[str]:
        """The ids of the trials touched since the last call (of those the journal created), and forget them."""
        changed, self.changed = self.changed, set()
        return {trial_id for trial_id in changed if trial_id in self.trials}

    def _apply(self, data: bytes) -> None:
        lines = [line for line in data.split(b"\n") if line.strip()]
        try:  # one parse for all the lines (several times faster than a parse per line)
            found = json.loads(b"[" + b",".join(lines) + b"]")
        except ValueError:
            found = [_loads(line) for line in lines]
        for data_ in found:
            try:
                record = parse(data_) if isinstance(data_, dict) else None
            except (ValueError, KeyError, TypeError):
                record = None  # a garbled record: the views report damage; the dashboard shows what it can
            if record is not None:
                record.apply(self.trials)
                self.changed.add(record.trial_id)
            self.records += 1

    def trial(self, trial_id: str) -> TrialRecord | None:
        """The record of ``trial_id``, or None."""
        return self.trials.get(trial_id)


def _loads(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None
