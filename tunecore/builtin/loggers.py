"""Built-in loggers: json (``result.jsonl``), csv (``progress.csv``) and console (live status on stderr).

A logger is attached to one experiment and receives its events as ``tunecore_*`` method calls (see
:mod:`tunecore.hookspecs`). The file loggers keep one buffered file per running trial in the trial's
directory and flush it when the trial ends and at least every ``flush_interval_s`` seconds, so that a
crash loses at most that much of the record. Problems writing a file are reported as warnings, once per
trial, and never stop the experiment.
"""

from __future__ import annotations

import collections
import csv
import io
import math
import os
import shutil
import sys
import threading
import time
import warnings
import weakref
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from tunecore.best import pick_best, real_number
from tunecore.formatting import flatten_dict, format_config, format_duration, format_value, result_field
from tunecore.jsonutil import dumps, to_json_value
from tunecore.protocols import Logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from tunecore.experiment import ExperimentInfo
    from tunecore.trial import Trial

AUTO_FIELDS = frozenset(("training_iteration", "time_this_iter_s", "time_total_s", "timestamp", "trial_id", "done"))
"""Result fields filled in by tunecore (left out of the console's per-result lines)."""

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


def _flush_periodically(owner_ref: weakref.ref[_TrialFileLogger], stop: threading.Event, interval: float) -> None:
    """Body of a file logger's flusher thread; holds the logger weakly and ends when it has no open file."""
    while not stop.wait(interval):
        owner = owner_ref()
        if owner is None or not owner._flush_dirty(stop):
            return
        del owner


class _TrialFileLogger(Logger):
    """One buffered, appended file per trial: opened at trial start, closed at trial end; flushed on a timer."""

    filename: ClassVar[str] = ""
    newline: ClassVar[str | None] = None

    def __init__(self, flush_interval_s: float = 1.0) -> None:
        if isinstance(flush_interval_s, bool) or not isinstance(flush_interval_s, (int, float)):
            raise ValueError(f"flush_interval_s must be a number of seconds, got {flush_interval_s!r}")
        if not (flush_interval_s >= 0 and math.isfinite(flush_interval_s)):
            raise ValueError(f"flush_interval_s must be >= 0 and finite, got {flush_interval_s!r}")
        self.flush_interval_s = float(flush_interval_s)
        self._files: collections.OrderedDict[str, TextIO] = collections.OrderedDict()
        self._dirty: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None

    # events

    def tunecore_trial_started(self, trial: Trial) -> None:
        """Open (create or append to) the trial's file."""
        with self._lock:
            self._failed.discard(trial.trial_id)
            self._ensure_open(trial)

    def tunecore_trial_result(self, trial: Trial, result: dict[str, Any]) -> None:
        """Append the result to the trial's file (buffered)."""
        with self._lock:
            handle = self._ensure_open(trial)
            if handle is None:
                return
            text = self._format(trial, result)
            try:
                handle.write(text)
                if self.flush_interval_s == 0:
                    handle.flush()
                else:
                    self._dirty.add(trial.trial_id)
            except OSError as exc:
                self._fail(trial, exc)

    def tunecore_trial_finished(self, trial: Trial) -> None:
        """Flush and close the trial's file."""
        with self._lock:
            self._close(trial.trial_id)
            self._closed(trial.trial_id)

    def tunecore_experiment_finished(self) -> None:
        """Flush and close every file; stop the flusher thread."""
        with self._lock:
            for trial_id in list(self._files):
                self._close(trial_id)
                self._closed(trial_id)
            if self._stop is not None:
                self._stop.set()
                self._stop = None

    # for subclasses

    def _opened(self, trial: Trial, path: str) -> None:
        """Called (under the lock) after the trial's file was opened for appending."""

    def _closed(self, trial_id: str) -> None:
        """Called (under the lock) when the trial ended: forget per-trial state."""

    def _format(self, trial: Trial, result: dict[str, Any]) -> str:
        """The text to append for one result."""
        raise NotImplementedError

    # internals (the caller holds the lock)

    def _ensure_open(self, trial: Trial) -> TextIO | None:
        trial_id = trial.trial_id
        handle = self._files.get(trial_id)
        if handle is not None:
            self._files.move_to_end(trial_id)
            return handle
        if trial_id in self._failed or not trial.path:
            return None
        path = os.path.join(trial.path, self.filename)
        handle = None
        try:
            os.makedirs(trial.path, exist_ok=True)
            _end_with_newline(path)
            handle = open(path, "a", encoding="utf-8", newline=self.newline)
            self._opened(trial, path)
        except OSError as exc:
            if handle is not None:
                handle.close()
            self._fail(trial, exc)
            return None
        self._files[trial_id] = handle
        while len(self._files) > MAX_OPEN_FILES:  # e.g. many paused trials: close the least recent one
            oldest = next(iter(self._files))
            self._close(oldest)
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

    def _close(self, trial_id: str) -> None:
        handle = self._files.pop(trial_id, None)
        self._dirty.discard(trial_id)
        if handle is not None:
            try:
                handle.close()
            except OSError as exc:
                warnings.warn(f"{type(self).__name__}: could not write {handle.name}: {exc}", stacklevel=2)

    def _fail(self, trial: Trial, exc: OSError) -> None:
        self._failed.add(trial.trial_id)
        self._close(trial.trial_id)
        warnings.warn(
            f"{type(self).__name__}: cannot write {self.filename} of trial {trial.trial_id}"
            f" ({exc}); its results are not logged there until it restarts",
            stacklevel=2,
        )

    def _flush_dirty(self, stop: threading.Event) -> bool:
        """Flush files written since the last flush; False (the thread should end) when none is open."""
        with self._lock:
            if stop is not self._stop:
                return False
            if not self._files:
                self._stop = None
                return False
            for trial_id in self._dirty:
                try:
                    self._files[trial_id].flush()
                except OSError as exc:
                    warnings.warn(f"{type(self).__name__}: could not flush {self.filename}: {exc}", stacklevel=2)
            self._dirty.clear()
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


class JsonLogger(_TrialFileLogger):
    """Appends every result as one JSON line to ``<trial dir>/result.jsonl`` (and writes ``params.json``).

    Values JSON cannot encode are converted, never fatal: numpy (and torch/jax) scalars and arrays become
    numbers and lists (via ``tolist()``), other objects their ``repr``. NaN and infinities are written as
    ``NaN`` / ``Infinity`` / ``-Infinity``, as Python's :mod:`json` does (``json.loads`` and pandas read
    them; strict JSON parsers do not). Writes are buffered; the file is flushed when the trial ends and
    at least every ``flush_interval_s`` seconds (0 = after every result).
    """

    filename: ClassVar[str] = "result.jsonl"

    def __init__(self, flush_interval_s: float = 1.0) -> None:
        super().__init__(flush_interval_s)

    def _opened(self, trial: Trial, path: str) -> None:
        """Write ``params.json`` (the config the trial runs with) beside ``result.jsonl``."""
        with open(os.path.join(trial.path or "", "params.json"), "w", encoding="utf-8") as file:
            file.write(dumps(trial.config))

    def _format(self, trial: Trial, result: dict[str, Any]) -> str:
        return dumps(result) + "\n"


class CsvLogger(_TrialFileLogger):
    """Appends every result as one row to ``<trial dir>/progress.csv``; nested dicts become ``a/b`` columns.

    The columns are the keys of the trial's first result (or the header already in the file, when a trial
    resumes). They stay fixed so that the file is always a valid table and is only ever appended to: keys
    that appear later are left out, with one warning per trial naming them (``result.jsonl`` has them);
    missing keys give empty cells. None is an empty cell, lists and other values are written as JSON.
    Buffering and flushing work as in the json logger.
    """

    filename: ClassVar[str] = "progress.csv"
    newline: ClassVar[str | None] = ""

    def __init__(self, flush_interval_s: float = 1.0) -> None:
        super().__init__(flush_interval_s)
        self._columns: dict[str, list[str]] = {}
        self._column_sets: dict[str, frozenset[str]] = {}
        self._warned: set[str] = set()
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _opened(self, trial: Trial, path: str) -> None:
        if trial.trial_id in self._columns:
            return
        with open(path, encoding="utf-8", newline="") as file:
            header = next(csv.reader(file), None)
        if header:
            self._set_columns(trial.trial_id, header)

    def _closed(self, trial_id: str) -> None:
        self._columns.pop(trial_id, None)
        self._column_sets.pop(trial_id, None)

    def _set_columns(self, trial_id: str, columns: list[str]) -> None:
        self._columns[trial_id] = columns
        self._column_sets[trial_id] = frozenset(columns)

    def _format(self, trial: Trial, result: dict[str, Any]) -> str:
        trial_id = trial.trial_id
        flat = flatten_dict(result)
        columns = self._columns.get(trial_id)
        if columns is None:
            columns = list(flat)
            self._set_columns(trial_id, columns)
            self._writer.writerow(columns)
        elif trial_id not in self._warned:
            new = [key for key in flat if key not in self._column_sets[trial_id]]
            if new:
                self._warned.add(trial_id)
                warnings.warn(
                    f"CsvLogger: trial {trial_id} reported keys that are not columns of its progress.csv and are"
                    f" left out there (result.jsonl has them): {', '.join(new)}",
                    stacklevel=2,
                )
        self._writer.writerow([_csv_cell(flat.get(key)) for key in columns])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


# --- console -------------------------------------------------------------------------------------------

_STATES = ("RUNNING", "PAUSED", "TERMINATED", "ERROR")
_CLEAR_LINE = "\r\x1b[K"


def _metric_value(result: dict[str, Any] | None, metric: str | None) -> float | None:
    """The result's metric as a float (``a/b`` looks into nested dicts); None when missing or not a number."""
    return real_number(result_field(result, metric)) if metric else None


def _last_line(error: str | None) -> str:
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


class ConsoleLogger(Logger):
    """Progress on the console: a live status line, one line per finished trial, a summary at the end.

    ``verbose`` (default: the experiment's ``verbose``): 0 prints nothing; 1 prints a status line (trials
    by state, best metric so far, elapsed time) at most every ``status_interval_s`` seconds, a line per
    finished trial and a final summary; 2 (or more) also prints a line per result. ``stream`` is
    ``"stderr"`` (the default, leaving stdout to the program), ``"stdout"`` or a text stream. On a
    terminal the status line is redrawn in place; elsewhere (files, CI logs) each update is a new line.
    """

    clock: Callable[[], float] = staticmethod(time.monotonic)
    """Seconds from a monotonic clock; set it on an instance to drive the status interval in tests."""

    def __init__(
        self, verbose: int | None = None, status_interval_s: float = 2.0, stream: TextIO | str | None = None
    ) -> None:
        if verbose is not None and (isinstance(verbose, bool) or not isinstance(verbose, int) or verbose < 0):
            raise ValueError(f"verbose must be None or an integer >= 0, got {verbose!r}")
        if isinstance(status_interval_s, bool) or not isinstance(status_interval_s, (int, float)):
            raise ValueError(f"status_interval_s must be a number of seconds, got {status_interval_s!r}")
        if not status_interval_s >= 0:
            raise ValueError(f"status_interval_s must be >= 0, got {status_interval_s!r}")
        if isinstance(stream, str) and stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout', 'stderr' or a text stream, got {stream!r}")
        if stream is not None and not isinstance(stream, str) and not callable(getattr(stream, "write", None)):
            raise ValueError(f"stream must be 'stdout', 'stderr' or a text stream, got {stream!r}")
        self.verbose = verbose
        self.status_interval_s = float(status_interval_s)
        self.stream = stream
        self._level: int | None = None
        self._start: float | None = None
        self._last_status = 0.0
        self._state: dict[str, str] = {}
        self._counts: collections.Counter[str] = collections.Counter()
        self._running: dict[str, Trial] = {}
        self._latest: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        """Each trial's latest result with the config that earned it (a restart changes the trial's config)."""
        self._status_text = ""
        self._tty: tuple[Any, bool] | None = None

    # events

    def tunecore_experiment_started(self, experiment: ExperimentInfo) -> None:
        """Start the clock; print where results go."""
        if not self._enabled(experiment):
            return
        self._start = self._last_status = self.clock()
        goal = f" ({experiment.mode} {experiment.metric})" if experiment.metric else ""
        self._print(f"Experiment {experiment.name}{goal}: results in {experiment.path}")

    def tunecore_trial_started(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Count the trial as running."""
        if not self._enabled(experiment):
            return
        self._set_state(trial.trial_id, "RUNNING")
        self._running[trial.trial_id] = trial
        self._maybe_status(experiment)

    def tunecore_trial_result(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> None:
        """Track the best metric; at verbose 2, print the result."""
        if not self._enabled(experiment):
            return
        self._latest[trial.trial_id] = (result, trial.config)  # a restart replaces the dict, never mutates it
        if self._level is not None and self._level >= 2:
            self._print(self._result_line(experiment, trial, result))
        self._maybe_status(experiment)

    def tunecore_trial_paused(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Count the trial as paused."""
        if not self._enabled(experiment):
            return
        self._set_state(trial.trial_id, "PAUSED")
        self._running.pop(trial.trial_id, None)
        self._maybe_status(experiment)

    def tunecore_trial_retried(self, experiment: ExperimentInfo, trial: Trial, error: str, attempt: int) -> None:
        """Say that the trial failed and will run again (``retry 1 of 2 after: <the error's last line>``)."""
        if not self._enabled(experiment):
            return
        self._set_state(trial.trial_id, "PENDING")
        self._running.pop(trial.trial_id, None)
        limit = (experiment.spec or {}).get("failure_config", {}).get("max_failures")
        of = f" of {limit}" if isinstance(limit, int) and limit >= 0 else ""
        message = format_value(_last_line(error), 120)
        self._print(f"{trial.trial_id} RETRYING   retry {attempt - 1}{of} after: {message}")

    def tunecore_trial_finished(self, experiment: ExperimentInfo, trial: Trial, status: str, error: str | None) -> None:
        """Print the finished trial: id, status, iterations, last metric, config (and the error's last line)."""
        if not self._enabled(experiment):
            return
        status = str(status)
        self._set_state(trial.trial_id, status)
        self._running.pop(trial.trial_id, None)
        last = trial.last_result or {}
        parts = [f"{trial.trial_id} {status:<10}"]
        if "training_iteration" in last:
            parts.append(f"iter={format_value(last['training_iteration'])}")
        value = _metric_value(last, experiment.metric)
        if value is not None:
            parts.append(f"{experiment.metric}={format_value(value)}")
        config = format_config(trial.config)
        if config:
            parts.append(f"| {config}")
        message = _last_line(error or (trial.error if status == "ERROR" else None))
        if message:
            parts.append(f"| {format_value(message, 120)}")
        self._print(" ".join(parts))
        self._maybe_status(experiment)

    def tunecore_experiment_finished(self, experiment: ExperimentInfo, trials: list[Trial]) -> None:
        """Print the summary: trials by final state, elapsed time, the best trial and its config."""
        if not self._enabled(experiment):
            return
        counts = collections.Counter(str(trial.status) for trial in trials)
        states = ", ".join(f"{counts[state]} {state.lower()}" for state in (*_STATES, "PENDING") if counts[state])
        elapsed = format_duration(self.clock() - self._start) if self._start is not None else ""
        plural = "" if len(trials) == 1 else "s"
        ended = "Failed" if experiment.failed else "Interrupted" if experiment.interrupted else "Finished"
        line = f"{ended} {experiment.name}: {len(trials)} trial{plural}" + (f" ({states})" if states else "")
        line += f" in {elapsed}" if elapsed else ""
        best = self._best(experiment, [(t.trial_id, self._earned(t)) for t in trials])
        if best is not None:
            (trial_id, (result, config)), value = best
            iteration = result.get("training_iteration")
            at = f", iter {format_value(iteration)}" if iteration is not None else ""
            line += f" | best {experiment.metric}={format_value(value)} ({trial_id}{at})"
            config_text = format_config(config)
            line += f" {config_text}" if config_text else ""
        self._print(line, final=True)

    # internals

    def _earned(self, trial: Trial) -> tuple[dict[str, Any], dict[str, Any]]:
        """The trial's last result and the config that earned it (its own config for earlier sessions)."""
        last = trial.last_result or {}
        seen = self._latest.get(trial.trial_id)
        if seen is not None and seen[0].get("training_iteration") == last.get("training_iteration"):
            return last, seen[1]
        return last, dict(trial.config)

    @staticmethod
    def _best(
        experiment: ExperimentInfo, candidates: list[tuple[str, tuple[dict[str, Any], dict[str, Any]]]]
    ) -> tuple[tuple[str, tuple[dict[str, Any], dict[str, Any]]], float] | None:
        """The best candidate by the one rule of :mod:`tunecore.best` (None without a metric and mode)."""
        if not experiment.metric or experiment.mode not in ("min", "max"):
            return None
        scored = [((trial_id, earned), result_field(earned[0], experiment.metric)) for trial_id, earned in candidates]
        return pick_best(scored, experiment.mode)

    def _enabled(self, experiment: ExperimentInfo) -> bool:
        if self._level is None:
            level = self.verbose
            if level is None:
                level = (experiment.spec or {}).get("verbose", 1)
            self._level = level if isinstance(level, int) else 1
        if self._start is None and self._level > 0:
            self._start = self._last_status = self.clock()
        return self._level > 0

    def _set_state(self, trial_id: str, state: str) -> None:
        old = self._state.get(trial_id)
        if old is not None:
            self._counts[old] -= 1
        self._state[trial_id] = state
        self._counts[state] += 1

    def _maybe_status(self, experiment: ExperimentInfo) -> None:
        now = self.clock()
        if now - self._last_status < self.status_interval_s:
            return
        self._last_status = now
        # Restarts and interruptions put running trials back to PENDING: look at the trials last seen
        # running (at most the concurrency).
        for trial_id, trial in list(self._running.items()):
            status = str(trial.status)
            if status in ("PAUSED", "PENDING"):
                self._set_state(trial_id, status)
                del self._running[trial_id]
        states = ", ".join(f"{self._counts[s]} {s.lower()}" for s in _STATES if self._counts[s] or s == "RUNNING")
        line = f"[{format_duration(now - (now if self._start is None else self._start))}] {states}"
        best = self._best(experiment, sorted(self._latest.items()))
        if best is not None:
            line += f" | best {experiment.metric}={format_value(best[1])} ({best[0][0]})"
        self._status(line)

    def _result_line(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> str:
        flat = flatten_dict(result)
        keys = [k for k in flat if k not in AUTO_FIELDS]
        if experiment.metric in flat:
            keys.remove(experiment.metric)
            keys.insert(0, experiment.metric)
        fields = " ".join(f"{key}={format_value(flat[key], 16)}" for key in keys)
        if len(fields) > 110:
            fields = fields[:109] + "…"
        iteration = result.get("training_iteration")
        head = f"{trial.trial_id} iter={format_value(iteration)}" if iteration is not None else trial.trial_id
        return f"{head} {fields}".rstrip()

    def _out(self) -> tuple[Any, bool]:
        stream = self.stream
        if stream is None or stream == "stderr":
            stream = sys.stderr
        elif stream == "stdout":
            stream = sys.stdout
        if self._tty is None or self._tty[0] is not stream:
            isatty = getattr(stream, "isatty", None)
            try:
                self._tty = (stream, bool(isatty()) if callable(isatty) else False)
            except (OSError, ValueError):
                self._tty = (stream, False)
        return self._tty

    def _print(self, line: str, final: bool = False) -> None:
        """Print a line; on a terminal, above the status line (which ``final`` removes)."""
        stream, tty = self._out()
        if tty and self._status_text:
            stream.write(f"{_CLEAR_LINE}{line}\n" + ("" if final else self._status_text))
            if final:
                self._status_text = ""
        else:
            stream.write(line + "\n")
        _flush(stream)

    def _status(self, line: str) -> None:
        stream, tty = self._out()
        if not tty:
            stream.write(line + "\n")
        else:
            width = max(shutil.get_terminal_size().columns - 1, 20)
            self._status_text = line if len(line) <= width else line[: width - 1] + "…"
            stream.write(_CLEAR_LINE + self._status_text)
        _flush(stream)


def _flush(stream: Any) -> None:
    flush = getattr(stream, "flush", None)
    if callable(flush):
        flush()
