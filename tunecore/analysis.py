"""``ExperimentAnalysis``: Ray Tune's classic view of an experiment's results, built on :class:`ResultGrid`.

Every "best" here is :meth:`ResultGrid.get_best_result`'s (:mod:`tunecore.best`): the same trial as the console,
``tunecore show`` and the grid pick. Tables are pandas DataFrames when pandas is installed, else lists of dicts.
"""

from __future__ import annotations

import collections
import functools
import os
from typing import Any

from tunecore.best import pick_best
from tunecore.checkpoint import Checkpoint
from tunecore.errors import ConfigError, TuneError
from tunecore.formatting import flatten_dict, result_field
from tunecore.results import SCOPES, Result, ResultGrid
from tunecore.trial import Trial

TRAINING_ITERATION = "training_iteration"
_MODES = ("min", "max")
_HOW = (
    "pass metric=... and mode='min' or 'max' to tunecore.run() (or default_metric= and default_mode= to"
    " ExperimentAnalysis), or set them in the experiment's TuneConfig"
)


class ExperimentAnalysis:
    """The trials of the experiment in ``path``, with Ray Tune's ``ExperimentAnalysis`` API.

    ``default_metric`` and ``default_mode`` are what the ``best_*`` properties and the methods use when not
    given a metric and mode; when neither is given, the experiment's own (``TuneConfig(metric=..., mode=...)``)
    are used. ``tunecore.run`` returns one. Reads the experiment's records only (as
    :meth:`ResultGrid.from_path`): it works on a finished, interrupted or running experiment.
    """

    def __init__(
        self, path: str | os.PathLike[str], default_metric: str | None = None, default_mode: str | None = None
    ) -> None:
        self._setup(ResultGrid.from_path(path), default_metric, default_mode)

    @classmethod
    def _from_grid(
        cls, grid: ResultGrid, default_metric: str | None = None, default_mode: str | None = None
    ) -> ExperimentAnalysis:
        """An analysis of ``grid`` (what ``Tuner.fit`` returned), without reading the experiment again."""
        analysis = cls.__new__(cls)
        analysis._setup(grid, default_metric, default_mode)
        return analysis

    def _setup(self, grid: ResultGrid, default_metric: str | None, default_mode: str | None) -> None:
        if default_metric is not None and not (isinstance(default_metric, str) and default_metric):
            raise ConfigError(f"ExperimentAnalysis: default_metric must be a result field name, got {default_metric!r}")
        if default_mode is not None and default_mode not in _MODES:
            raise ConfigError(f"ExperimentAnalysis: default_mode must be 'min', 'max' or None, got {default_mode!r}")
        if default_metric is None and default_mode is None and isinstance(grid.metric, str):
            default_metric, default_mode = grid.metric, grid.mode
        self._grid = grid
        self.default_metric: str | None = default_metric
        """The metric used when none is given (None: give one)."""
        self.default_mode: str | None = default_mode
        """``"min"`` or ``"max"``, used when no mode is given (None: give one)."""

    def __repr__(self) -> str:
        return f"ExperimentAnalysis({self.experiment_path!r}, {len(self._grid)} trials)"

    # -- the experiment ---------------------------------------------------------------------------------

    @property
    def experiment_path(self) -> str:
        """The experiment's directory."""
        return self._grid.experiment_path

    @property
    def result_grid(self) -> ResultGrid:
        """The same trials as a :class:`ResultGrid` (tunecore's own API)."""
        return self._grid

    @property
    def trials(self) -> list[Result]:
        """Every trial, in creation order, as a :class:`tunecore.Result` (Ray Tune: ``Trial`` objects). Ray's
        ``trial.last_result`` is ``result.metrics``, ``trial.local_path`` is ``result.path``; ``trial_id``,
        ``config``, ``status``, ``checkpoint`` and ``error`` have the same names."""
        return list(self._grid)

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """``{trial_id: last result}`` of every trial (``{}`` for a trial that reported nothing)."""
        return {result.trial_id: result.metrics for result in self._grid}

    @property
    def results_df(self) -> Any:
        """Every trial's last result, flattened to ``"outer/inner"`` columns, indexed by ``trial_id``."""
        return _frame([_flat(result.metrics, result.trial_id) for result in self._grid], index="trial_id")

    @functools.cached_property
    def trial_dataframes(self) -> dict[str, Any]:
        """``{trial_id: every result of the trial}``, one row per result, flattened to ``"outer/inner"`` columns
        (Ray Tune 2.7 and later key by trial id too; earlier versions by the trial's directory)."""
        return {result.trial_id: _frame([flatten_dict(row) for row in result.metrics_history]) for result in self._grid}

    def dataframe(self, metric: str | None = None, mode: str | None = None) -> Any:
        """One row per trial (:meth:`ResultGrid.get_dataframe`, plus Ray's ``logdir``: the trial's directory).

        With ``metric`` and ``mode`` each row is the trial's best result by that metric over its history, not
        its last (as in Ray Tune, the defaults are not used here: without them, the rows are the last results);
        one without the other is an error.
        """
        if (metric is None) != (mode is None):
            raise ConfigError(
                f"dataframe needs metric and mode together (got {metric!r} and {mode!r}),"
                " e.g. dataframe(metric='loss', mode='min'); without both, the rows are the last results"
            )
        frame = self._grid.get_dataframe(filter_metric=metric, filter_mode=mode)
        if isinstance(frame, list):
            for row in frame:
                row["logdir"] = row["path"]
        elif len(frame):
            frame["logdir"] = frame["path"]
        return frame

    def get_all_configs(self, prefix: bool = False) -> dict[str, dict[str, Any]]:
        """``{trial_id: config}`` of every trial; ``prefix=True`` flattens each config to ``"config/..."`` keys."""
        return {
            result.trial_id: flatten_dict({"config": result.config}) if prefix else result.config
            for result in self._grid
        }

    def stats(self) -> dict[str, Any]:
        """The experiment's statistics: ``state`` (as ``tunecore ls``: running, finished, interrupted, failed
        or damaged) and its ``detail``, ``start_time`` and ``timestamp`` (epoch seconds: when it started and when
        its records were last written, None when unknown), ``duration_s``, ``num_trials``, and ``trials``:
        how many trials have each status."""
        from tunecore.views import summarize

        summary = summarize(self.experiment_path)
        start, duration = summary.start, summary.duration_s
        return {
            "state": summary.state,
            "detail": summary.detail,
            "start_time": start,
            "timestamp": None if start is None or duration is None else start + duration,
            "duration_s": duration,
            "num_trials": len(self._grid),
            "trials": dict(collections.Counter(result.status for result in self._grid)),
        }

    # -- the best trial ---------------------------------------------------------------------------------

    def get_best_trial(
        self, metric: str | None = None, mode: str | None = None, scope: str = "last", filter_nan_and_inf: bool = True
    ) -> Result | None:
        """The best trial by ``metric`` and ``mode`` (default: :attr:`default_metric`, :attr:`default_mode`),
        as :meth:`ResultGrid.get_best_result` picks it; None when no trial has a (finite) value, as in Ray Tune.

        ``scope``: ``"last"`` ranks each trial's last result, ``"all"`` its best, ``"avg"``, ``"last-5-avg"``,
        ``"last-10-avg"`` the mean of all, the last 5 or the last 10 results.
        """
        metric, mode = self._objective(metric, mode, "get_best_trial")
        if scope not in SCOPES:
            raise ConfigError(f"get_best_trial: scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        try:
            return self._grid.get_best_result(metric, mode, scope, filter_nan_and_inf)
        except TuneError:  # the arguments are checked above: no trial has a value
            return None

    def get_best_config(
        self, metric: str | None = None, mode: str | None = None, scope: str = "last"
    ) -> dict[str, Any] | None:
        """The config of :meth:`get_best_trial` (None when there is no best trial)."""
        best = self.get_best_trial(metric, mode, scope)
        return None if best is None else best.config

    def get_best_checkpoint(self, trial: Any, metric: str | None = None, mode: str | None = None) -> Checkpoint | None:
        """The kept checkpoint of ``trial`` whose result is best by ``metric`` (default: :attr:`default_metric`,
        else ``training_iteration``) and ``mode`` (default: :attr:`default_mode`); None when it has none.

        ``trial`` is a :class:`tunecore.Result` (from :attr:`trials`, :attr:`best_trial`...), a
        :class:`tunecore.Trial`, a trial id or the trial's directory.
        """
        result = self._trial(trial)
        metric = metric or self.default_metric or TRAINING_ITERATION
        mode = mode or self.default_mode
        if mode not in _MODES:
            raise ConfigError(f"get_best_checkpoint needs mode='min' or 'max' (got {mode!r}): pass it, or {_HOW}")
        # Result.get_best_checkpoint's rule, with nested metrics ("outer/inner") found as everywhere else
        scored = ((checkpoint, result_field(row, metric)) for checkpoint, row in result.best_checkpoints)
        best = pick_best(scored, mode)
        return None if best is None else best[0]

    def get_last_checkpoint(
        self, trial: Any = None, metric: str = TRAINING_ITERATION, mode: str = "max"
    ) -> Checkpoint | None:
        """The latest kept checkpoint of ``trial`` (default: the best trial by ``metric`` and ``mode``, i.e. the
        one that ran longest); None when it has none."""
        chosen = trial if trial is not None else self.get_best_trial(metric, mode)
        return None if chosen is None else self.get_best_checkpoint(chosen, TRAINING_ITERATION, "max")

    @property
    def best_trial(self) -> Result | None:
        """:meth:`get_best_trial` with the default metric and mode (None when no trial has a finite value)."""
        self._defaults("best_trial")
        return self.get_best_trial()

    @property
    def best_config(self) -> dict[str, Any] | None:
        """The config of :attr:`best_trial` (None when there is none)."""
        self._defaults("best_config")
        return self.get_best_config()

    @property
    def best_result(self) -> dict[str, Any]:
        """The last result of the best trial."""
        return self._best("best_result").metrics

    @property
    def best_result_df(self) -> Any:
        """:attr:`best_result` as a one-row table, flattened, indexed by ``trial_id``."""
        best = self._best("best_result_df")
        return _frame([_flat(best.metrics, best.trial_id)], index="trial_id")

    @property
    def best_dataframe(self) -> Any:
        """Every result of the best trial (its entry in :attr:`trial_dataframes`)."""
        return self.trial_dataframes[self._best("best_dataframe").trial_id]

    @property
    def best_logdir(self) -> str:
        """The best trial's directory."""
        return self._best("best_logdir").path

    @property
    def best_checkpoint(self) -> Checkpoint | None:
        """The best trial's kept checkpoint that is best by the default metric and mode (None: it has none)."""
        return self.get_best_checkpoint(self._best("best_checkpoint"))

    # -- helpers ----------------------------------------------------------------------------------------

    def _defaults(self, what: str) -> tuple[str, str]:
        if not self.default_metric or self.default_mode not in _MODES:
            raise ConfigError(f"ExperimentAnalysis.{what} needs a default metric and mode: {_HOW}")
        return self.default_metric, str(self.default_mode)

    def _objective(self, metric: str | None, mode: str | None, what: str) -> tuple[str, str]:
        metric, mode = metric or self.default_metric, mode or self.default_mode
        if not metric or not isinstance(metric, str):
            raise ConfigError(f"{what} needs a metric: pass metric=..., or {_HOW}")
        if mode not in _MODES:
            raise ConfigError(f"{what} needs mode='min' or 'max' (got {mode!r}): pass mode=..., or {_HOW}")
        return metric, str(mode)

    def _best(self, what: str) -> Result:
        """The best trial by the defaults; TuneError (saying why) when there is none."""
        metric, mode = self._defaults(what)
        return self._grid.get_best_result(metric, mode)

    def _trial(self, trial: Any) -> Result:
        if isinstance(trial, Result | Trial):
            key = trial.trial_id
        elif isinstance(trial, str | os.PathLike):
            key = os.fspath(trial)
        else:
            raise ConfigError(
                f"a trial is a tunecore.Result, a tunecore.Trial, a trial id or a trial's directory, got {trial!r}"
            )
        for result in self._grid:
            if key == result.trial_id or os.path.abspath(key) == result.path:
                return result
        known = ", ".join(result.trial_id for result in self._grid) or "none"
        raise ConfigError(f"the experiment {self.experiment_path} has no trial {key!r} (its trials: {known})")


def _flat(result: dict[str, Any], trial_id: str) -> dict[str, Any]:
    return {**flatten_dict(result), "trial_id": trial_id}


def _frame(rows: list[dict[str, Any]], index: str | None = None) -> Any:
    """``rows`` as a pandas DataFrame (indexed by ``index``) when pandas is installed, else the rows."""
    try:
        import pandas
    except ImportError:
        return rows
    frame = pandas.DataFrame(rows)
    return frame.set_index(index) if index is not None and len(frame) else frame
