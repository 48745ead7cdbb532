"""``LoggerConformance``: the logger protocol (event hooks as methods), checked in a real experiment."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tunecore import space as sp
from tunecore.protocols import CONTINUE, PAUSE, Decision, Scheduler
from tunecore.testing.suite import ConformanceSuite
from tunecore.trial import Trial

__all__ = ["LoggerConformance"]


def _event_hooks() -> dict[str, set[str]]:
    """Every experiment event hook of :mod:`tunecore.hookspecs` with its argument names."""
    from tunecore import hookspecs

    return {
        name: set(inspect.signature(func).parameters)
        for name, func in vars(hookspecs).items()
        if name.startswith("tunecore_") and not name.startswith("tunecore_register_") and callable(func)
    }


def _every_event(config: dict[str, Any]) -> None:
    """The trainable of :class:`LoggerConformance`: results with checkpoints, a failure and a retry, an error."""
    import tunecore

    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else 0
    for step in range(start + 1, 4):
        tunecore.report({"loss": 1.0 / step, "step": step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))
        marker = Path(config["marker"])
        if config["kind"] == "fail_once" and step == 2 and not marker.exists():
            marker.touch()
            raise RuntimeError("failing once, as the logger conformance suite asks")
        if config["kind"] == "error" and step >= 2:  # the retry resumes from step 2's checkpoint: fails at 3
            raise RuntimeError("failing every time, as the logger conformance suite asks")


class _EveryDecision(Scheduler):
    """The scheduler of :class:`LoggerConformance`: pauses the ``pause`` trial once (then resumes it) and restarts
    the ``restart`` trial once from its checkpoint, so that the paused and restarted events happen too."""

    def __init__(self) -> None:
        self.decided: set[str] = set()

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> Decision:
        kind = trial.config["kind"]
        if trial.trial_id in self.decided or kind not in ("pause", "restart"):
            return CONTINUE
        self.decided.add(trial.trial_id)
        return PAUSE if kind == "pause" else Decision.restart(dict(trial.config), checkpoint=trial.checkpoint)

    def choose_trial_to_run(self, pending: Sequence[Trial], paused: Sequence[Trial]) -> Trial | None:
        return pending[0] if pending else (paused[0] if paused else None)


def _recorder(hooks: Iterable[str]) -> Any:
    """A logger noting in ``called`` which event hooks were called (each method takes none of the hook's
    arguments, as an implementation may): the suite's own check that its scenario has every event."""

    def method(name: str) -> Callable[[Any], None]:
        def note(self: Any) -> None:
            self.called.add(name)

        note.__name__ = name
        return note

    recorder = type("EventRecorder", (), {name: method(name) for name in hooks})()
    recorder.called = set()
    return recorder


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if not path.is_dir()}


class LoggerConformance(ConformanceSuite):
    """The logger protocol, checked: subclass it and build the logger in :meth:`make_logger`."""

    def make_logger(self, tmp_path: Path) -> Any:
        """A new logger (an object with ``tunecore_*`` event methods); ``tmp_path`` is the test's temporary
        directory (the experiment runs under it: the logger must write inside the experiment's directory)."""
        raise NotImplementedError("subclass LoggerConformance and override make_logger")

    def test_its_event_methods_are_hooks_taking_their_arguments(self, tmp_path: Path) -> None:
        hooks = _event_hooks()
        logger = self.make_logger(tmp_path)
        methods = [name for name in dir(logger) if name.startswith("tunecore_")]
        assert methods, "the logger has no tunecore_* event method"
        for name in methods:
            assert name in hooks, f"{name} is no event hook (they are {sorted(hooks)})"
            taken = set(inspect.signature(getattr(logger, name)).parameters)
            assert taken <= hooks[name], f"{name} takes {sorted(taken - hooks[name])}, not arguments of the hook"

    def test_a_real_experiment_with_every_event(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import tunecore

        workdir = tmp_path / "workdir"  # the experiment runs from an empty directory: nothing may appear there
        workdir.mkdir()
        monkeypatch.chdir(workdir)
        hooks = _event_hooks()
        recorder = _recorder(hooks)
        logger = self.make_logger(tmp_path)
        before = _files(tmp_path)
        grid = tunecore.Tuner(
            _every_event,
            param_space={
                "kind": sp.grid_search(["ok", "fail_once", "error", "pause", "restart"]),
                "marker": str(tmp_path / "failed_once"),
            },
            tune_config=tunecore.TuneConfig(
                executor="inline", metric=self.metric, mode=self.mode, seed=0, scheduler=_EveryDecision()
            ),
            run_config=tunecore.RunConfig(
                name="conformance",
                storage_path=str(tmp_path / "storage"),
                loggers=[logger, recorder],
                verbose=0,
                failure_config=tunecore.FailureConfig(max_failures=1),
            ),
        ).fit()
        errors = {result.config["kind"]: result.error for result in grid}
        assert errors["error"] is not None and "failing every time" in errors["error"], errors["error"]
        assert not [kind for kind, error in errors.items() if kind != "error" and error], (
            f"the logger broke the experiment: {errors}"
        )
        statuses = {result.config["kind"]: result.status for result in grid}
        ended = {"ok": "TERMINATED", "fail_once": "TERMINATED", "error": "ERROR"}
        assert statuses == {**ended, "pause": "TERMINATED", "restart": "TERMINATED"}, statuses
        assert recorder.called == set(hooks), f"the suite's scenario missed {sorted(set(hooks) - recorder.called)}"
        experiment = Path(grid.experiment_path).resolve()
        outside = sorted(
            str(path)
            for path in _files(tmp_path) - before
            if experiment not in path.resolve().parents and path.name != "failed_once"
        )
        assert not outside, f"the logger wrote outside the experiment's directory {experiment}: {outside}"
