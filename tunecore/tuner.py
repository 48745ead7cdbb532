"""``Tuner``: the entry point that runs an experiment and returns its results."""

from __future__ import annotations

import os
import shutil
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
from tunecore.references import load_pickle, missing_user_modules, resolve_reference
from tunecore.results import ResultGrid
from tunecore.storage import claim_experiment_directory
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
        self._repair = False
        self.experiment_path: str | None = None
        """The directory the latest :meth:`fit` wrote to (None before the first)."""
        self.interrupted_by: signal.Signals | None = None
        """The signal (SIGINT, SIGTERM) that interrupted the latest :meth:`fit`, or None."""

    @classmethod
    def can_restore(cls, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` holds a tunecore experiment that :meth:`restore` can load.

        Its experiment.json and spec.pkl are there and readable, and the files its trainable was loaded
        from (``file.py:train`` references) still exist. Whether its records agree is checked when it runs.
        """
        try:
            _check_restorable(os.path.abspath(os.fspath(path)))
        except TuneError:
            return False
        return True

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
        callbacks: list[Any] | None = None,
        repair: bool = False,
        plugins: Plugins | None = None,
    ) -> Tuner:
        """A tuner that continues the experiment in ``path`` where it stopped (``fit()`` runs it).

        Finished trials are not run again; unfinished ones continue from their latest checkpoint (or from
        scratch without one); the searcher, scheduler and stoppers continue from their saved state.
        ``num_samples`` and ``time_budget_s`` may be raised (time already spent counts towards the budget);
        ``callbacks`` replace the saved ones (as Ray Tune's resume uses the callbacks it is given).
        ``trainable`` is needed only when it could not be saved with the experiment; a trainable named
        ``"file.py:train"`` is loaded from that file again. ``fit()`` refuses an experiment whose files
        disagree with its journal; ``repair=True`` first sets aside what the journal does not explain (see
        docs/fault-tolerance.md). The experiment directory is unpickled: restore only experiments you
        trust, as with any pickle file.
        """
        from tunecore.controller import ResumeOptions
        from tunecore.storage import SPEC_FILE

        path = os.path.abspath(os.fspath(path))
        modules = _check_restorable(path)
        spec_file = os.path.join(path, SPEC_FILE)
        try:
            with open(spec_file, "rb") as file:
                spec = load_pickle(file.read(), modules)
        except TuneError as exc:
            raise TuneError(f"cannot load {spec_file}: {exc}") from exc
        except Exception as exc:
            raise TuneError(
                f"cannot load {spec_file}: {type(exc).__name__}: {exc}. If a module of the"
                " trainable or a component is not importable here, run from the same environment"
            ) from exc
        trainable = trainable if trainable is not None else spec.trainable
        if trainable is None:
            raise TuneError(f"the trainable of {path} was not saved with it: pass it, Tuner.restore(path, train)")
        tune = spec.tune_config
        changes: dict[str, Any] = {}
        if num_samples is not None:
            changes["num_samples"] = num_samples
        if time_budget_s is not None:
            changes["time_budget_s"] = time_budget_s
        run_config = spec.run_config if callbacks is None else attrs.evolve(spec.run_config, callbacks=callbacks)
        tuner = cls(
            trainable,
            param_space=spec.param_space,
            tune_config=attrs.evolve(tune, **changes),
            run_config=run_config,
            plugins=plugins,
        )
        tuner._resume = ResumeOptions(resume_unfinished, resume_errored, restart_errored)
        tuner._path = path
        tuner._repair = repair
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
        """Run the experiment to its end and return its results (also on disk, see ResultGrid.from_path).

        The first Ctrl+C or SIGTERM stops it gracefully (:attr:`interrupted_by` says which), a second one
        at once (KeyboardInterrupt); either way a message names the command that resumes it. A run that
        fails before any trial ran leaves no experiment directory behind.
        """
        from tunecore.controller import Controller

        plugins = self._plugins if self._plugins is not None else load_plugins()
        self.interrupted_by = None
        new = self._path is None
        path = self._experiment_path() if new else str(self._path)
        self.experiment_path = path
        controller: Controller | None = None
        try:
            if self._repair:
                _repair(path)
            controller = Controller(self.spec, plugins, path, self.spec.trainable, resume=self._resume)
            with _signals_stop(controller, self):
                controller.run()
        except BaseException as exc:
            if new and (controller is None or _nothing_ran(controller)):
                shutil.rmtree(path, ignore_errors=True)
            elif isinstance(exc, KeyboardInterrupt):
                self.interrupted_by = self.interrupted_by or signal.SIGINT
                _print_resume_hint(path, f"Interrupted by {self.interrupted_by.name}, stopped at once")
            raise
        if controller.interrupted:
            by = self.interrupted_by
            _print_resume_hint(path, f"Interrupted by {by.name}" if by else f"Interrupted: {controller.stop_reason}")
        return ResultGrid._read_later(path)

    def _experiment_path(self) -> str:
        """A new directory ``<storage_path>/<name>``; an existing one is never written into: ``_2``, ``_3``..."""
        run = self.spec.run_config
        if run.name:
            base = run.name
        else:
            trainable_name = getattr(unwrap(self.spec.trainable), "__name__", "experiment")
            base = f"{trainable_name}_{time.strftime('%Y%m%d-%H%M%S')}"
        return claim_experiment_directory(run.storage_path, base)


def _check_restorable(path: str) -> dict[str, str]:
    """Check what :meth:`Tuner.restore` reads; the user modules (``{name: file}``) the experiment needs."""
    from tunecore.storage import SPEC_FILE, read_experiment

    if not os.path.isfile(os.path.join(path, SPEC_FILE)):
        raise TuneError(
            f"{path} is not a resumable tunecore experiment (it needs experiment.json and {SPEC_FILE});"
            " give the directory that Tuner.fit() printed, e.g. tune_results/<name>"
        )
    experiment = read_experiment(path)
    modules = experiment.get("user_modules") or {}
    if not isinstance(modules, dict) or not all(isinstance(v, str) for v in modules.values()):
        raise TuneError(f"{path}/experiment.json is damaged ('user_modules' is not a table of files)")
    missing = missing_user_modules(modules)
    if missing:
        raise TuneError(
            f"the experiment {path} was started with a trainable loaded from {', '.join(sorted(missing.values()))},"
            " which no longer exists: put the file back there to resume it"
        )
    return modules


def _repair(path: str) -> None:
    """Set aside what the journal of ``path`` does not explain (integrity.repair), holding its lock."""
    from tunecore.integrity import repair
    from tunecore.lock import ExperimentLock

    lock = ExperimentLock.acquire(path, "repair")
    try:
        moved = repair(path)
    finally:
        lock.release()
    if moved:
        print(f"tunecore: repaired {path}: set aside {', '.join(moved)}", file=sys.stderr)


def _nothing_ran(controller: Any) -> bool:
    """True when no trial of the controller reported, failed or wrote anything: its directory holds nothing."""
    return all(
        trial.last_result is None and trial.num_failures == 0 and not os.path.exists(trial.path or "")
        for trial in controller.trials.values()
    )


def _print_resume_hint(path: str, what: str) -> None:
    print(
        f"tunecore: {what}; the experiment's state is saved. Resume it with:\n"
        f"  tunecore resume {path}\n  or tunecore.Tuner.restore({path!r}).fit()",
        file=sys.stderr,
    )


@contextmanager
def _signals_stop(controller: Any, tuner: Tuner) -> Iterator[None]:
    """First Ctrl+C / SIGTERM: stop gracefully and save; the second one: stop at once (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handle(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) > 1:
            tuner.interrupted_by = tuner.interrupted_by or signal.Signals(signum)
            raise KeyboardInterrupt
        if controller.interrupt(f"interrupted by {signal.Signals(signum).name}"):
            tuner.interrupted_by = signal.Signals(signum)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
