"""``Tuner``: the entry point that runs an experiment and returns its results."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from tunecore.config import ExperimentSpec, RunConfig, TuneConfig
from tunecore.errors import ConfigError, TuneError
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
        self._resume: Any = None
        self._path: str | None = None

    @classmethod
    def can_restore(cls, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` holds a tunecore experiment that :meth:`restore` can continue."""
        from tunecore.storage import EXPERIMENT_FILE, SPEC_FILE

        path = os.fspath(path)
        return all(os.path.isfile(os.path.join(path, name)) for name in (EXPERIMENT_FILE, SPEC_FILE))

    @classmethod
    def restore(
        cls,
        path: str | os.PathLike[str],
        trainable: Any = None,
        *,
        resume_unfinished: bool = True,
        resume_errored: bool = False,
        restart_errored: bool = False,
        num_samples: int | None = None,
        time_budget_s: float | None = None,
        plugins: Plugins | None = None,
    ) -> Tuner:
        """A tuner that continues the experiment in ``path`` where it stopped (``fit()`` runs it).

        Finished trials are not run again; unfinished ones continue from their latest checkpoint (or from
        scratch without one); the searcher, scheduler and stoppers continue from their saved state.
        ``num_samples`` and ``time_budget_s`` may be raised (time already spent counts towards the budget).
        ``trainable`` is needed only when it could not be saved with the experiment. The experiment
        directory is unpickled: restore only experiments you trust, as with any pickle file.
        """
        import cloudpickle

        from tunecore.controller import ResumeOptions
        from tunecore.storage import SPEC_FILE

        path = os.path.abspath(os.fspath(path))
        if not cls.can_restore(path):
            raise TuneError(
                f"{path} is not a resumable tunecore experiment (it needs experiment.json and {SPEC_FILE});"
                " give the directory that Tuner.fit() printed, e.g. tune_results/<name>"
            )
        try:
            with open(os.path.join(path, SPEC_FILE), "rb") as file:
                spec = cloudpickle.load(file)
        except Exception as exc:
            raise TuneError(
                f"cannot load {os.path.join(path, SPEC_FILE)}: {type(exc).__name__}: {exc}. If a module of the"
                " trainable or a component is not importable here, run from the same environment"
            ) from exc
        trainable = trainable if trainable is not None else spec.trainable
        if trainable is None:
            raise TuneError(f"the trainable of {path} was not saved with it: pass it, Tuner.restore(path, train)")
        tune = spec.tune_config
        changes = {}
        if num_samples is not None:
            changes["num_samples"] = num_samples
        if time_budget_s is not None:
            changes["time_budget_s"] = time_budget_s
        tuner = cls(
            trainable,
            param_space=spec.param_space,
            tune_config=attrs.evolve(tune, **changes),
            run_config=spec.run_config,
            plugins=plugins,
        )
        tuner._resume = ResumeOptions(resume_unfinished, resume_errored, restart_errored)
        tuner._path = path
        return tuner

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
        path = self._path or self._experiment_path()
        controller = Controller(self.spec, plugins, path, self.spec.trainable, resume=self._resume)
        with _signals_stop(controller):
            controller.run()
        if controller.interrupted:
            print(
                f"tunecore: {controller.stop_reason}; the experiment's state is saved. Resume it with:\n"
                f"  tunecore resume {path}\n  or tunecore.Tuner.restore({path!r}).fit()",
                file=sys.stderr,
            )
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


@contextmanager
def _signals_stop(controller: Any) -> Iterator[None]:
    """First Ctrl+C / SIGTERM: stop gracefully and save; the second one: stop at once (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handle(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) > 1:
            raise KeyboardInterrupt
        controller.interrupt(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
