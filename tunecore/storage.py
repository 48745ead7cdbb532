"""The experiment's directory: experiment.json, the journal, and one directory per trial.

Layout::

    <storage_path>/<name>/experiment.json   what was asked (written once, atomically)
                          journal.jsonl     append-only record of trials, results and status changes
                          state.json        snapshot of the trial table (atomic; refreshed periodically)
                          <trial_id>/error.txt  checkpoint_000007/  (+ loggers' files: params.json, ...)

Trial directories are created lazily, by the first writer (a logger, a checkpoint, an error, or the
trainable asking for :func:`tunecore.get_context`): with the loggers off, a trial that writes nothing
costs no directory. The journal is the core's own record: results load from it even with every logger turned off. Writes
to it are buffered and flushed at least every ``flush_interval_s`` and at every status change, so a
crash loses at most that window of results; a torn last line is ignored when reading.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from typing import Any

from tunecore.errors import TuneError
from tunecore.jsonutil import dumps, read_lines, write_atomic

EXPERIMENT_FILE = "experiment.json"
JOURNAL_FILE = "journal.jsonl"
STATE_FILE = "state.json"
SPEC_FILE = "spec.pkl"
SNAPSHOT_FILES = ("snapshot.0", "snapshot.1")
_SNAPSHOT_HEADER = struct.Struct("<4sQQI")  # magic, sequence number, payload length, crc32 of the payload
_SNAPSHOT_MAGIC = b"TCS1"
ERROR_FILE = "error.txt"


class ExperimentStorage:
    """Writes one experiment's records."""

    def __init__(self, path: str, flush_interval_s: float = 1.0) -> None:
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self.flush_interval_s = flush_interval_s
        found = read_snapshot(self.path)  # first: damaged snapshots stop a resume before anything is written
        self._snapshot_seq = found[0] if found else 0
        self._snapshot_fds: list[int] = []
        journal_path = os.path.join(self.path, JOURNAL_FILE)
        _drop_torn_tail(journal_path)
        self._journal = open(journal_path, "a", encoding="utf-8", buffering=1 << 16)
        self._last_flush = time.monotonic()
        self.journal_records = 0
        """Records in the journal (those found when resuming included): a snapshot names how many it saw."""

    def write_experiment(self, data: dict[str, Any]) -> None:
        """Write experiment.json."""
        write_atomic(os.path.join(self.path, EXPERIMENT_FILE), data)

    def write_state(self, data: dict[str, Any]) -> None:
        """Replace state.json with a new snapshot."""
        write_atomic(os.path.join(self.path, STATE_FILE), data, indent=None)

    def trial_dir(self, trial_id: str) -> str:
        """The trial's directory (absolute). It is created by whatever first writes into it."""
        return os.path.join(self.path, trial_id)

    def write_error(self, trial_dir: str, error: str) -> None:
        """Write the trial's error.txt (the traceback of its latest failure)."""
        os.makedirs(trial_dir, exist_ok=True)
        with open(os.path.join(trial_dir, ERROR_FILE), "w", encoding="utf-8") as file:
            file.write(error)

    def journal(self, record: dict[str, Any], *, flush: bool = False) -> None:
        """Append one record to the journal; flush when asked or when the interval has passed."""
        self._journal.write(dumps(record) + "\n")
        self.journal_records += 1
        now = time.monotonic()
        if flush or now - self._last_flush >= self.flush_interval_s:
            self._journal.flush()
            self._last_flush = now

    def flush(self) -> None:
        """Write buffered journal records to disk."""
        self._journal.flush()
        self._last_flush = time.monotonic()

    def write_snapshot(self, payload: bytes) -> None:
        """Save the components' state (flush the journal first: the payload names a journal position).

        Two files are written in turn, each with a sequence number and a checksum, in place (no rename:
        a few microseconds). A write torn by a crash fails its checksum and the other file, one snapshot
        older, is used instead.
        """
        if not self._snapshot_fds:
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            self._snapshot_fds = [os.open(os.path.join(self.path, name), flags, 0o644) for name in SNAPSHOT_FILES]
        self._snapshot_seq += 1
        header = _SNAPSHOT_HEADER.pack(_SNAPSHOT_MAGIC, self._snapshot_seq, len(payload), zlib.crc32(payload))
        os.pwrite(self._snapshot_fds[self._snapshot_seq % 2], header + payload, 0)

    def close(self) -> None:
        """Flush and close the journal and the snapshot files."""
        if not self._journal.closed:
            self._journal.close()
        for fd in self._snapshot_fds:
            os.close(fd)
        self._snapshot_fds = []


def read_snapshot(path: str) -> tuple[int, bytes] | None:
    """The newest valid snapshot of the experiment at ``path`` as ``(sequence, payload)``, or None.

    Raises TuneError when snapshot files exist but none is valid (never a silent fresh start).
    """
    found: list[tuple[int, bytes]] = []
    present = []
    for name in SNAPSHOT_FILES:
        file = os.path.join(path, name)
        if not os.path.exists(file):
            continue
        present.append(file)
        with open(file, "rb") as handle:
            data = handle.read()
        if len(data) < _SNAPSHOT_HEADER.size:
            continue
        magic, seq, length, crc = _SNAPSHOT_HEADER.unpack_from(data)
        payload = data[_SNAPSHOT_HEADER.size : _SNAPSHOT_HEADER.size + length]
        if magic == _SNAPSHOT_MAGIC and len(payload) == length and zlib.crc32(payload) == crc:
            found.append((seq, payload))
    if found:
        return max(found)
    if any(os.path.getsize(file) > 0 for file in present):
        raise TuneError(
            f"the state snapshots of {path} are damaged ({', '.join(present)} fail their checksums):"
            " the experiment cannot be resumed from them"
        )
    return None


def read_journal(path: str) -> list[dict[str, Any]]:
    """The records of the experiment's journal (a torn last line is ignored); TuneError if it is garbled."""
    journal = os.path.join(path, JOURNAL_FILE)
    if not os.path.exists(journal):
        return []
    try:
        return read_lines(journal)
    except ValueError as exc:
        raise TuneError(f"the journal of {path} is damaged: {exc}") from exc


def _drop_torn_tail(path: str) -> None:
    """Cut a torn last line (left by a crash mid-write), so that appended records start on a fresh line."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb+") as file:
        size = file.seek(0, os.SEEK_END)
        position = size
        while position > 0:
            step = min(4096, position)
            file.seek(position - step)
            chunk = file.read(step)
            newline = chunk.rfind(b"\n")
            if newline != -1:
                position = position - step + newline + 1
                break
            position -= step
        if position != size:
            file.truncate(position)
