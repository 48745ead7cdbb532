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
import time
from typing import Any

from tunecore.jsonutil import dumps, write_atomic

EXPERIMENT_FILE = "experiment.json"
JOURNAL_FILE = "journal.jsonl"
STATE_FILE = "state.json"
ERROR_FILE = "error.txt"


class ExperimentStorage:
    """Writes one experiment's records."""

    def __init__(self, path: str, flush_interval_s: float = 1.0) -> None:
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self.flush_interval_s = flush_interval_s
        self._journal = open(os.path.join(self.path, JOURNAL_FILE), "a", encoding="utf-8", buffering=1 << 16)
        self._last_flush = time.monotonic()

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
        now = time.monotonic()
        if flush or now - self._last_flush >= self.flush_interval_s:
            self._journal.flush()
            self._last_flush = now

    def flush(self) -> None:
        """Write buffered journal records to disk."""
        self._journal.flush()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close the journal."""
        if not self._journal.closed:
            self._journal.close()
