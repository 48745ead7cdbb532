"""The dashboard's JSON documents, built from a followed journal: plain data, every number strict JSON.

Nothing here reads more than the experiment's small files (experiment.json, state.json, the lock file, a
trial's error.txt); the trials come from :class:`~tunecore.dashboard.index.TrialIndex`, kept up to date from
:class:`~tunecore.dashboard.follower.JournalFollower`. Charts are cut to a fixed number of trials (the best and
the running ones, the newest, or the improvements of the best: each constant says which), so that a change
costs the same at 100 trials and at 10,000. Values the browser cannot parse
as JSON (NaN, infinities) become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import math
import os
import re
import time
from typing import Any

import attrs

from tunecore.best import is_better
from tunecore.dashboard.index import TrialIndex
from tunecore.errors import TuneError
from tunecore.journal import TrialRecord, Trials
from tunecore.lock import LockHolder
from tunecore.plot import data as plot_data
from tunecore.results import ResultGrid, result_of
from tunecore.storage import EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE
from tunecore.views import experiment_state, shown_status

CHARTS = ("history", "curves", "parallel", "importance", "timeline")
"""The chart kinds the dashboard serves (:mod:`tunecore.plot.data`)."""
CHART_BEST = 200
CHART_RUNNING = 100
"""Learning curves and parallel coordinates show the :data:`CHART_BEST` best trials and up to
:data:`CHART_RUNNING` running ones (the newest), so that what one costs does not grow with the experiment."""
MAX_TIMELINE = 300
"""The timeline shows the trials created last, at most this many."""
MAX_HISTORY_POINTS = 1000
"""The optimisation history is cut to this many points (every improvement of the best is kept)."""
MAX_HISTORY = 2000
"""A trial's page shows at most this many of its results (the last ones)."""


def strict(value: Any) -> Any:
    """``value`` as strict JSON data: non-finite floats as strings, keys as strings, tuples as lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return repr(value)


def grid_of(path: str, trials: Trials, metric: Any, mode: Any) -> ResultGrid:
    """The :class:`~tunecore.ResultGrid` the journal's ``trials`` make (what ``ResultGrid.from_path`` replays)."""
    return ResultGrid([result_of(path, trial) for trial in trials.values()], path, metric, mode)


def summary(name: str, index: TrialIndex, holder: LockHolder | None) -> dict[str, Any]:
    """One line of the ``ls`` table (:class:`tunecore.views.ExperimentSummary`'s fields, from the followed
    trials: what a change costs does not grow with their number while the experiment runs)."""
    path = index.path
    try:  # while it runs, no trial is looked at; once it has ended, its unfinished trials are
        state, detail = experiment_state(path, index.grid() if holder is None else ResultGrid([], path), holder)
    except (TuneError, OSError, ValueError, KeyError, TypeError) as exc:
        state, detail = "damaged", f"{type(exc).__name__}: {exc}"
    counts = index.counts()
    best_value, best_trial = index.best()
    start = _mtime(os.path.join(path, EXPERIMENT_FILE))
    ends = [t for t in (_mtime(os.path.join(path, f)) for f in (JOURNAL_FILE, STATE_FILE)) if t is not None]
    end = time.time() if holder else max(ends, default=None)
    return strict(
        {
            "name": name,
            "state": state,
            "detail": detail,
            "trials": counts,
            "num_trials": sum(counts.values()),
            "metric": index.metric,
            "mode": index.mode,
            "best_value": best_value,
            "best_trial": best_trial,
            "start": start,
            "duration_s": None if start is None or end is None else max(0.0, end - start),
        }
    )


def _mtime(file: str) -> float | None:
    try:
        return os.stat(file).st_mtime
    except OSError:
        return None


def table(index: TrialIndex, since: str | None = None) -> dict[str, Any]:
    """The trial table (``tunecore show``'s rows: best first by the experiment's metric), or with ``since`` (the
    ``token`` of an earlier table) only the rows changed since, when the index still knows them (``full``
    says which). ``sort``: ``[metric, mode]`` the rows are ordered by (best first; ties and rows without a
    value in ``index`` order), or None for ``index`` order. As :func:`chart`, not yet :func:`strict`
    (``live.encode`` converts it only when it must: the C encoder is several times faster)."""
    changed = None if since is None else index.changed_since(since)
    entries = list(index.ranked()) if changed is None else changed
    return {
        "token": index.token(),
        "full": changed is None,
        "columns": index.columns,
        "sort": list(index.sort) if index.sort else None,
        "rows": [entry.row for entry in entries],
        "index": [entry.index for entry in entries],
    }


ATTEMPT = re.compile(r"^(?P<title>\S.*?) \(occurred at (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\)$", re.MULTILINE)
"""The header :meth:`tunecore.storage.Storage.write_error` writes above each failure in a trial's error.txt."""
MAX_ERROR_BYTES = 1 << 20
"""At most the last this many bytes of a trial's error.txt are read (the page says when it was cut)."""


def attempts(text: str) -> list[dict[str, str]]:
    """Each failure in the text of an error.txt, oldest first: ``title`` (``Failure # N``...), ``at`` (when) and
    ``traceback``; text before the first header (a file cut at :data:`MAX_ERROR_BYTES`) is one untitled entry."""
    found = list(ATTEMPT.finditer(text))
    entries = []
    head = text[: found[0].start()] if found else text
    if head.strip():
        entries.append({"title": "", "at": "", "traceback": head.strip("\n")})
    for number, match in enumerate(found):
        end = found[number + 1].start() if number + 1 < len(found) else len(text)
        entries.append({"title": match["title"], "at": match["at"], "traceback": text[match.end() : end].strip("\n")})
    return entries


def trial(
    record: TrialRecord, metrics: dict[str, str], running: bool, checkpoint_exists: Any, error_file: str | None
) -> dict[str, Any]:
    """A trial's page: status, config, its results, checkpoints (``checkpoint_exists(name) -> bool``), its
    latest error (the journal's, when it has not reported since) and every attempt's (``error_file``, its
    error.txt when there is one inside the root: every failure, retries included)."""
    errors: list[dict[str, str]] = []
    cut = False
    if error_file is not None:
        try:
            with open(error_file, "rb") as file:  # read-only, text: nothing is unpickled
                size = os.fstat(file.fileno()).st_size
                cut = size > MAX_ERROR_BYTES
                file.seek(max(0, size - MAX_ERROR_BYTES))
                errors = attempts(file.read(MAX_ERROR_BYTES).decode("utf-8", errors="replace"))
        except OSError:
            errors = []
    if not errors and record.error:  # no error.txt (yet): the journal has the latest failure
        errors = [{"title": f"Failure # {record.num_failures}", "at": "", "traceback": record.error}]
    return strict(
        {
            "trial_id": record.trial_id,
            "status": shown_status(record.status, running),
            "config": record.config,
            "metrics": metrics,
            "num_failures": record.num_failures,
            "num_results": len(record.history),
            "history": record.history[-MAX_HISTORY:],
            "checkpoints": [
                {"name": name, "iteration": iteration, "exists": bool(checkpoint_exists(name))}
                for iteration, name in record.checkpoints
            ],
            "error": record.error,
            "errors": errors,
            "errors_cut": cut,
        }
    )


def chart(index: TrialIndex, kind: str) -> dict[str, Any]:
    """The plot data of ``kind`` (one of :data:`CHARTS`) for the trials :data:`CHART_TRIALS` says, with
    ``shown`` saying which when they are not all; ``{"note": why}`` when it cannot be computed."""
    shown = ""
    try:
        if kind == "history":
            found: Any
            found, shown = history(index)
        elif kind in ("curves", "parallel"):
            top, running = index.top(CHART_BEST), index.running_trials(CHART_RUNNING)
            chosen = {id(e): e for e in (*top, *running)}.values()
            grid = index.grid(chosen)
            found = plot_data.curves(grid) if kind == "curves" else plot_data.parallel(grid)
            if (len(top) == CHART_BEST or len(running) == CHART_RUNNING) and len(grid) < len(index):
                shown = f"the best {len(top)} and {len(running)} running of {len(index)} trials"
        elif kind == "importance":
            return importance(index.grid())
        elif kind == "timeline":
            grid = index.grid(index.newest(MAX_TIMELINE))
            found = plot_data.timeline(grid)
            if len(grid) < len(index):
                shown = f"the {len(grid)} trials created last of {len(index)}"
        else:
            raise TuneError(f"no chart {kind!r}")
    except (TuneError, ImportError, ValueError, KeyError, TypeError) as exc:  # a missing library says what to install
        return {"kind": kind, "note": str(exc)}
    return {"kind": kind, **attrs.asdict(found, recurse=True), "shown": shown}


def importance(grid: ResultGrid) -> dict[str, Any]:
    """Parameter importance over ``grid`` (every trial: it has its own share of the budget), or a note."""
    try:
        found = plot_data.importance(grid)
    except (TuneError, ImportError, ValueError, KeyError, TypeError) as exc:
        return {"kind": "importance", "note": str(exc)}
    return {"kind": "importance", **attrs.asdict(found, recurse=True)}


def history(index: TrialIndex) -> tuple[plot_data.HistoryData, str]:
    """:func:`tunecore.plot.data.history` of every trial, from the index (no Result is looked at again), cut to
    :data:`MAX_HISTORY_POINTS` points when there are more (every point where the best improved is kept, the
    others evenly spaced); with what ``shown`` says then."""
    if index.sort is None:  # no single metric and mode: plot_data says what is missing
        return plot_data.history(ResultGrid([], index.path, index.metric, index.mode)), ""
    metric, mode = index.sort
    x: list[int] = []
    y: list[float] = []
    best: list[float] = []
    ids: list[str] = []
    current: float | None = None
    for number, entry in enumerate(index.by_end(), start=1):  # views.best_so_far's rule (pick_best's)
        value = entry.value
        if value is not None and is_better(value, current, mode):
            current = value
        if value is None or current is None:
            continue
        x.append(number)
        y.append(value)
        best.append(current)
        ids.append(entry.result.trial_id)
    shown = ""
    if len(x) > MAX_HISTORY_POINTS:
        keep = {0, len(x) - 1} | {i for i in range(1, len(x)) if best[i] != best[i - 1]}
        room = max(0, MAX_HISTORY_POINTS - len(keep))
        keep.update(round(k * (len(x) - 1) / max(1, room - 1)) for k in range(room))
        chosen = sorted(keep)
        shown = f"{len(chosen)} of {len(x)} points (every improvement of the best kept)"
        x, y, best, ids = ([values[i] for i in chosen] for values in (x, y, best, ids))  # type: ignore[assignment]
    return plot_data.HistoryData(metric, mode, x, y, best, ids, ylabel=metric), shown
