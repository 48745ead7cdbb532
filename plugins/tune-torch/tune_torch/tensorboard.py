"""The ``tensorboard`` logger: each trial's results as TensorBoard scalars, and its HParams when it ends.

Every trial gets its own event files, ``<trial dir>/events.out.tfevents.*`` (written with tensorboardX), so
``tensorboard --logdir <experiment dir>`` shows one run per trial. Each numeric result field (nested dicts as
``a/b``) becomes a scalar at step ``training_iteration``. When a trial ends, its config (flattened, the config
it ended with: a PBT member's latest) and its end status are written as TensorBoard HParams session data; the
metrics of the HParams view are the trials' scalars (their last values), so the view compares every trial.
No experiment-wide HParams summary is written: TensorBoard builds it from all trials' sessions.

Events are written synchronously (tensorboardX's ``EventsWriter``: no queue, no thread per file) into a buffer
that a flusher thread writes out every ``flush_interval_s`` seconds. This module imports neither torch nor
tensorboardX at import time (tunecore imports it in every experiment; tensorboardX, which imports torch, is
imported at the first result).
"""

from __future__ import annotations

import collections
import itertools
import math
import numbers
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from tunecore import Logger, Trial, options

SKIPPED_FIELDS = frozenset(("training_iteration", "timestamp", "trial_id", "pid", "hostname", "done"))
"""Result fields never written as scalars (``training_iteration`` is the step, ``timestamp`` the wall time)."""

MAX_OPEN_WRITERS = 64
"""Event files open at once at most; the least recently written one is closed (a new one is opened on demand)."""

_file_numbers = itertools.count()
"""Numbers event file names apart: two files of one trial opened within a second must not share a name."""


def _flat(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flat(value, name + "/")
        else:
            yield name, value


def _scalar(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _hparam(value: Any) -> str | bool | float:
    """A config value as TensorBoard HParams takes it: a string, a bool or a number (anything else as text)."""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    return repr(value) if not isinstance(value, (list, tuple)) else str(list(value))


class TensorBoardLogger(Logger):
    """Writes every result of each trial to ``<trial dir>/events.out.tfevents.*``, and its HParams at its end.

    Options:

    * ``metrics``: the result fields to write (``a/b`` for nested ones); default every numeric field but
      ``training_iteration`` (the step), ``timestamp``, ``trial_id``, ``pid``, ``hostname`` and ``done``.
    * ``flush_interval_s``: the most seconds a written result waits in memory (0 = written to disk with each
      result). Files are also flushed and closed when their trial ends or pauses and when the experiment ends,
      however it ends; a crash of the driver loses at most this much (the journal has every result).
    * ``hparams``: write each trial's config and status as TensorBoard HParams data when it ends (default True).

    Each run of a trial writes its own event file beside its earlier ones: a trial that runs again (unpaused,
    retried after an error, restarted by PBT, resumed by a new driver) starts a new one, and TensorBoard reads
    them all. Problems writing a trial's files are reported as one warning per trial and never stop
    the experiment.
    """

    def __init__(self, metrics: list[str] | None = None, flush_interval_s: float = 10.0, hparams: bool = True) -> None:
        if metrics is not None:
            if not isinstance(metrics, (list, tuple)) or not metrics:
                raise ValueError(f"metrics must be a non-empty list of result field names (or None), got {metrics!r}")
            metrics = [str(options.check_text("metrics[]", name)) for name in metrics]
        options.check_number("flush_interval_s", flush_interval_s, minimum=0.0, strict=False)
        self.metrics = metrics
        self.flush_interval_s = float(flush_interval_s)
        self.hparams = options.check_bool("hparams", hparams)
        self._fresh_state()

    def _fresh_state(self) -> None:
        self._writers: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._dirty: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The options only: the experiment is pickled for resume with its loggers."""
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fresh_state()

    # events

    def tunecore_trial_started(self, trial: Trial) -> None:
        """Close the trial's event file if one is still open (a retry or a PBT restart follows no pause or
        end), so that this run writes a new one; forget an earlier write failure: its files are tried again."""
        with self._lock:
            self._close(trial.trial_id)
            self._failed.discard(trial.trial_id)

    def tunecore_trial_result(self, trial: Trial, result: dict[str, Any]) -> None:
        """Write the result's scalars at step ``training_iteration`` (buffered)."""
        with self._lock:
            writer = self._writer(trial)
            if writer is None:
                return
            fields = dict(_flat(result))
            names = self.metrics if self.metrics is not None else [n for n in fields if n not in SKIPPED_FIELDS]
            values = {name: value for name in names if (value := _scalar(fields.get(name))) is not None}
            step = result.get("training_iteration")
            walltime = _scalar(result.get("timestamp"))
            try:
                writer.write_event(_scalars_event(values, step if isinstance(step, int) else None, walltime))
                if self.flush_interval_s == 0:
                    writer.flush()
                else:
                    self._dirty.add(trial.trial_id)
            except OSError as exc:
                self._fail(trial, exc)

    def tunecore_trial_paused(self, trial: Trial) -> None:
        """Flush and close the paused trial's event file (a new one is opened if it runs again)."""
        with self._lock:
            self._close(trial.trial_id)

    def tunecore_trial_finished(self, trial: Trial, status: str) -> None:
        """Write the trial's HParams (its config and end status), then flush and close its event file."""
        with self._lock:
            if self.hparams and trial.path:
                writer = self._writer(trial)
                if writer is not None:
                    try:
                        for event in _hparams_events(trial, status):
                            writer.write_event(event)
                    except OSError as exc:
                        self._fail(trial, exc)
            self._close(trial.trial_id)
            self._failed.discard(trial.trial_id)

    def tunecore_experiment_finished(self) -> None:
        """Flush and close every event file; stop the flusher thread."""
        with self._lock:
            for trial_id in list(self._writers):
                self._close(trial_id)
            if self._stop is not None:
                self._stop.set()
                self._stop = None

    def flush(self) -> None:
        """Write everything buffered so far to disk (the files stay open)."""
        with self._lock:
            self._flush_dirty()

    # internals (the caller holds the lock)

    def _writer(self, trial: Trial) -> Any:
        writer = self._writers.get(trial.trial_id)
        if writer is not None:
            self._writers.move_to_end(trial.trial_id)
            return writer
        if trial.trial_id in self._failed or not trial.path:
            return None
        from tensorboardX.event_file_writer import EventsWriter  # type: ignore[import-untyped]

        try:
            os.makedirs(trial.path, exist_ok=True)
            suffix = f".{os.getpid()}.{next(_file_numbers)}"
            writer = EventsWriter(os.path.join(trial.path, "events"), filename_suffix=suffix)
        except OSError as exc:
            self._fail(trial, exc)
            return None
        self._writers[trial.trial_id] = writer
        while len(self._writers) > MAX_OPEN_WRITERS:
            self._close(next(iter(self._writers)))
        if self.flush_interval_s > 0 and self._stop is None:
            self._stop = threading.Event()
            thread = threading.Thread(
                target=_flush_periodically,
                args=(weakref.ref(self), self._stop, self.flush_interval_s),
                name="tunecore-tensorboard-flusher",
                daemon=True,
            )
            thread.start()
        return writer

    def _flush_dirty(self) -> None:
        for trial_id in list(self._dirty):
            self._dirty.discard(trial_id)
            writer = self._writers.get(trial_id)
            if writer is None:
                continue
            try:
                writer.flush()
            except OSError as exc:
                self._writers.pop(trial_id, None)
                self._failed.add(trial_id)
                warnings.warn(f"TensorBoardLogger: could not write trial {trial_id}'s event file: {exc}", stacklevel=3)

    def _close(self, trial_id: str) -> None:
        writer = self._writers.pop(trial_id, None)
        self._dirty.discard(trial_id)
        if writer is None:
            return
        try:
            writer.close()
        except OSError as exc:
            warnings.warn(f"TensorBoardLogger: could not write trial {trial_id}'s event file: {exc}", stacklevel=3)

    def _fail(self, trial: Trial, exc: OSError) -> None:
        self._failed.add(trial.trial_id)
        self._dirty.discard(trial.trial_id)
        writer = self._writers.pop(trial.trial_id, None)
        if writer is not None:
            try:
                writer.close()
            except OSError:
                pass  # its buffer cannot be written either
        warnings.warn(
            f"TensorBoardLogger: cannot write trial {trial.trial_id}'s event file in {trial.path} ({exc});"
            " its results are not logged there until it runs again",
            stacklevel=4,
        )

    def _flush_from_thread(self, stop: threading.Event) -> bool:
        """Flush what was written since the last flush; False (the thread should end) once nothing is open."""
        with self._lock:
            if stop is not self._stop:
                return False
            if not self._writers:
                self._stop = None
                return False
            self._flush_dirty()
            return True


def _flush_periodically(owner_ref: weakref.ref[TensorBoardLogger], stop: threading.Event, interval: float) -> None:
    """Body of the flusher thread; holds the logger weakly and ends when it has no open file."""
    while not stop.wait(interval):
        owner = owner_ref()
        if owner is None or not owner._flush_from_thread(stop):
            return
        del owner


def _scalars_event(values: dict[str, float], step: int | None, walltime: float | None) -> Any:
    from tensorboardX.proto.event_pb2 import Event  # type: ignore[import-untyped]
    from tensorboardX.proto.summary_pb2 import Summary  # type: ignore[import-untyped]

    summary = Summary(value=[Summary.Value(tag=name, simple_value=value) for name, value in values.items()])
    event = Event(summary=summary, wall_time=walltime if walltime is not None else time.time())
    if step is not None:
        event.step = step
    return event


def _hparams_events(trial: Trial, status: str) -> list[Any]:
    """TensorBoard HParams session start (the trial's config) and end (its status) summaries, as events."""
    from tensorboardX.proto.api_pb2 import Status  # type: ignore[import-untyped]
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.plugin_hparams_pb2 import (  # type: ignore[import-untyped]
        HParamsPluginData,
        SessionEndInfo,
        SessionStartInfo,
    )
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

    now = time.time()
    start = SessionStartInfo(start_time_secs=now)
    for name, value in _flat(trial.config):
        converted = _hparam(value)
        if isinstance(converted, bool):
            start.hparams[name].bool_value = converted
        elif isinstance(converted, float) and math.isfinite(converted):
            start.hparams[name].number_value = converted
        else:
            start.hparams[name].string_value = str(converted)
    end_status = Status.Value("STATUS_SUCCESS" if status == "TERMINATED" else "STATUS_FAILURE")
    end = SessionEndInfo(status=end_status, end_time_secs=now)
    events = []
    for tag, content in (
        ("_hparams_/session_start_info", HParamsPluginData(session_start_info=start, version=0)),
        ("_hparams_/session_end_info", HParamsPluginData(session_end_info=end, version=0)),
    ):
        plugin = SummaryMetadata.PluginData(plugin_name="hparams", content=content.SerializeToString())
        value = Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))
        events.append(Event(summary=Summary(value=[value]), wall_time=now))
    return events
