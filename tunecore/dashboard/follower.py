"""Follow one experiment's journal incrementally: read only the bytes appended since the last call.

The journal is opened read-only (``"rb"``), one complete line at a time: a partial last line (a record the
run is still writing) is left for the next call, which reads it again once its newline is there. Nothing is
locked, written or unpickled. A journal that shrank or was replaced (another file at the same path) is read
again from its start.
"""

from __future__ import annotations

import json
import os

import attrs

from tunecore.journal import TrialRecord, Trials, parse
from tunecore.storage import JOURNAL_FILE

READ_CHUNK = 1 << 22
"""At most this many bytes are read per call (a large journal is caught up over several calls)."""


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
    _identity: tuple[int, int] | None = None

    def poll(self) -> bool:
        """Read what was appended since the last call; True when some record was read (or the journal restarted)."""
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
            if status.st_size == self.offset:
                return restarted
            handle.seek(self.offset)
            data = handle.read(min(status.st_size - self.offset, READ_CHUNK))
        end = data.rfind(b"\n")
        if end < 0:
            return restarted  # only a partial line so far: wait for its newline
        self._apply(data[: end + 1])
        self.offset += end + 1
        return True

    def _reset(self) -> bool:
        self.trials, self.offset, self.records, self._identity = {}, 0, 0, None
        return True

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
            self.records += 1

    def trial(self, trial_id: str) -> TrialRecord | None:
        """The record of ``trial_id``, or None."""
        return self.trials.get(trial_id)


def _loads(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None
