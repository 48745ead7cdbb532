"""tunecore: hyperparameter tuning with a minimal core and plugins selected by name.

The public API is re-exported here. Names are imported on first use, so ``import tunecore`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunecore.lazy import import_export

__version__ = "0.2.2"

_EXPORTS: dict[str, str] = {
    # search space
    **{
        name: "tunecore.space"
        for name in (
            "uniform",
            "quniform",
            "loguniform",
            "qloguniform",
            "randn",
            "qrandn",
            "randint",
            "qrandint",
            "lograndint",
            "qlograndint",
            "choice",
            "grid_search",
            "sample_from",
            "SpaceError",
        )
    },
    # configuration
    **{
        name: "tunecore.config"
        for name in ("TuneConfig", "RunConfig", "CheckpointConfig", "FailureConfig", "ExperimentSpec")
    },
    "load_experiment": "tunecore.config_file",
    # the contract and components
    "hookimpl": "tunecore.plugins",
    "load_plugins": "tunecore.plugins",
    **{
        name: "tunecore.protocols"
        for name in ("Searcher", "Scheduler", "Stopper", "Logger", "Decision", "CONTINUE", "PAUSE", "STOP", "FINISHED")
    },
    "ConcurrencyLimiter": "tunecore.builtin.searcher_wrappers",
    "Repeater": "tunecore.builtin.searcher_wrappers",
    "Trial": "tunecore.trial",
    "Tuner": "tunecore.tuner",
    "ResultGrid": "tunecore.results",
    "Result": "tunecore.results",
    # Ray Tune's classic API
    "run": "tunecore.classic",
    "ExperimentAnalysis": "tunecore.analysis",
    "Checkpoint": "tunecore.checkpoint",
    "Trainable": "tunecore.trainable",
    "with_parameters": "tunecore.trainable",
    "with_resources": "tunecore.trainable",
    "report": "tunecore.session",
    "get_checkpoint": "tunecore.session",
    "get_context": "tunecore.session",
    "TrialStatus": "tunecore.trial",
    # errors
    **{
        name: "tunecore.errors"
        for name in ("TuneError", "ConfigError", "ComponentError", "PluginLoadError", "MetricWarning")
    },
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:  # names are imported on first use: no import cycles, a cheap import
    return import_export(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tunecore.analysis import ExperimentAnalysis
    from tunecore.builtin.searcher_wrappers import ConcurrencyLimiter, Repeater
    from tunecore.checkpoint import Checkpoint
    from tunecore.classic import run
    from tunecore.config import CheckpointConfig, ExperimentSpec, FailureConfig, RunConfig, TuneConfig
    from tunecore.config_file import load_experiment
    from tunecore.errors import ComponentError, ConfigError, MetricWarning, PluginLoadError, TuneError
    from tunecore.plugins import hookimpl, load_plugins
    from tunecore.protocols import (
        CONTINUE,
        FINISHED,
        PAUSE,
        STOP,
        Decision,
        Logger,
        Scheduler,
        Searcher,
        Stopper,
    )
    from tunecore.results import Result, ResultGrid
    from tunecore.session import get_checkpoint, get_context, report
    from tunecore.space import (
        SpaceError,
        choice,
        grid_search,
        lograndint,
        loguniform,
        qlograndint,
        qloguniform,
        qrandint,
        qrandn,
        quniform,
        randint,
        randn,
        sample_from,
        uniform,
    )
    from tunecore.trainable import Trainable, with_parameters, with_resources
    from tunecore.trial import Trial, TrialStatus
    from tunecore.tuner import Tuner
