"""Built-in loggers: json (``result.jsonl``), csv (``progress.csv``) and console (live status on stderr).

A logger is attached to one experiment and receives its events as ``tunecore_*`` method calls (see
:mod:`tunecore.hookspecs`). The file loggers append every result of the experiment to one buffered file
in the experiment's directory (``per_trial=True``: one file per trial, in the trial's directory, as Ray
Tune does). A file is flushed at least every ``flush_interval_s`` seconds and when the experiment ends
(a per-trial file also when its trial ends), so that a crash loses at most that much of it; the journal,
which ``ResultGrid`` and ``tunecore show`` read, has every result anyway. Problems writing a file are
reported as warnings, once per file, and never stop the experiment.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import math
import os
import threading
import warnings
import weakref
from typing import Any, ClassVar, TextIO

import attrs

from tunecore.builtin.console import ConsoleLogger as ConsoleLogger  # its home is tunecore.builtin.console
from tunecore.experiment import ExperimentInfo
from tunecore.formatting import flatten_dict
from tunecore.jsonutil import dumps, to_json_value
from tunecore.lock import ExperimentLock
from tunecore.protocols import Logger
from tunecore.storage import read_experiment, read_journal
from tunecore.trial import Trial, TrialStatus

MAX_OPEN_FILES = 128
"""Open files per file logger at most; the least recently written one is closed (and reopened on demand)."""


def _csv_cell(value: Any) -> Any:
    """What the csv module writes for a value: numbers and strings as they are, None empty, the rest as JSON."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple, dict)):
        return dumps(value)
    converted = to_json_value(value)
    if converted is None or isinstance(converted, (str, int, float)):
        return converted
    return dumps(converted)


# --- file loggers --------------------------------------------------------------------------------------

_EXPERIMENT = ""
"""The key of the experiment-level file (per-trial files are keyed by trial id)."""


def _flush_periodically(owner_ref: weakref.ref[_FileLogger], stop: threading.Event, interval: float) -> None:
    """Body of a file logger's flusher thread; holds the logger weakly and ends when it has no open file."""
    while not stop.wait(interval):
        owner = owner_ref()
        if owner is None or not owner._flush_dirty(stop):
            return
        del owner


class _FileLogger(Logger):
    """Buffered, append-only files: one in the experiment directory (the default), or one per trial.

    A file is opened at its first write (a per-trial file when its trial starts) and kept open; writes go
    to an in-memory buffer, flushed at least every ``flush_interval_s`` seconds (by a background thread),
    when a per-trial file's trial ends and when the experiment ends, however it ends: the controller calls
    ``experiment_finished`` after a normal end, Ctrl+C and an exception alike.
    """

    filename: ClassVar[str] = ""
    newline: ClassVar[str | None] = None

    def __init__(self, flush_interval_s: float = 1.0, per_trial: bool = False) -> None:
        if isinstance(flush_interval_s, bool) or not isinstance(flush_interval_s, (int, float)):
            raise ValueError(f"flush_interval_s must be a number of seconds, got {flush_interval_s!r}")
        if not (flush_interval_s >= 0 and math.isfinite(flush_interval_s)):
            raise ValueError(f"flush_interval_s must be >= 0 and finite, got {flush_interval_s!r}")
        if not isinstance(per_trial, bool):
            raise ValueError(f"per_trial must be True or False, got {per_trial!r}")
        self.flush_interval_s = float(flush_interval_s)
        self.per_trial = per_trial
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Set up the run-time state (private attributes): no open file, nothing buffered."""
        self._files: collections.OrderedDict[str, TextIO] = collections.OrderedDict()
        self._dirty: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The options (public attributes) only: the experiment is pickled for resume with its loggers."""
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fresh_state()

    # events

    def tunecore_experiment_started(self) -> None:
        """Start from a clean state: an instance may serve several experiments (a callback, a reused logger)."""
        with self._lock:
            for key in list(self._files):  # nothing is open unless the last experiment never said it finished
                self._close(key)
            if self._stop is not None:
                self._stop.set()
        self._fresh_state()

    def tunecore_trial_started(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Note the trial's config; with ``per_trial``, open (create or append to) the trial's file."""
        with self._lock:
            self._trial_started(trial)
            if self.per_trial:
                self._failed.discard(trial.trial_id)
                self._ensure_open(experiment, trial)

    def tunecore_trial_result(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> None:
        """Append the result to the file (buffered)."""
        with self._lock:
            key = trial.trial_id if self.per_trial else _EXPERIMENT
            handle = self._ensure_open(experiment, trial)
            if handle is None:
                return
            text = self._format(key, trial, result)
            try:
                handle.write(text)
                if self.flush_interval_s == 0:
                    handle.flush()
                else:
                    self._dirty.add(key)
            except OSError as exc:
                self._fail(key, handle.name, exc)

    def tunecore_trial_paused(self, trial: Trial) -> None:
        """Forget the paused trial's config (it is noted again when the trial resumes)."""
        with self._lock:
            self._trial_left(trial.trial_id)

    def tunecore_trial_finished(self, trial: Trial) -> None:
        """Forget the trial; with ``per_trial``, flush and close its file."""
        with self._lock:
            self._trial_left(trial.trial_id)
            if self.per_trial:
                self._close(trial.trial_id)
                self._closed(trial.trial_id)

    def tunecore_experiment_finished(self) -> None:
        """Flush and close every file; stop the flusher thread."""
        with self._lock:
            for key in list(self._files):
                self._close(key)
                self._closed(key)
            if self._stop is not None:
                self._stop.set()
                self._stop = None

    def flush(self) -> None:
        """Write everything buffered so far to disk (the files stay open)."""
        with self._lock:
            for key in list(self._dirty):
                self._flush(key)

    # for subclasses (called under the lock)

    def _trial_started(self, trial: Trial) -> None:
        """The trial (re)starts with ``trial.config``."""

    def _trial_left(self, trial_id: str) -> None:
        """The trial stopped running (paused or finished): forget what was kept for its results."""

    def _opened(self, key: str, trial: Trial, path: str) -> None:
        """The file for ``key`` was opened for appending."""

    def _closed(self, key: str) -> None:
        """The file for ``key`` is done with (its trial ended, or the experiment): forget its state."""

    def _format(self, key: str, trial: Trial, result: dict[str, Any]) -> str:
        """The text to append for one result."""
        raise NotImplementedError

    # internals (the caller holds the lock)

    def _ensure_open(self, experiment: ExperimentInfo, trial: Trial) -> TextIO | None:
        key = trial.trial_id if self.per_trial else _EXPERIMENT
        handle = self._files.get(key)
        if handle is not None:
            if self.per_trial:
                self._files.move_to_end(key)
            return handle
        directory = trial.path if self.per_trial else experiment.path
        if key in self._failed or not directory:
            return None
        path = os.path.join(directory, self.filename)
        try:
            os.makedirs(directory, exist_ok=True)
            _end_with_newline(path)
            handle = open(path, "a", encoding="utf-8", newline=self.newline, buffering=1 << 16)
        except OSError as exc:
            self._fail(key, path, exc)
            return None
        self._files[key] = handle
        try:
            self._opened(key, trial, path)
        except OSError as exc:
            self._fail(key, path, exc)
            return None
        while len(self._files) > MAX_OPEN_FILES:  # e.g. many paused trials: close the least recent one
            self._close(next(iter(self._files)))
        if self.flush_interval_s > 0 and self._stop is None:
            self._stop = threading.Event()
            thread = threading.Thread(
                target=_flush_periodically,
                args=(weakref.ref(self), self._stop, self.flush_interval_s),
                name=f"tunecore-{self.filename}-flusher",
                daemon=True,
            )
            thread.start()
        return handle

    def _flush(self, key: str) -> None:
        if key not in self._dirty:
            return
        self._dirty.discard(key)
        handle = self._files.get(key)
        if handle is None:
            return
        try:
            handle.flush()
        except OSError as exc:
            self._fail(key, handle.name, exc)

    def _close(self, key: str) -> None:
        handle = self._files.pop(key, None)
        self._dirty.discard(key)
        if handle is not None:
            try:
                handle.close()
            except OSError as exc:
                warnings.warn(f"{type(self).__name__}: could not write {handle.name}: {exc}", stacklevel=3)

    def _fail(self, key: str, path: str, exc: OSError) -> None:
        self._failed.add(key)
        handle = self._files.pop(key, None)
        self._dirty.discard(key)
        if handle is not None:
            try:
                handle.close()
            except OSError:
                pass  # its buffer cannot be written either
        if self.per_trial:
            whose = f"trial {key}'s results are not logged there until it restarts"
        else:
            whose = "results are not logged there for the rest of this run"
        warnings.warn(f"{type(self).__name__}: cannot write {path} ({exc}); {whose}", stacklevel=4)

    def _flush_dirty(self, stop: threading.Event) -> bool:
        """Flush files written since the last flush; False (the thread should end) when none is open."""
        with self._lock:
            if stop is not self._stop:
                return False
            if not self._files:
                self._stop = None
                return False
            for key in list(self._dirty):
                self._flush(key)
            return True


def _end_with_newline(path: str) -> None:
    """Terminate a partly written last line (left by a crash) before appending to an existing file."""
    try:
        with open(path, "rb+") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return
            file.seek(-1, os.SEEK_END)
            if file.read(1) not in (b"\n", b"\r"):
                file.write(b"\n")
    except FileNotFoundError:
        pass


class JsonLogger(_FileLogger):
    """Appends every result as one JSON line to ``<experiment dir>/result.jsonl``, with its trial's config.

    Each line is the result as reported (with the automatic fields, ``trial_id`` among them) plus
    ``"config"``, the config of the trial that reported it (a result's own ``config`` key wins).
    ``per_trial=True`` writes instead, as Ray Tune does, ``<trial dir>/result.jsonl`` (the results alone)
    and ``<trial dir>/params.json`` (the config, rewritten at every start of the trial); that costs a
    directory and two files per trial.

    Values JSON cannot encode are converted, never fatal: numpy (and torch/jax) scalars and arrays become
    numbers and lists (via ``tolist()``), other objects their ``repr``. NaN and infinities are written as
    ``NaN`` / ``Infinity`` / ``-Infinity``, as Python's :mod:`json` does (``json.loads`` and pandas read
    them; strict JSON parsers do not). Writes are buffered; they are flushed at least every
    ``flush_interval_s`` seconds (0 = after every result), when a per-trial file's trial ends and when the
    experiment ends.
    """

    filename: ClassVar[str] = "result.jsonl"

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self._configs: dict[str, str] = {}
        """The JSON text of each running trial's config (experiment-level file)."""

    def _trial_started(self, trial: Trial) -> None:
        if not self.per_trial:
            self._configs[trial.trial_id] = dumps(trial.config)

    def _trial_left(self, trial_id: str) -> None:
        self._configs.pop(trial_id, None)

    def _opened(self, key: str, trial: Trial, path: str) -> None:
        """With ``per_trial``: write ``params.json`` (the config the trial runs with) beside ``result.jsonl``."""
        if self.per_trial:
            with open(os.path.join(trial.path or "", "params.json"), "w", encoding="utf-8") as file:
                file.write(dumps(trial.config))

    def _format(self, key: str, trial: Trial, result: dict[str, Any]) -> str:
        text = dumps(result)
        if self.per_trial:
            return text + "\n"
        extra = []
        if "trial_id" not in result:
            extra.append(f'"trial_id": {dumps(trial.trial_id)}')
        if "config" not in result:
            config = self._configs.get(trial.trial_id)
            if config is None:  # attached after the trial started
                config = self._configs[trial.trial_id] = dumps(trial.config)
            extra.append(f'"config": {config}')
        if not extra or not text.endswith("}"):
            return text + "\n"
        return (text[:-1] + ", " if text != "{}" else "{") + ", ".join(extra) + "}\n"


class CsvLogger(_FileLogger):
    """Appends every result as one row to ``<experiment dir>/progress.csv``; nested dicts become ``a/b`` columns.

    Each row is a result with its trial's config as ``config/...`` columns (``trial_id`` is a column).
    The columns are the keys of the first result written (or the header already in the file, when an
    experiment resumes). They stay fixed so that the file is always a valid table and is only ever
    appended to: keys that appear later are left out, with one warning per key naming them
    (``result.jsonl`` has them); missing keys give empty cells. None is an empty cell, lists and other
    values are written as JSON. ``per_trial=True`` writes instead one ``<trial dir>/progress.csv`` per
    trial, as Ray Tune does (its results alone, its own columns, one warning per trial). Buffering and
    flushing work as in the json logger.
    """

    filename: ClassVar[str] = "progress.csv"
    newline: ClassVar[str | None] = ""

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self._columns: dict[str, list[str]] = {}
        self._column_sets: dict[str, frozenset[str]] = {}
        self._configs: dict[str, dict[str, Any]] = {}
        """The ``config/...`` cells of each running trial (experiment-level file)."""
        self._warned: set[str] = set()
        """Trials (per-trial files) or keys (the experiment-level file) already warned about."""
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _trial_started(self, trial: Trial) -> None:
        if not self.per_trial:
            self._configs[trial.trial_id] = _config_cells(trial.config)

    def _trial_left(self, trial_id: str) -> None:
        self._configs.pop(trial_id, None)

    def _opened(self, key: str, trial: Trial, path: str) -> None:
        if key in self._columns:
            return
        with open(path, encoding="utf-8", newline="") as file:
            header = next(csv.reader(file), None)
        if header:
            self._set_columns(key, header)

    def _closed(self, key: str) -> None:
        self._columns.pop(key, None)
        self._column_sets.pop(key, None)

    def _set_columns(self, key: str, columns: list[str]) -> None:
        self._columns[key] = columns
        self._column_sets[key] = frozenset(columns)

    def _format(self, key: str, trial: Trial, result: dict[str, Any]) -> str:
        flat = _flat(result)
        if not self.per_trial:
            flat.setdefault("trial_id", trial.trial_id)
            config = self._configs.get(trial.trial_id)
            if config is None:  # attached after the trial started
                config = self._configs[trial.trial_id] = _config_cells(trial.config)
            for name, cell in config.items():
                flat.setdefault(name, cell)
        columns = self._columns.get(key)
        if columns is None:
            columns = list(flat)
            self._set_columns(key, columns)
            self._writer.writerow(columns)
        elif not self._column_sets[key].issuperset(flat):
            self._warn_left_out(key, trial, flat)
        cells = [flat.get(name) for name in columns]
        if not _PLAIN_CELLS.issuperset(map(type, cells)):
            cells = [_csv_cell(cell) for cell in cells]
        self._writer.writerow(cells)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def _warn_left_out(self, key: str, trial: Trial, flat: dict[str, Any]) -> None:
        known = self._column_sets[key]
        if self.per_trial:
            if trial.trial_id in self._warned:
                return
            self._warned.add(trial.trial_id)
            new = [name for name in flat if name not in known]
            where = f"trial {trial.trial_id} reported keys that are not columns of its progress.csv"
        else:
            new = [name for name in flat if name not in known and name not in self._warned]
            if not new:
                return
            self._warned.update(new)
            where = f"trial {trial.trial_id} reported keys that are not columns of the experiment's progress.csv"
        warnings.warn(
            f"CsvLogger: {where} and are left out there (result.jsonl has them): {', '.join(new)}", stacklevel=5
        )


def write_trial_files(path: str | os.PathLike[str]) -> list[str]:
    """Write Ray Tune's per-trial files of the experiment at ``path`` from its journal; the trial ids written.

    Each trial the journal holds gets ``params.json``, ``result.jsonl`` and ``progress.csv`` in its
    directory, as the ``json`` and ``csv`` loggers write them with ``per_trial=True`` during a run
    (files of those names are replaced; a trial that never started gets none). Works on any experiment,
    finished or interrupted, whatever loggers it ran with. Holds the experiment's lock meanwhile: TuneError
    while a process runs or resumes it, or when ``path`` is not an experiment directory.
    """
    path = os.path.abspath(os.fspath(path))
    read_experiment(path)
    lock = ExperimentLock.acquire(path, "write_trial_files")
    try:
        experiment = ExperimentInfo(os.path.basename(path), path, None, None)
        loggers: list[_FileLogger] = [JsonLogger(3600.0, per_trial=True), CsvLogger(3600.0, per_trial=True)]
        views: dict[str, Trial] = {}
        running: set[str] = set()
        for record in read_journal(path):
            kind, trial_id = record.get("event"), str(record.get("trial_id"))
            if kind == "trial":
                trial_dir = os.path.join(path, str(record["path"]))
                for name in ("params.json", JsonLogger.filename, CsvLogger.filename):
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        os.remove(os.path.join(trial_dir, name))
                views[trial_id] = Trial(trial_id, record["config"], TrialStatus.PENDING, trial_dir)
                continue
            view = views.get(trial_id)
            if view is None:
                continue
            if kind == "config":
                views[trial_id] = view = attrs.evolve(view, config=record["config"])
            if kind == "result" or (kind == "status" and record.get("status") == "RUNNING"):
                if trial_id not in running:
                    running.add(trial_id)
                    for logger in loggers:
                        logger.tunecore_trial_started(experiment, view)
                if kind == "result":
                    for logger in loggers:
                        logger.tunecore_trial_result(experiment, view, record["result"])
            elif kind == "status" and trial_id in running:
                running.discard(trial_id)
                for logger in loggers:
                    logger.tunecore_trial_finished(view)
        for logger in loggers:
            logger.tunecore_experiment_finished()
        return list(views)
    finally:
        lock.release()


_PLAIN_CELLS = frozenset((str, int, float, bool, type(None)))
"""Types the csv module writes as :func:`_csv_cell` would (the common case: no conversion needed)."""
_STR = frozenset((str,))


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    """:func:`flatten_dict` of a result, with a fast path for the common flat result of plain values."""
    if _PLAIN_CELLS.issuperset(map(type, result.values())) and _STR.issuperset(map(type, result)):
        return dict(result)
    return flatten_dict(result)


def _config_cells(config: dict[str, Any]) -> dict[str, Any]:
    """A trial's config as ``config/...`` CSV cells."""
    return {f"config/{name}": _csv_cell(value) for name, value in flatten_dict(config).items()}
