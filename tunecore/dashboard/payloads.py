"""The dashboard's JSON documents, built from a followed journal: plain data, every number strict JSON.

Nothing here reads more than the experiment's small files (experiment.json, state.json, the lock file);
the trials come from :class:`~tunecore.dashboard.follower.JournalFollower`. Values the browser cannot parse
as JSON (NaN, infinities) become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import attrs

from tunecore.checkpoint import Checkpoint
from tunecore.errors import TuneError
from tunecore.journal import TrialRecord, Trials
from tunecore.lock import LockHolder
from tunecore.plot import data as plot_data
from tunecore.results import Result, ResultGrid
from tunecore.storage import EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE
from tunecore.views import best_of, count_statuses, experiment_state, objectives, shown_status, trial_table

CHARTS = ("history", "curves", "parallel", "importance", "timeline")
"""The chart kinds the dashboard serves (:mod:`tunecore.plot.data`)."""
MAX_CURVES = 300
"""The curves chart shows at most this many trials' curves (the newest)."""
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
    results = []
    for trial in trials.values():
        directory = os.path.join(path, trial.path)
        checkpoint = Checkpoint(os.path.join(directory, trial.checkpoints[-1][1])) if trial.checkpoints else None
        results.append(
            Result(
                trial_id=trial.trial_id,
                config=trial.config,
                metrics=trial.last_result or {},
                metrics_history=list(trial.history),
                status=trial.status,
                path=directory,
                checkpoint=checkpoint,
                error=trial.error,
                num_failures=trial.num_failures,
            )
        )
    return ResultGrid(results, path, metric, mode)


def summary(name: str, grid: ResultGrid, holder: LockHolder | None) -> dict[str, Any]:
    """One line of the ``ls`` table (:class:`tunecore.views.ExperimentSummary`'s fields, from the followed grid)."""
    path = grid.experiment_path
    try:
        state, detail = experiment_state(path, grid, holder)
    except (TuneError, OSError, ValueError, KeyError, TypeError) as exc:
        state, detail = "damaged", f"{type(exc).__name__}: {exc}"
    counts = count_statuses(grid, running=holder is not None)
    best_value, best_trial = best_of(grid)
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
            "metric": grid.metric,
            "mode": grid.mode,
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


def table(grid: ResultGrid) -> dict[str, Any]:
    """The trial table (``tunecore show``'s rows: best first by the experiment's metric); as :func:`chart`, not
    yet :func:`strict` (``live.encode`` converts it only when it must: the C encoder is several times faster)."""
    shown = trial_table(grid)
    return {"columns": shown.columns, "rows": [[row[c] for c in shown.columns] for row in shown.rows]}


def trial(grid: ResultGrid, record: TrialRecord, running: bool, checkpoint_exists: Any) -> dict[str, Any]:
    """A trial's page: status, config, its results, checkpoints (``checkpoint_exists(name) -> bool``) and error."""
    return strict(
        {
            "trial_id": record.trial_id,
            "status": shown_status(record.status, running),
            "config": record.config,
            "metrics": objectives(grid),
            "num_failures": record.num_failures,
            "num_results": len(record.history),
            "history": record.history[-MAX_HISTORY:],
            "checkpoints": [
                {"name": name, "iteration": iteration, "exists": bool(checkpoint_exists(name))}
                for iteration, name in record.checkpoints
            ],
            "error": record.error,
        }
    )


def chart(grid: ResultGrid, kind: str) -> dict[str, Any]:
    """The plot data of ``kind`` (one of :data:`CHARTS`), or ``{"note": why}`` when it cannot be computed."""
    try:
        if kind == "history":
            found: Any = plot_data.history(grid)
        elif kind == "curves":
            found = plot_data.curves(grid)
            if len(found.curves) > MAX_CURVES:
                found = attrs.evolve(found, curves=found.curves[-MAX_CURVES:])
        elif kind == "parallel":
            found = plot_data.parallel(grid)
        elif kind == "importance":
            found = plot_data.importance(grid)
        elif kind == "timeline":
            found = plot_data.timeline(grid)
        else:
            raise TuneError(f"no chart {kind!r}")
    except (TuneError, ImportError, ValueError, KeyError, TypeError) as exc:  # a missing library says what to install
        return {"kind": kind, "note": str(exc)}
    return {"kind": kind, **attrs.asdict(found, recurse=True)}
