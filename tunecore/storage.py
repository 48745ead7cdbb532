"""The experiment's directory: experiment.json, the journal, and one directory per trial.

Layout::

    <storage_path>/<name>/experiment.json   what was asked (written once, atomically)
                          journal.jsonl     append-only record of trials, results and status changes
                          state.json        snapshot of the trial table (atomic; refreshed periodically)
                          lock              held by the process running or resuming it (see lock.py)
                          result.jsonl  progress.csv  the json and csv loggers' files (every trial's results)
                          <trial_id>/error.txt  checkpoint_000007/  (+ per-trial logger files: params.json, ...)

Trial directories are created lazily, by the first writer (a checkpoint, an error, the trainable asking
for :func:`tunecore.get_context`, or a logger with ``per_trial=True``): a trial that writes nothing costs
no directory, with the default loggers too. The journal is the core's own record: results load from it
even with every logger turned off. Writes to it are buffered and flushed at least every
``flush_interval_s``, at every status change but a launch (RUNNING: a crash then only loses that the
trial had started) and at every checkpoint, so a crash loses at most that window of results; a torn
last line is ignored when reading.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from typing import Any, TextIO

from tunecore.errors import TuneError
from tunecore.jsonutil import dumps, parse_lines, write_atomic
from tunecore.lock import ExperimentLock

EXPERIMENT_FILE = "experiment.json"
JOURNAL_FILE = "journal.jsonl"
STATE_FILE = "state.json"
SPEC_FILE = "spec.pkl"
SNAPSHOT_FILES = ("snapshot.0", "snapshot.1")
_SNAPSHOT_HEADER = struct.Struct("<4sQQI")  # magic, sequence number, payload length, crc32 of the payload
_SNAPSHOT_MAGIC = b"TCS1"
ERROR_FILE = "error.txt"
TRIAL_ROW_FILES = ("result.jsonl", "progress.csv")
"""Experiment-level files of the built-in ``json`` and ``csv`` loggers whose every row names its trial
(``trial_id``): a repair keeps only the rows of trials the journal created (see :mod:`tunecore.integrity`)."""


class ExperimentStorage:
    """Writes one experiment's records."""

    def __init__(self, path: str, flush_interval_s: float = 1.0, *, purpose: str = "run") -> None:
        self.path = os.path.abspath(path)
        _make_directory(self.path, "the experiment directory")
        self._lock = ExperimentLock.acquire(self.path, purpose)  # first: one process at a time
        try:
            found = read_snapshot(self.path)  # damaged snapshots stop a resume before anything is written
        except BaseException:
            self._lock.release()
            raise
        self.flush_interval_s = flush_interval_s
        self._snapshot_seq = found[0] if found else 0
        self._snapshot_fds: list[int] = []
        self._journal: TextIO | None = None  # opened at the first write: a resume checks everything first
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

    def write_error(self, trial_dir: str, error: str, failure: int = 1, header: str | None = None) -> None:
        """Append a failure's traceback to the trial's error.txt, under ``Failure # N (occurred at ...)``
        (or ``header``).

        Every attempt is kept (as Ray Tune does): retries add to the file, never replace it.
        """
        os.makedirs(trial_dir, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        title = header or f"Failure # {failure}"
        with open(os.path.join(trial_dir, ERROR_FILE), "a", encoding="utf-8") as file:
            file.write(f"{title} (occurred at {stamp})\n{error.rstrip()}\n\n")

    def journal(self, record: dict[str, Any], *, flush: bool = False) -> None:
        """Append one record to the journal; flush when asked or when the interval has passed.

        A trial's creation is always flushed: it is on disk before anything can create the trial's
        directory, so that a resume can tell a directory the journal does not explain (see integrity.py).
        """
        journal = self._open_journal()
        journal.write(dumps(record) + "\n")
        self.journal_records += 1
        now = time.monotonic()
        if flush or record.get("event") == "trial" or now - self._last_flush >= self.flush_interval_s:
            journal.flush()
            self._last_flush = now

    def flush(self) -> None:
        """Write buffered journal records to disk."""
        if self._journal is not None:
            self._journal.flush()
        self._last_flush = time.monotonic()

    def _open_journal(self) -> TextIO:
        if self._journal is None:
            journal_path = os.path.join(self.path, JOURNAL_FILE)
            _drop_torn_tail(journal_path)
            self._journal = open(journal_path, "a", encoding="utf-8", buffering=1 << 16)
        return self._journal

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
        """Flush and close the journal and the snapshot files; release the directory's lock."""
        try:
            if self._journal is not None and not self._journal.closed:
                self._journal.close()
            for fd in self._snapshot_fds:
                os.close(fd)
            self._snapshot_fds = []
        finally:
            self._lock.release()


def claim_experiment_directory(storage_path: str, name: str) -> str:
    """Create ``<storage_path>/<name>`` for a new experiment, atomically: never one another process has.

    An existing name is never written into: ``_2``, ``_3``... is added until ``os.mkdir`` creates a new
    directory. Raises TuneError when ``storage_path`` cannot hold experiments (a file, not writable).
    """
    root = os.path.abspath(storage_path)
    _make_directory(root, "storage_path")
    path, counter = os.path.join(root, name), 1
    while True:
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            counter += 1
            path = os.path.join(root, f"{name}_{counter}")
        except OSError as exc:
            raise TuneError(
                f"cannot create the experiment directory {path}: {exc.strerror or exc}."
                " Choose a storage_path where you may write (RunConfig(storage_path=...) or storage_path = ...)"
            ) from exc


def read_experiment(path: str) -> dict[str, Any]:
    """The contents of the experiment's experiment.json; TuneError if it is missing or damaged."""
    file = os.path.join(path, EXPERIMENT_FILE)
    if not os.path.isfile(file):
        raise TuneError(f"{path} is not a tunecore experiment directory (no {EXPERIMENT_FILE})")
    try:
        with open(file, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TuneError(
            f"{file} is damaged ({type(exc).__name__}: {exc}): the experiment cannot be read without it."
            " Put back a copy of it if you have one"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("param_space", {}), dict):
        raise TuneError(f"{file} is damaged (it is not the JSON object tunecore wrote): put back a copy of it")
    return data


def _make_directory(path: str, what: str) -> None:
    """``os.makedirs`` with a TuneError that says what is wrong with ``path``."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise TuneError(f"{what} {path} is a file, not a directory: choose a directory for the experiments")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise TuneError(
            f"cannot create {what} {path}: {exc.strerror or exc}. Choose a directory where you may write"
            " (RunConfig(storage_path=...) or storage_path = ... in the experiment file)"
        ) from exc


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
    return parse_journal(read_journal_text(path), path)


def read_journal_text(path: str) -> str:
    """The experiment's journal as it is now, unparsed ("" when it has none)."""
    try:
        with open(os.path.join(path, JOURNAL_FILE), encoding="utf-8") as file:
            return file.read()
    except FileNotFoundError:
        return ""


def parse_journal(text: str, path: str) -> list[dict[str, Any]]:
    """The records of the journal ``text`` of the experiment at ``path``; TuneError if it is garbled."""
    try:
        return parse_lines(text, os.path.join(path, JOURNAL_FILE))
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
