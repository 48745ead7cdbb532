"""``Tuner``: the entry point that runs an experiment and returns its results."""

from __future__ import annotations

import os
import time
from typing import Any

from tunecore.config import ExperimentSpec, RunConfig, TuneConfig
from tunecore.errors import ConfigError
from tunecore.plugins import Plugins, load_plugins
from tunecore.references import resolve_reference
from tunecore.results import ResultGrid
from tunecore.trainable import unwrap


class Tuner:
    """Tune ``trainable`` over ``param_space``.

    ``trainable`` is a function ``train(config)`` that calls :func:`tunecore.report` (or returns a dict of
    final metrics), a :class:`tunecore.Trainable` subclass, either wrapped by :func:`tunecore.with_parameters`
    / :func:`tunecore.with_resources`, or a reference ``"package.module:train"``. ``plugins`` is the set of
    plugins to select components from (default: discovered afresh with :func:`tunecore.load_plugins`).
    """

    def __init__(
        self,
        trainable: Any,
        *,
        param_space: dict[str, Any] | None = None,
        tune_config: TuneConfig | None = None,
        run_config: RunConfig | None = None,
        plugins: Plugins | None = None,
    ) -> None:
        if isinstance(trainable, str):
            trainable = resolve_reference(trainable)
        if not callable(unwrap(trainable)):
            raise ConfigError(
                f"the trainable must be a function, a Trainable subclass or a 'module:function' reference,"
                f" got {type(trainable).__name__}"
            )
        if param_space is not None and not isinstance(param_space, dict):
            raise ConfigError(f"param_space must be a dict, got {type(param_space).__name__}")
        self.spec = ExperimentSpec(
            trainable=trainable,
            param_space=param_space or {},
            tune_config=tune_config or TuneConfig(),
            run_config=run_config or RunConfig(),
        )
        self._plugins = plugins

    @classmethod
    def from_spec(cls, spec: ExperimentSpec, plugins: Plugins | None = None) -> Tuner:
        """A tuner for an :class:`ExperimentSpec` (e.g. from :func:`tunecore.load_experiment`)."""
        return cls(
            spec.trainable,
            param_space=spec.param_space,
            tune_config=spec.tune_config,
            run_config=spec.run_config,
            plugins=plugins,
        )

    def fit(self) -> ResultGrid:
        """Run the experiment to its end and return its results (also on disk, see ResultGrid.from_path)."""
        from tunecore.controller import Controller

        plugins = self._plugins if self._plugins is not None else load_plugins()
        path = self._experiment_path()
        Controller(self.spec, plugins, path, self.spec.trainable).run()
        return ResultGrid.from_path(path)

    def _experiment_path(self) -> str:
        """``<storage_path>/<name>``; an existing experiment is never written into: ``_2``, ``_3``... is added."""
        run = self.spec.run_config
        root = os.path.abspath(run.storage_path)
        if run.name:
            base = run.name
        else:
            trainable_name = getattr(unwrap(self.spec.trainable), "__name__", "experiment")
            base = f"{trainable_name}_{time.strftime('%Y%m%d-%H%M%S')}"
        path, counter = os.path.join(root, base), 1
        while os.path.exists(path):
            counter += 1
            path = os.path.join(root, f"{base}_{counter}")
        return path
