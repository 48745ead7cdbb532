"""Results of an experiment: :class:`ResultGrid` of :class:`Result`, loadable from disk at any time."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import attrs

from tunecore.best import pick_best, real_number
from tunecore.checkpoint import Checkpoint
from tunecore.errors import ConfigError, TuneError
from tunecore.formatting import flatten_dict, result_field
from tunecore.journal import TrialRecord, replay
from tunecore.options import is_finite_number
from tunecore.storage import parse_journal, read_experiment, read_journal, read_journal_text

SCOPES = ("last", "all", "avg", "last-5-avg", "last-10-avg")


class TrialError(TuneError):
    """A trial's failure, as listed in :attr:`ResultGrid.errors`."""

    def __init__(self, trial_id: str, traceback: str) -> None:
        last_line = traceback.strip().splitlines()[-1] if traceback.strip() else "unknown error"
        super().__init__(f"trial {trial_id} failed: {last_line}")
        self.trial_id = trial_id
        self.traceback = traceback


@attrs.frozen
class Result:
    """One trial's outcome."""

    trial_id: str
    """The trial's id."""
    config: dict[str, Any]
    """The config it ran with (the latest, after any restart)."""
    metrics: dict[str, Any]
    """Its last result ({} if it reported none)."""
    metrics_history: list[dict[str, Any]] = attrs.field(repr=False)
    """Every result it reported, in order."""
    status: str
    """``TERMINATED``, ``ERROR``, ``PAUSED``, ... at the time of reading."""
    path: str
    """The trial's directory."""
    checkpoint: Checkpoint | None = None
    """Its latest checkpoint still on disk."""
    error: str | None = None
    """The traceback of its latest failure, when it failed and reported nothing since (None for a trial that
    recovered through a retry; every attempt is in its ``error.txt``)."""
    best_checkpoints: list[tuple[Checkpoint, dict[str, Any]]] = attrs.field(factory=list, repr=False)
    """Every checkpoint still on disk with the result it came with, oldest first."""
    num_failures: int = 0
    """How many times the trial failed (each retry follows one; Ray Tune's ``Trial.num_failures``)."""

    def get_best_checkpoint(self, metric: str, mode: str) -> Checkpoint | None:
        """The kept checkpoint whose result is best by ``metric`` (``mode`` "min" or "max"), or None."""
        if mode not in ("min", "max"):
            raise TuneError(f"mode must be 'min' or 'max', got {mode!r}")
        values = ((c, result_field(r, metric)) for c, r in self.best_checkpoints)
        scored = [(c, value) for c, value in values if is_finite_number(value)]
        if not scored:
            return None
        pick = min if mode == "min" else max
        return pick(scored, key=lambda item: item[1])[0]

    @property
    def metrics_dataframe(self) -> Any:
        """``metrics_history`` as a pandas DataFrame (requires pandas)."""
        import pandas

        return pandas.DataFrame(self.metrics_history)


class ResultGrid:
    """The trials of an experiment, with helpers to find the best one."""

    def __init__(self, results: list[Result], experiment_path: str, metric: Any = None, mode: Any = None) -> None:
        self._loaded: list[Result] | None = results
        self._journal_text = ""
        self.experiment_path = experiment_path
        """The experiment's directory."""
        self.metric = metric
        self.mode = mode

    @property
    def _results(self) -> list[Result]:
        if self._loaded is None:  # read by _read_later: parsed at the first use
            self._loaded = _replay(parse_journal(self._journal_text, self.experiment_path), self.experiment_path)
            self._journal_text = ""
        return self._loaded

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    def __getitem__(self, index: int) -> Result:
        return self._results[index]

    def __repr__(self) -> str:
        return f"ResultGrid({len(self)} trials, {self.num_terminated} terminated, {self.num_errors} errors)"

    @property
    def errors(self) -> list[TrialError]:
        """The failures of the trials that ended in ERROR."""
        return [TrialError(r.trial_id, r.error or "") for r in self._results if r.status == "ERROR"]

    @property
    def num_errors(self) -> int:
        """How many trials ended in ERROR."""
        return sum(r.status == "ERROR" for r in self._results)

    @property
    def num_terminated(self) -> int:
        """How many trials ended normally (or were stopped)."""
        return sum(r.status == "TERMINATED" for r in self._results)

    def get_best_result(
        self, metric: str | None = None, mode: str | None = None, scope: str = "last", filter_nan_and_inf: bool = True
    ) -> Result:
        """The best trial by ``metric`` and ``mode`` (default: the experiment's), over all its trials.

        With the defaults this is what "best" means everywhere in tunecore (:mod:`tunecore.best`): the trial
        whose last result has the best finite value; the first trial wins a tie.

        ``scope``: ``"last"`` compares each trial's last result, ``"all"`` its best result, ``"avg"`` the
        mean of all its results, ``"last-5-avg"`` / ``"last-10-avg"`` the mean of its last 5 / 10.
        Trials whose value is NaN or infinite are skipped unless ``filter_nan_and_inf=False``.
        """
        if not metric and isinstance(self.metric, list) and isinstance(self.mode, list):
            pairs = ", ".join(f"get_best_result({m!r}, {o!r})" for m, o in zip(self.metric, self.mode, strict=False))
            raise TuneError(
                f"the experiment has several metrics ({', '.join(self.metric)}): there is no one best trial. Pick"
                f" one metric ({pairs}), or look at the Pareto front (tunecore.plot.pareto(grid))"
            )
        metric = metric or (self.metric if isinstance(self.metric, str) else None)
        mode = mode or (self.mode if isinstance(self.mode, str) else None)
        if not metric or mode not in ("min", "max"):
            raise TuneError(
                "get_best_result needs a metric and a mode ('min' or 'max'): pass them, or set them in TuneConfig"
            )
        if scope not in SCOPES:
            raise TuneError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        scored = ((result, _score(result, metric, mode, scope)) for result in self._results)
        best = pick_best(scored, mode, finite_only=filter_nan_and_inf)
        if best is None:
            raise TuneError(
                f"no trial reported a{' finite' if filter_nan_and_inf else ''} value for metric '{metric}'"
                f" ({len(self)} trials): check the metric name and what the trainable reports"
            )
        return best[0]

    def importance(
        self,
        metric: str | None = None,
        mode: str | None = None,
        *,
        scope: str = "last",
        params: list[str] | None = None,
        seed: int = 0,
    ) -> dict[str, float]:
        """``{parameter: importance}``, most important first, summing to 1: how much of ``metric``'s variation
        (default: the experiment's metric) each searched parameter explains alone, by fANOVA over a random
        forest (:mod:`tunecore.importance`; needs scikit-learn).

        Each trial counts with its last result (``scope`` as in :meth:`get_best_result`); trials without a
        finite value are left out. Nested parameters are named ``"outer/inner"``. Deterministic for a ``seed``.
        """
        from tunecore.importance import importance

        return importance(self, metric, mode, scope=scope, params=params, seed=seed)

    def get_dataframe(self, filter_metric: str | None = None, filter_mode: str | None = None) -> Any:
        """One row per trial: its last result (nested fields as ``"outer/inner"`` columns), ``config/...``
        columns, trial id, status and path.

        With ``filter_metric`` and ``filter_mode`` (``"min"`` or ``"max"``) each trial's row is its best result by
        that metric instead (the first of equal ones; only finite values count, as for "best" everywhere); a
        trial without a finite value keeps its last result. A pandas DataFrame when pandas is installed, else a
        list of dicts.
        """
        if (filter_metric is None) != (filter_mode is None):
            raise ConfigError(
                f"get_dataframe needs filter_metric and filter_mode together (got {filter_metric!r} and"
                f" {filter_mode!r}), e.g. get_dataframe(filter_metric='loss', filter_mode='min')"
            )
        if filter_metric is not None and not (isinstance(filter_metric, str) and filter_metric):
            raise ConfigError(f"get_dataframe: filter_metric must be a result field name, got {filter_metric!r}")
        if filter_mode is not None and filter_mode not in ("min", "max"):
            raise ConfigError(f"get_dataframe: filter_mode must be 'min' or 'max', got {filter_mode!r}")
        rows = []
        for result in self._results:
            shown = result.metrics
            if filter_metric is not None and filter_mode is not None:
                scored = ((row, result_field(row, filter_metric)) for row in result.metrics_history)
                best = pick_best(scored, filter_mode)
                shown = best[0] if best is not None else shown
            row = flatten_dict(shown)
            row.update({f"config/{k}": v for k, v in flatten_dict(result.config).items()})
            row.update({"trial_id": result.trial_id, "status": result.status, "path": result.path})
            rows.append(row)
        try:
            import pandas
        except ImportError:
            return rows
        return pandas.DataFrame(rows)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> ResultGrid:
        """Load an experiment (finished or running) from its directory, from the core's own records."""
        path = os.path.abspath(os.fspath(path))
        experiment = read_experiment(path)  # TuneError if missing or damaged
        return cls(_replay(read_journal(path), path), path, experiment.get("metric"), experiment.get("mode"))

    @classmethod
    def _read_later(cls, path: str) -> ResultGrid:
        """The grid :meth:`from_path` would give now, its journal read now and parsed at the first use.

        What :meth:`tunecore.Tuner.fit` returns: a run that does not look at its results does not pay for
        parsing them, and the grid still holds the experiment as it ended (a later resume, or the directory
        deleted, does not change it).
        """
        path = os.path.abspath(path)
        experiment = read_experiment(path)
        grid = cls([], path, experiment.get("metric"), experiment.get("mode"))
        grid._journal_text = read_journal_text(path)
        grid._loaded = None
        return grid


def _score(result: Result, metric: str, mode: str, scope: str) -> float | None:
    if scope == "last":
        values = [result_field(result.metrics, metric)]
    else:
        values = [result_field(r, metric) for r in result.metrics_history]
        if scope.startswith("last-"):
            values = values[-int(scope.split("-")[1]) :]
    numbers = [number for number in map(real_number, values) if number is not None]
    if not numbers:
        return None
    if scope == "all":
        finite = [v for v in numbers if math.isfinite(v)] or numbers
        return min(finite) if mode == "min" else max(finite)
    if scope == "last":
        return numbers[0]
    return sum(numbers) / len(numbers)


def _replay(records: list[dict[str, Any]], experiment_path: str) -> list[Result]:
    """Every trial's outcome from the journal records."""
    return [result_of(experiment_path, trial) for trial in replay(records).values()]


def result_of(experiment_path: str, trial: TrialRecord) -> Result:
    """The :class:`Result` of one trial of the journal (:func:`tunecore.journal.replay`'s record of it) of the
    experiment at ``experiment_path``: what :meth:`ResultGrid.from_path` gives for it (the dashboard builds its
    results one changed trial at a time with it)."""
    path = os.path.join(experiment_path, trial.path)
    checkpoints = [
        (Checkpoint(os.path.join(path, name)), _result_at(trial.history, iteration))
        for iteration, name in trial.checkpoints
    ]
    return Result(
        trial_id=trial.trial_id,
        config=trial.config,
        metrics=trial.last_result or {},
        metrics_history=list(trial.history),
        status=trial.status,
        path=path,
        checkpoint=checkpoints[-1][0] if checkpoints else None,
        error=trial.error,
        best_checkpoints=checkpoints,
        num_failures=trial.num_failures,
    )


def _result_at(history: list[dict[str, Any]], iteration: int) -> dict[str, Any]:
    for result in reversed(history):
        if result.get("training_iteration") == iteration:
            return result
    return {}
