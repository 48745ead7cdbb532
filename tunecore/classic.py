"""``tunecore.run``: Ray Tune's classic ``tune.run``, a thin layer over :class:`tunecore.Tuner`.

Each argument goes to the :class:`TuneConfig`, :class:`RunConfig` or wrapper that takes it, so that every value
is checked, and means, the same as there (error messages name that setting). ``resume`` continues an
experiment with :meth:`Tuner.restore`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from tunecore.analysis import ExperimentAnalysis
from tunecore.components import ComponentSpec
from tunecore.config import CheckpointConfig, FailureConfig, RunConfig, TuneConfig
from tunecore.errors import ConfigError, TuneError
from tunecore.executors.resources import DEFAULT, Resources
from tunecore.options import check_points
from tunecore.references import resolve_reference
from tunecore.trainable import requested_resources, with_resources
from tunecore.tuner import Tuner

DEFAULT_VERBOSE: int = RunConfig().verbose
"""``RunConfig``'s default ``verbose``, also :func:`run`'s."""
_DEFAULT_STORAGE = RunConfig().storage_path

RESUME_BASES = ("LOCAL", "AUTO")
"""What ``resume`` may be as a string (besides True and False), case-insensitive."""
RESUME_SUFFIXES = ("ERRORED", "RESTART_ERRORED", "ERRORED_ONLY", "RESTART_ERRORED_ONLY")
"""What may follow a resume string after ``+`` (``"AUTO+ERRORED"``): what happens to ERROR trials."""


@attrs.frozen
class ResumeRequest:
    """What ``run(resume=...)`` asks for: when to resume, and :meth:`Tuner.restore`'s options."""

    auto: bool = False
    """True: resume when the experiment exists, else start it (``"AUTO"``); False: it must exist."""
    resume_unfinished: bool = True
    """Continue the trials that had not finished (False: ``..._ONLY``, end them TERMINATED)."""
    resume_errored: bool = False
    """Run ERROR trials again from their latest checkpoint (``+ERRORED``)."""
    restart_errored: bool = False
    """Run ERROR trials again from scratch (``+RESTART_ERRORED``)."""

    @classmethod
    def parse(cls, resume: Any) -> ResumeRequest | None:
        """``run``'s ``resume`` as a request; None for False (start a new experiment); ConfigError if invalid."""
        if resume is False or resume is None:
            return None
        if resume is True:
            return cls()
        expected = (
            "True, False, 'LOCAL' (the same as True), 'AUTO' (resume if it exists, else start it), optionally"
            " with one of +ERRORED, +RESTART_ERRORED, +ERRORED_ONLY, +RESTART_ERRORED_ONLY (e.g. 'AUTO+ERRORED')"
        )
        if not isinstance(resume, str):
            raise ConfigError(f"run(resume=...) must be {expected}, got {resume!r}")
        base, *suffixes = resume.strip().upper().split("+")
        if base in ("REMOTE", "PROMPT"):
            raise ConfigError(
                f"run(resume={resume!r}): tunecore has no {base.lower()} resume: experiments are resumed from"
                " storage_path/name; use resume=True or 'AUTO'"
            )
        if base not in RESUME_BASES or len(suffixes) > 1 or any(s not in RESUME_SUFFIXES for s in suffixes):
            raise ConfigError(f"run(resume=...) must be {expected}, got {resume!r}")
        suffix = suffixes[0] if suffixes else ""
        return cls(
            auto=base == "AUTO",
            resume_unfinished=not suffix.endswith("_ONLY"),
            resume_errored=suffix.startswith("ERRORED"),
            restart_errored=suffix.startswith("RESTART_ERRORED"),
        )


def run(
    trainable: Any,
    config: dict[str, Any] | None = None,
    *,
    metric: str | list[str] | None = None,
    mode: str | list[str] | None = None,
    num_samples: int = 1,
    search_alg: Any = None,
    scheduler: Any = None,
    stop: Any = None,
    resources_per_trial: Any = None,
    max_concurrent_trials: int | None = None,
    time_budget_s: float | None = None,
    storage_path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    checkpoint_config: CheckpointConfig | None = None,
    max_failures: int = 0,
    fail_fast: bool = False,
    resume: bool | str = False,
    verbose: int = DEFAULT_VERBOSE,
    callbacks: list[Any] | None = None,
    seed: int | None = None,
    points_to_evaluate: list[dict[str, Any]] | None = None,
    executor: Any = None,
) -> ExperimentAnalysis:
    """Run an experiment, Ray Tune's way, and return its :class:`ExperimentAnalysis`.

    ``config`` is the search space (``param_space``); ``search_alg``, ``scheduler`` and ``executor`` are a
    registered name, a ``{"name": ..., **options}`` mapping or an instance (default: ``TuneConfig``'s
    ``random``, ``fifo``, ``local``); ``points_to_evaluate`` go to the searcher; ``resources_per_trial`` is what
    :func:`tunecore.with_resources` takes; ``max_failures`` and ``fail_fast`` make the ``FailureConfig``; the
    rest are the :class:`TuneConfig` and :class:`RunConfig` settings of the same names.

    ``resume``: False starts a new experiment (``name`` taken already: ``name_2``...); True (or ``"LOCAL"``)
    continues the experiment ``storage_path/name`` with :meth:`Tuner.restore`, an error when there is none;
    ``"AUTO"`` continues it when it exists, else starts it. A suffix ``+ERRORED`` / ``+RESTART_ERRORED`` runs
    its ERROR trials again from their checkpoint / from scratch; ``..._ONLY`` does not continue its other
    unfinished trials. A resumed experiment keeps its saved settings: only ``trainable`` (with
    ``resources_per_trial``), ``num_samples`` and ``time_budget_s`` when given (to raise them), and
    ``callbacks`` when given (they get the resumed run's events) are used.
    """
    if config is not None and not isinstance(config, dict):
        raise ConfigError(f"run(config=...) is the search space, a dict, got {type(config).__name__}")
    request = ResumeRequest.parse(resume)
    if isinstance(trainable, str):
        trainable = resolve_reference(trainable)
    if resources_per_trial is not None:
        Resources.parse(resources_per_trial, "run(resources_per_trial=...)")
        if requested_resources(trainable) is not DEFAULT:
            raise ConfigError(
                "run(resources_per_trial=...) was given for a trainable that has resources already"
                " (tunecore.with_resources): give them once"
            )
        trainable = with_resources(trainable, resources_per_trial)
    tune_config = TuneConfig(
        metric=metric,
        mode=mode,
        num_samples=num_samples,
        seed=seed,
        max_concurrent_trials=max_concurrent_trials,
        time_budget_s=time_budget_s,
        **_components(search_alg, scheduler, executor, points_to_evaluate),
    )
    run_config = RunConfig(
        name=name,
        storage_path=_DEFAULT_STORAGE if storage_path is None else os.fspath(storage_path),
        stop=stop,
        callbacks=_callbacks(callbacks),
        checkpoint_config=CheckpointConfig() if checkpoint_config is None else checkpoint_config,
        failure_config=FailureConfig(max_failures=max_failures, fail_fast=_fail_fast(fail_fast)),
        verbose=verbose,
    )
    if request is not None:
        path = _resume_path(run_config, request)
        if path is not None:
            tuner = Tuner.restore(
                path,
                trainable,
                resume_unfinished=request.resume_unfinished,
                resume_errored=request.resume_errored,
                restart_errored=request.restart_errored,
                num_samples=None if num_samples == 1 else num_samples,
                time_budget_s=time_budget_s,
                callbacks=run_config.callbacks if callbacks else None,
            )
            return _analysis(tuner, metric, mode)
    return _analysis(Tuner(trainable, param_space=config, tune_config=tune_config, run_config=run_config), metric, mode)


def _analysis(tuner: Tuner, metric: Any, mode: Any) -> ExperimentAnalysis:
    grid = tuner.fit()
    single = isinstance(metric, str) and isinstance(mode, str)
    return ExperimentAnalysis._from_grid(grid, metric if single else None, mode if single else None)


def _components(search_alg: Any, scheduler: Any, executor: Any, points: Any) -> dict[str, Any]:
    """The ``TuneConfig`` keywords for the components given (those not given keep its defaults)."""
    chosen = {"searcher": search_alg, "scheduler": scheduler, "executor": executor}
    options = {kind: value for kind, value in chosen.items() if value is not None}
    if points is not None:
        try:
            points = check_points(points)
        except ValueError as exc:
            raise ConfigError(f"run(points_to_evaluate=...): {exc}") from None
        if search_alg is not None and not isinstance(search_alg, str | Mapping | ComponentSpec):
            raise ConfigError(
                "run(points_to_evaluate=...) cannot be added to a searcher instance (search_alg):"
                " pass points_to_evaluate to the searcher's constructor instead"
            )
        given = search_alg.options if isinstance(search_alg, ComponentSpec) else search_alg
        if isinstance(given, Mapping) and "points_to_evaluate" in given:
            raise ConfigError("points_to_evaluate is given both in search_alg and to run(): give it once")
        options["searcher_options"] = {"points_to_evaluate": points}
    return options


def _callbacks(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, list | tuple):
        raise ConfigError(
            f"run(callbacks=...) must be a list of objects with tunecore_* event methods, got {callbacks!r}"
        )
    return list(callbacks)


def _fail_fast(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "raise":
        raise ConfigError(
            "run(fail_fast='raise') is not supported: fail_fast=True stops the experiment at the first error,"
            " and the returned analysis lists it (analysis.result_grid.errors)"
        )
    raise ConfigError(f"run(fail_fast=...) must be True or False, got {value!r}")


def _resume_path(run_config: RunConfig, request: ResumeRequest) -> str | None:
    """The experiment directory to resume; None to start a new experiment (``"AUTO"`` and none there)."""
    how = "'AUTO'" if request.auto else "True"
    if run_config.name is None:
        raise ConfigError(
            f"run(resume={how}) needs the name of the experiment to continue: run(..., name='...', resume={how})"
        )
    path = os.path.join(os.path.abspath(run_config.storage_path), run_config.name)
    if os.path.exists(path):
        return path
    if request.auto:
        return None
    raise TuneError(
        f"run(resume=True): there is no experiment {run_config.name!r} to resume in {run_config.storage_path}"
        f" ({path} does not exist): check name= and storage_path=, or pass resume='AUTO' to start it when it"
        " does not exist"
    )
