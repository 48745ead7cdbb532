"""What ``tunecore ls``, ``show`` and ``compare`` display, as plain data: nothing here prints or writes.

Every function reads an experiment's own records (experiment.json, the journal, state.json, the lock file)
and never writes, locks or unpickles anything, so that it is safe on an experiment that is running. "Best" is
always :mod:`tunecore.best`'s rule (through :meth:`tunecore.ResultGrid.get_best_result` and
:func:`tunecore.best.pick_best`); the command line only formats what these functions return.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import attrs

from tunecore.best import pick_best, real_number, score
from tunecore.errors import TuneError
from tunecore.formatting import flatten_dict, result_field
from tunecore.journal import TrialRecord, replay
from tunecore.lock import LOCK_FILE, LockHolder, _parse_holder
from tunecore.options import finite_float
from tunecore.results import Result, ResultGrid
from tunecore.session import AUTO_FIELDS
from tunecore.storage import (
    ERROR_FILE,
    EXPERIMENT_FILE,
    JOURNAL_FILE,
    STATE_FILE,
    read_experiment,
    read_journal,
)

INTERRUPTED = "INTERRUPTED"
"""How the views show a trial that the journal says is RUNNING when no process runs the experiment: its run
ended while the trial ran (the process was killed, or stopped before it could write the trial's end);
``tunecore resume`` continues it."""
STATUSES = ("TERMINATED", "ERROR", "RUNNING", "PAUSED", INTERRUPTED, "PENDING")
"""Trial statuses in the order the views count them."""
_INTERRUPTIONS = ("interrupted by ", "FailureConfig.fail_fast")
"""How the stop reasons of :meth:`tunecore.controller.Controller.interrupt` read (a signal, fail_fast):
state.json records the reason, not whether it was an interruption."""


# -- ls ---------------------------------------------------------------------------------------------------


@attrs.frozen
class ExperimentSummary:
    """One line of ``tunecore ls``: an experiment's state, trials, best value and times."""

    name: str
    """The directory's name."""
    path: str
    """The experiment's directory (absolute)."""
    state: str
    """``running``, ``finished``, ``interrupted``, ``failed`` or ``damaged``."""
    detail: str | None = None
    """Why: the damage, the stop reason, who runs it."""
    trials: dict[str, int] = attrs.field(factory=dict)
    """How many trials have each status (only the statuses some trial has, in :data:`STATUSES` order)."""
    metric: Any = None
    """The experiment's metric (a list for several objectives, None for none)."""
    mode: Any = None
    """Its mode(s)."""
    best_value: float | None = None
    """The best value of the metric (None: several objectives, no metric or no finite value)."""
    best_trial: str | None = None
    """The trial that has it."""
    start: float | None = None
    """When it started (epoch seconds: when experiment.json was written)."""
    duration_s: float | None = None
    """From its start to the journal's last write (to now while it runs); pauses between resumes count."""

    @property
    def num_trials(self) -> int:
        """How many trials it has."""
        return sum(self.trials.values())

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``tunecore ls --json``."""
        data = attrs.asdict(self)
        data["num_trials"] = self.num_trials
        return data


def list_experiments(storage: str | os.PathLike[str]) -> list[ExperimentSummary]:
    """Every experiment directly under ``storage`` (or ``storage`` itself when it is one), by name.

    Directories holding none of an experiment's files are skipped; one whose files cannot be read is listed
    as ``damaged`` with the reason. TuneError when ``storage`` is not a directory.
    """
    root = storage_directory(storage)
    if is_experiment(root):
        return [summarize(root)]
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        raise TuneError(f"cannot list {root}: {exc.strerror or exc}") from exc
    return [summarize(path) for path in (os.path.join(root, name) for name in names) if is_experiment(path)]


def storage_directory(storage: str | os.PathLike[str], command: str = "ls") -> str:
    """``storage`` as an absolute path; TuneError when it is not a directory, saying what to give instead
    (``command``: the verb the example names, e.g. ``dashboard``)."""
    root = os.path.abspath(os.fspath(storage))
    if not os.path.isdir(root):
        what = "is a file" if os.path.exists(root) else "does not exist"
        raise TuneError(
            f"{root} {what}: give the storage path that holds the experiments (RunConfig.storage_path,"
            f" default ./tune_results), e.g. tunecore {command} tune_results"
        )
    return root


def is_experiment(path: str) -> bool:
    """Whether ``path`` is an experiment's directory: a directory holding one of an experiment's files
    (experiment.json, journal.jsonl, state.json) — the rule of ``ls`` and of the dashboard."""
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, name)) for name in (EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE)
    )


def summarize(path: str | os.PathLike[str]) -> ExperimentSummary:
    """The :class:`ExperimentSummary` of one experiment directory (``damaged`` when its files cannot be read)."""
    path = os.path.abspath(os.fspath(path))
    name = os.path.basename(path)
    holder = running_holder(path)
    try:
        grid = ResultGrid.from_path(path)
        state, detail = experiment_state(path, grid, holder)
    except (TuneError, OSError, ValueError, KeyError, TypeError) as exc:
        return ExperimentSummary(name, path, "damaged", _damage(path, exc))
    best_value, best_trial = best_of(grid)
    start = _mtime(os.path.join(path, EXPERIMENT_FILE))
    ends = [t for t in (_mtime(os.path.join(path, file)) for file in _END_FILES) if t is not None]
    end = time.time() if holder else max(ends, default=None)
    return ExperimentSummary(
        name,
        path,
        state,
        detail,
        count_statuses(grid, running=holder is not None),
        grid.metric,
        grid.mode,
        best_value,
        best_trial,
        start,
        None if start is None or end is None else max(0.0, end - start),
    )


_END_FILES = (JOURNAL_FILE, STATE_FILE)


def _damage(path: str, exc: BaseException) -> str:
    if isinstance(exc, TuneError):
        return str(exc).replace(path + os.sep, "").replace(path, "the experiment")
    return f"{type(exc).__name__}: {exc}"


def _mtime(file: str) -> float | None:
    try:
        return os.stat(file).st_mtime
    except OSError:
        return None


def count_statuses(grid: ResultGrid, running: bool | None = None) -> dict[str, int]:
    """How many trials have each status (:func:`shown_status`; ``running``: whether a process runs the
    experiment, found from its lock file by default), in :data:`STATUSES` order (statuses no trial has are left
    out)."""
    running = is_running(grid.experiment_path) if running is None else running
    counts: dict[str, int] = {}
    for result in grid:
        status = shown_status(result.status, running)
        counts[status] = counts.get(status, 0) + 1
    order = [s for s in STATUSES if s in counts] + sorted(set(counts) - set(STATUSES))
    return {status: counts[status] for status in order}


def shown_status(status: str, running: bool) -> str:
    """A trial's status as the views show it: RUNNING only while a process runs its experiment (``running``),
    else :data:`INTERRUPTED`; any other status as it is."""
    return INTERRUPTED if status == "RUNNING" and not running else status


def is_running(path: str) -> bool:
    """Whether a process runs the experiment at ``path`` now (:func:`running_holder`)."""
    return running_holder(path) is not None


def running_holder(path: str) -> LockHolder | None:
    """Who runs the experiment now, or None: its lock file names a process that is alive.

    Reads the lock file only (it never takes the lock, which could refuse a starting run). The lock file is
    removed when the lock is released; one left by a killed process names a dead process (or a zombie, one
    that its parent has not waited for yet: it holds no lock either). A holder on another host cannot be
    checked from here: it counts as running.
    """
    try:
        with open(os.path.join(path, LOCK_FILE), "rb") as file:
            holder = _parse_holder(file.read(4096))
    except OSError:
        return None
    if holder is None or holder.host != socket.gethostname():
        return holder
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return None if _is_zombie(holder.pid) else holder


def _is_zombie(pid: int) -> bool:
    """True when ``/proc`` says the process has exited and waits to be reaped (False without ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[-1].split()  # after "pid (name)": the name may hold anything
    except OSError:
        return False
    return bool(fields) and fields[0] == "Z"


def experiment_state(path: str, grid: ResultGrid, holder: LockHolder | None = None) -> tuple[str, str | None]:
    """``(state, detail)`` of an experiment that could be read: ``running`` (its lock is held by a live
    process), ``failed`` (its last run did not end cleanly: an error outside the trials, or the process was
    killed), ``interrupted`` (Ctrl+C, SIGTERM, fail_fast, or trials left unfinished) or ``finished``."""
    if holder is not None:
        return "running", holder.describe()
    state = _read_state(path)
    unfinished = [r.trial_id for r in grid if r.status not in ("TERMINATED", "ERROR")]
    stop_reason = state.get("stop_reason") if state else None
    if state is not None and "ended" in state:  # written since tunecore 0.2: how the last run ended, said
        how = f"; {len(unfinished)} trial(s) unfinished" if unfinished else ""
        if not state["ended"]:
            return "failed", f"the run did not end cleanly (killed){how}: tunecore resume continues it"
        if state.get("failed"):
            return "failed", f"{state['failed']}{how}: tunecore resume continues it"
        if state.get("interrupted") or unfinished:
            return "interrupted", f"{stop_reason or 'stopped'}{how}"
        return "finished", str(stop_reason) if stop_reason else None
    if state is None or (not stop_reason and not state.get("searcher_finished")):
        how = f"{len(unfinished)} trial(s) unfinished; " if unfinished else ""
        return "failed", f"the run did not end cleanly (an error or a kill): {how}tunecore resume continues it"
    if unfinished:
        return "interrupted", f"{stop_reason or 'stopped'}; {len(unfinished)} trial(s) unfinished"
    if stop_reason and not state.get("searcher_finished") and any(s in str(stop_reason) for s in _INTERRUPTIONS):
        return "interrupted", str(stop_reason)
    return "finished", str(stop_reason) if stop_reason else None


def _read_state(path: str) -> dict[str, Any] | None:
    """state.json's contents, None when there is none yet (a run killed early); TuneError when unreadable."""
    file = os.path.join(path, STATE_FILE)
    if not os.path.exists(file):
        return None
    try:
        with open(file, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TuneError(f"{STATE_FILE} is damaged ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise TuneError(f"{STATE_FILE} is damaged (it is not the JSON object tunecore wrote)")
    return data


def best_of(grid: ResultGrid) -> tuple[float | None, str | None]:
    """The best value and trial by the experiment's own (single) metric, or Nones."""
    if not isinstance(grid.metric, str) or not isinstance(grid.mode, str):
        return None, None
    try:
        best = grid.get_best_result()
    except TuneError:
        return None, None
    return real_number(result_field(best.metrics, grid.metric)), best.trial_id


# -- show: the trial table ---------------------------------------------------------------------------------


@attrs.frozen
class TrialTable:
    """Rows of ``tunecore show``: one per trial, the raw value of each column."""

    columns: list[str]
    """Column names: ``trial_id``, ``status``, then metric names and ``config/<key>``."""
    rows: list[dict[str, Any]]
    """One dict per trial, by column name (None where a trial has no value)."""


def objectives(grid: ResultGrid) -> dict[str, str]:
    """The experiment's metric(s) with their mode(s) (several in a multi-objective experiment)."""
    metrics, modes = grid.metric, grid.mode
    if isinstance(metrics, list) and isinstance(modes, list):
        return dict(zip(metrics, modes, strict=False))
    return {metrics: modes} if isinstance(metrics, str) and isinstance(modes, str) else {}


def available_columns(grid: ResultGrid) -> list[str]:
    """Every column name ``show`` accepts: ``trial_id``, ``status``, the metrics the trials' last results hold
    and ``config/<key>`` for each (flattened) config key."""
    metrics: dict[str, None] = {}
    config: dict[str, None] = {}
    for result in grid:
        metrics.update(dict.fromkeys(flatten_dict(result.metrics)))
        config.update(dict.fromkeys(f"config/{key}" for key in flatten_dict(result.config)))
    return list(dict.fromkeys(["trial_id", "status", *metrics, *config]))


def resolve_column(grid: ResultGrid, name: str, available: Sequence[str] | None = None) -> str:
    """The column ``name`` means: itself, or ``config/<name>`` for a config key that is not a metric;
    TuneError listing the available columns otherwise."""
    available = list(available) if available is not None else available_columns(grid)
    if name in available:
        return name
    if f"config/{name}" in available:
        return f"config/{name}"
    raise TuneError(
        f"unknown column {name!r}: the experiment {grid.experiment_path} has the columns {', '.join(available)}"
    )


def column_value(result: Result, column: str) -> Any:
    """A trial's value in ``column`` (see :func:`available_columns`), None when it has none."""
    if column == "trial_id":
        return result.trial_id
    if column == "status":
        return result.status
    if column.startswith("config/") and column not in flatten_dict(result.metrics):
        return result_field(result.config, column[len("config/") :])
    return result_field(result.metrics, column)


def trial_table(
    grid: ResultGrid,
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    mode: str | None = None,
    reverse: bool = False,
    top: int | None = None,
    metrics: Sequence[str] | None = None,
) -> TrialTable:
    """The trials as rows, sorted and cut.

    ``columns``: the names to show (see :func:`resolve_column`; default ``training_iteration``, ``metrics``
    — default the experiment's metric(s) — and every config key). ``sort``: a column, default the experiment's
    metric (none when it has several); a metric with a mode (``mode``, or the experiment's for its own metric)
    sorts best first by :func:`tunecore.best.score`, anything else ascending; values that are missing or not
    finite come last, ties keep the trial order (the first of equal trials is the best, as everywhere).
    ``reverse`` flips the order (missing values stay last). ``top``: keep the first ``top`` rows.
    """
    available = available_columns(grid)
    own = objectives(grid)
    if columns is None:
        shown = own if metrics is None else metrics
        names = ["training_iteration", *shown, *(c for c in available if c.startswith("config/"))]
    else:
        names = [resolve_column(grid, name, available) for name in columns]
    if sort is None:
        sort = next(iter(own)) if len(own) == 1 else None
    if sort is not None and sort not in ("trial_id", "status"):
        if mode is None and sort not in own:  # a metric with a mode is known even when no trial reported it
            sort = resolve_column(grid, sort, available)
        mode = mode or own.get(sort)
    results = _as_shown(grid)
    if sort is not None:
        results = _sorted(results, sort, mode, reverse)
    elif reverse:
        results.reverse()
    if top is not None:
        results = results[:top]
    all_columns = ["trial_id", "status", *(n for n in names if n not in ("trial_id", "status"))]
    return TrialTable(all_columns, [{c: column_value(r, c) for c in all_columns} for r in results])


def _as_shown(grid: ResultGrid) -> list[Result]:
    """The trials with their statuses as the views show them (:func:`shown_status`)."""
    running = is_running(grid.experiment_path)
    return [
        result
        if (status := shown_status(result.status, running)) == result.status
        else attrs.evolve(result, status=status)
        for result in grid
    ]


def _sorted(results: list[Result], column: str, mode: str | None, reverse: bool) -> list[Result]:
    keyed = [(column_value(r, column), r) for r in results]
    if mode in ("min", "max"):
        ranked = [(-score(v, str(mode)), r) for v, r in keyed]
        present = [(k, r) for k, r in ranked if math.isfinite(k)]
        missing = [r for k, r in ranked if not math.isfinite(k)]
        present.sort(key=lambda item: item[0], reverse=reverse)
        return [r for _, r in present] + missing
    numbers = [(n, r) for n, r in ((real_number(v), r) for v, r in keyed) if n is not None and not math.isnan(n)]
    texts = [(v, r) for v, r in keyed if isinstance(v, str)]
    chosen = {id(r) for _, r in numbers} | {id(r) for _, r in texts}
    missing = [r for _, r in keyed if id(r) not in chosen]
    numbers.sort(key=lambda item: item[0], reverse=reverse)
    texts.sort(key=lambda item: item[0], reverse=reverse)
    return [r for _, r in numbers] + [r for _, r in texts] + missing


# -- show: one trial ----------------------------------------------------------------------------------------


@attrs.frozen
class CheckpointInfo:
    """A checkpoint the journal says a trial kept."""

    name: str
    """Its directory's name, e.g. ``checkpoint_000007``."""
    path: str
    """Its directory (absolute)."""
    iteration: int
    """The ``training_iteration`` of the result it came with."""
    exists: bool
    """Whether the directory is on disk."""


@attrs.frozen
class TrialView:
    """Everything ``tunecore show DIR/<trial>`` prints about one trial."""

    experiment_path: str
    """Its experiment's directory."""
    trial_id: str
    """Its id."""
    status: str
    """Its status."""
    config: dict[str, Any]
    """Its (latest) config."""
    path: str
    """Its directory (created only when something wrote into it)."""
    num_failures: int
    """How many times it failed (retries included)."""
    metrics: dict[str, str]
    """The experiment's metric(s) with their mode(s)."""
    history: list[dict[str, Any]]
    """Every result that counts, in order."""
    checkpoints: list[CheckpointInfo]
    """Its checkpoints the journal lists, oldest first."""
    error: str | None
    """The traceback of its latest failure, when it has not reported since (from the journal)."""
    error_file: str | None
    """Its ``error.txt`` (every failure), when there is one."""

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return attrs.asdict(self)


def split_trial_path(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """``(experiment directory, trial id)`` when ``path`` names a trial (its directory need not exist: a trial
    that wrote nothing has none), else None."""
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    if os.path.isfile(os.path.join(path, EXPERIMENT_FILE)) or not os.path.isfile(os.path.join(parent, EXPERIMENT_FILE)):
        return None
    return parent, name


def trial_view(experiment_path: str, trial_id: str) -> TrialView:
    """The :class:`TrialView` of ``trial_id``; TuneError naming the experiment's trials when it has no such one."""
    experiment = read_experiment(experiment_path)
    trials = replay(read_journal(experiment_path))
    record: TrialRecord | None = trials.get(trial_id)
    if record is None:
        ids = list(trials)
        listed = (", ".join(ids) if len(ids) <= 6 else f"{', '.join(ids[:5])} ... {ids[-1]}") if ids else "none"
        raise TuneError(
            f"the experiment {experiment_path} has no trial {trial_id!r} (its trials: {listed}):"
            f" give a trial id, e.g. tunecore show {os.path.join(experiment_path, ids[0] if ids else 't00001')}"
        )
    path = os.path.join(experiment_path, record.path)
    checkpoints = [
        CheckpointInfo(name, os.path.join(path, name), iteration, os.path.isdir(os.path.join(path, name)))
        for iteration, name in record.checkpoints
    ]
    error_file = os.path.join(path, ERROR_FILE)
    grid = ResultGrid([], experiment_path, experiment.get("metric"), experiment.get("mode"))
    return TrialView(
        experiment_path,
        trial_id,
        shown_status(record.status, is_running(experiment_path)),
        record.config,
        path,
        record.num_failures,
        objectives(grid),
        record.history,
        checkpoints,
        record.error,
        error_file if os.path.isfile(error_file) else None,
    )


def history_columns(view: TrialView, columns: Sequence[str] | None = None) -> list[str]:
    """The columns of a trial's history table: ``training_iteration`` then ``columns`` (each must be a field
    of some result: TuneError listing them otherwise), or by default the experiment's metric(s) — every field
    the trainable reported when it has none — and ``time_total_s``."""
    fields: dict[str, None] = {}
    for result in view.history:
        fields.update(dict.fromkeys(flatten_dict(result)))
    if columns is not None:
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise TuneError(
                f"unknown column {unknown[0]!r}: the results of trial {view.trial_id} have {', '.join(fields)}"
            )
        return ["training_iteration", *(c for c in columns if c != "training_iteration")]
    reported = list(view.metrics) or [f for f in fields if f not in AUTO_FIELDS]
    return ["training_iteration", *reported, "time_total_s"]


# -- compare ------------------------------------------------------------------------------------------------


@attrs.frozen
class BestSoFar:
    """The best value once the first ``trials`` trials had ended."""

    trials: int
    """How many trials count (1 for the first to end)."""
    trial_id: str
    """The trial that ended at this point."""
    value: float | None
    """The best finite value of the metric among them (None: none has one yet)."""
    best_trial: str | None
    """The trial that has it."""


def best_so_far(grid: ResultGrid, metric: str | None = None, mode: str | None = None) -> list[BestSoFar]:
    """The best-so-far series of an experiment: one point per trial, in the order the trials ended (by their
    last result's ``timestamp``; results without one after those, then the trials that reported nothing, each
    in creation order), each the best so far by :mod:`tunecore.best`'s rule (each trial's last result). The
    last point has :meth:`~tunecore.ResultGrid.get_best_result`'s value. ``metric``/``mode`` default to the
    experiment's; TuneError when it has no single metric and mode. :func:`tunecore.plot.data.history` and
    ``compare`` draw this series."""
    metric, mode = _single_objective(grid, metric, mode)
    points: list[BestSoFar] = []
    best: tuple[str, float] | None = None
    for number, result in enumerate(sorted(grid, key=_ended_at), start=1):
        candidates: list[tuple[str, Any]] = [best] if best else []
        best = pick_best([*candidates, (result.trial_id, result_field(result.metrics, metric))], mode)
        points.append(BestSoFar(number, result.trial_id, best[1] if best else None, best[0] if best else None))
    return points


def _ended_at(result: Result) -> tuple[bool, float]:
    """The sort key of the order trials ended: reported nothing, when it reported its last result (``inf``
    when that has no time)."""
    if not result.metrics_history:
        return True, math.inf
    value = finite_float(result.metrics_history[-1].get("timestamp"))
    return False, math.inf if value is None else value


def _single_objective(grid: ResultGrid, metric: str | None, mode: str | None) -> tuple[str, str]:
    metric = metric or (grid.metric if isinstance(grid.metric, str) else None)
    mode = mode or (grid.mode if isinstance(grid.mode, str) else None)
    if not metric or mode not in ("min", "max"):
        raise TuneError(
            f"the experiment {grid.experiment_path} has no single metric and mode"
            f" (metric={grid.metric!r}, mode={grid.mode!r}): a best-so-far series needs one"
        )
    return metric, str(mode)


@attrs.frozen
class Point:
    """A point of ``compare``'s table: after ``count`` trials, or ``count`` percent of each experiment's."""

    count: int
    """A number of trials, or a percentage."""
    percent: bool = False
    """True when ``count`` is a percentage of each experiment's trials."""

    @property
    def label(self) -> str:
        """``25%``, or ``10`` for a number of trials."""
        return f"{self.count}%" if self.percent else str(self.count)

    def trials_of(self, total: int) -> int:
        """How many of ``total`` trials this point counts."""
        return max(1, math.ceil(total * self.count / 100)) if self.percent else self.count


DEFAULT_POINTS = (Point(25, True), Point(50, True), Point(100, True))
"""compare's default points: after 25%, 50% and all of each experiment's trials."""


@attrs.frozen
class Comparison:
    """One row of ``tunecore compare``: an experiment's best value and its best after each point."""

    name: str
    """The experiment directory's name."""
    path: str
    """Its directory."""
    num_trials: int
    """How many trials it has."""
    best_value: float | None
    """Its best value (None: no trial has a finite one)."""
    best_trial: str | None
    """The trial that has it."""
    at: dict[str, float | None]
    """The best value after each point (trials in the order they ended), by its label (None: not reached, or
    no finite value yet)."""
    series: list[BestSoFar] = attrs.field(repr=False)
    """Its best-so-far series (see :func:`best_so_far`)."""

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return attrs.asdict(self)


def compare(grids: Sequence[ResultGrid], points: Sequence[Point] = DEFAULT_POINTS) -> tuple[str, str, list[Comparison]]:
    """``(metric, mode, rows)``: every experiment's best and best-so-far at ``points``.

    TuneError when they do not share one metric and mode, naming each one's.
    """
    if not grids:
        raise TuneError("compare needs at least one experiment directory")
    pairs = {(_text(g.metric), _text(g.mode)) for g in grids}
    metric, mode = next(iter(pairs))
    if len(pairs) != 1 or metric is None or mode not in ("min", "max"):
        each = "; ".join(f"{g.experiment_path}: metric={g.metric!r} mode={g.mode!r}" for g in grids)
        raise TuneError(
            f"compare needs experiments with the same single metric and mode, and these differ: {each}."
            " Compare experiments that optimise the same metric"
        )
    rows = []
    for grid in grids:
        series = best_so_far(grid, metric, mode)
        total = len(series)
        at: dict[str, float | None] = {}
        for point in points:
            n = point.trials_of(total)
            at[point.label] = series[n - 1].value if 0 < n <= total else None
        last = series[-1] if series else None
        rows.append(
            Comparison(
                os.path.basename(grid.experiment_path),
                grid.experiment_path,
                total,
                last.value if last else None,
                last.best_trial if last else None,
                at,
                series,
            )
        )
    return str(metric), str(mode), rows


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_points(text: str) -> list[Point]:
    """``"25%,50%,100%"`` or ``"10,20,40"`` (trials), mixed freely; TuneError for anything else."""
    points = []
    for part in (p.strip() for p in text.split(",")):
        percent = part.endswith("%")
        digits = part[:-1] if percent else part
        if not digits.isdigit() or int(digits) < 1 or (percent and int(digits) > 100):
            raise TuneError(
                f"--at {text!r}: {part!r} is neither a number of trials (e.g. 10) nor a percentage from 1% to 100%"
                " (e.g. 25%): write e.g. --at 25%,50%,100% or --at 10,20"
            )
        points.append(Point(int(digits), percent))
    return points
