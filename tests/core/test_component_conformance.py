"""The component conformance suites (tunecore.testing.components) over the core's own searcher, scheduler and
stoppers, and against deliberately broken components, to show that the checks can fail."""

from __future__ import annotations

import io
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tunecore.builtin.loggers import ConsoleLogger, CsvLogger, JsonLogger
from tunecore.builtin.schedulers import FIFOScheduler
from tunecore.builtin.searcher_wrappers import ConcurrencyLimiter
from tunecore.builtin.searchers import RandomSearcher
from tunecore.builtin.stoppers import (
    ExperimentPlateauStopper,
    MaxIterStopper,
    PlateauStopper,
    ThresholdStopper,
    TimeoutStopper,
)
from tunecore.protocols import CONTINUE, FINISHED, PAUSE, STOP, Decision, Scheduler, Searcher, Stopper
from tunecore.testing.components import (
    LoggerConformance,
    SchedulerConformance,
    SearcherConformance,
    StopperConformance,
)
from tunecore.trial import Trial


class TestRandomSearcher(SearcherConformance):
    multi_objective = True  # it ignores the metric: any number of them is fine

    def make_searcher(self, **options: Any) -> Searcher:
        return RandomSearcher(**options)


class TestConcurrencyLimitedRandomSearcher(SearcherConformance):
    """The core's wrapper answers None ("not now") while two of its trials run."""

    multi_objective = True

    def make_searcher(self, **options: Any) -> Searcher:
        return ConcurrencyLimiter(RandomSearcher(**options), max_concurrent=2)


class TestFIFOScheduler(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return FIFOScheduler()


class TestJsonLogger(LoggerConformance):
    def make_logger(self, tmp_path: Path) -> Any:
        return JsonLogger()


class TestCsvLogger(LoggerConformance):
    def make_logger(self, tmp_path: Path) -> Any:
        return CsvLogger()


class TestConsoleLogger(LoggerConformance):
    def make_logger(self, tmp_path: Path) -> Any:
        return ConsoleLogger(verbose=2, stream=io.StringIO())


class TestMaxIterStopper(StopperConformance):
    def make_stopper(self) -> Stopper:
        return MaxIterStopper(max_iter=3)


class TestThresholdStopper(StopperConformance):
    def make_stopper(self) -> Stopper:
        return ThresholdStopper(value=0.3)


class TestPlateauStopper(StopperConformance):
    def make_stopper(self) -> Stopper:
        return PlateauStopper(std=0.1, num_results=2, grace_period=2)


class TestExperimentPlateauStopper(StopperConformance):
    def make_stopper(self) -> Stopper:
        return ExperimentPlateauStopper(std=0.5, top=2)


class TestTimeoutStopper(StopperConformance):
    def make_stopper(self) -> Stopper:
        return TimeoutStopper(timeout_s=3600)


# -- the suites fail broken components --------------------------------------------------------------------


class _OutOfBounds(RandomSearcher):
    def suggest(self, trial_id: str) -> Any:
        config = super().suggest(trial_id)
        return {**config, "uniform": 5.0} if isinstance(config, dict) else config


class _Unseeded(RandomSearcher):
    def setup(self, space: Any, metric: Any, mode: Any, seed: Any, num_samples: int = 1) -> None:
        super().setup(space, metric, mode, None, num_samples)


class _ForgetsItsGenerator(RandomSearcher):
    def save(self) -> Any:
        return {"count": self._count}

    def restore(self, state: Any) -> None:
        self._count = state["count"]


class _NeverFinished(RandomSearcher):
    def suggest(self, trial_id: str) -> Any:
        config = super().suggest(trial_id)
        if config is FINISHED:
            self._count = 0
        return config


def _searcher_suite(cls: type[Searcher]) -> SearcherConformance:
    class Suite(SearcherConformance):
        multi_objective = True

        def make_searcher(self, **options: Any) -> Searcher:
            return cls(**options)

    return Suite()


def test_a_proposal_outside_its_domain_fails() -> None:
    with pytest.raises(AssertionError, match=r"uniform = 5.0 is outside \[-1.0, 1.0\]"):
        _searcher_suite(_OutOfBounds).test_every_proposal_is_inside_every_domain()


def test_a_searcher_ignoring_the_seed_fails() -> None:
    with pytest.raises(AssertionError, match="the same seed gave other proposals"):
        _searcher_suite(_Unseeded).test_the_same_seed_gives_the_same_proposals()


def test_a_searcher_that_does_not_save_its_generator_fails() -> None:
    with pytest.raises(AssertionError, match="restored from save"):
        _searcher_suite(_ForgetsItsGenerator).test_save_and_restore_in_the_middle_of_a_run()


def test_a_searcher_proposing_after_finished_fails() -> None:
    with pytest.raises(AssertionError, match="num_samples=3 gave 6 configs"):
        _searcher_suite(_NeverFinished).test_num_samples_is_honoured_and_finished_stays_finished()


class _NumpyBools(MaxIterStopper):
    def should_stop(self, trial_id: str, result: dict[str, Any]) -> Any:
        import numpy as np

        return np.bool_(super().should_stop(trial_id, result))


class _ForgetfulPlateau(PlateauStopper):
    def save(self) -> Any:
        return {"history": {}, "counts": {}}


def _stopper_suite(make: Any) -> StopperConformance:
    class Suite(StopperConformance):
        def make_stopper(self) -> Stopper:
            return make()

    return Suite()


def test_a_stopper_answering_numpy_bools_fails() -> None:
    with pytest.raises(AssertionError, match="not a bool"):
        _stopper_suite(lambda: _NumpyBools(max_iter=3)).test_answers_are_bools()


def test_a_stopper_that_does_not_save_its_state_fails() -> None:
    make = lambda: _ForgetfulPlateau(std=0.5, num_results=3, grace_period=2)  # noqa: E731
    with pytest.raises(AssertionError, match="restored from save"):
        _stopper_suite(make).test_save_and_restore_in_the_middle_of_a_run()


class _EveryThird(Scheduler):
    """Stops every third result it sees; ``save`` may miscount, ``strict`` crashes on unknown trials."""

    def __init__(self, saves: bool = True, strict: bool = False, answer: Any = None, bogus_restart: bool = False):
        self.seen, self.saves, self.strict, self.answer, self.bogus = 0, saves, strict, answer, bogus_restart
        self.known: set[str] = set()

    def on_trial_add(self, trial: Trial) -> None:
        self.known.add(trial.trial_id)

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> Any:
        if self.strict and trial.trial_id not in self.known:
            raise KeyError(trial.trial_id)
        self.seen += 1
        if self.answer is not None:
            return self.answer
        if self.bogus and self.seen == 2:
            return Decision.restart(dict(trial.config), checkpoint="/nowhere/checkpoint")
        return STOP if self.seen % 3 == 0 else CONTINUE

    def save(self) -> Any:
        return self.seen if self.saves else self.seen + 1  # broken: off by one

    def restore(self, state: Any) -> None:
        self.seen = state


def _scheduler_suite(**options: Any) -> SchedulerConformance:
    class Suite(SchedulerConformance):
        def make_scheduler(self) -> Scheduler:
            return _EveryThird(**options)

    return Suite()


def test_the_toy_scheduler_passes_when_not_broken(tmp_path: Path) -> None:
    suite = _scheduler_suite()
    suite.test_save_and_restore_in_the_middle_of_a_run(tmp_path)
    suite.test_unknown_trials_do_not_crash()


def test_a_scheduler_answering_a_string_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"not a tunecore\.Decision"):
        _scheduler_suite(answer="CONTINUE").test_decisions_are_decisions_and_every_trial_ends(tmp_path)


def test_a_scheduler_crashing_on_an_unknown_trial_fails() -> None:
    with pytest.raises(KeyError):
        _scheduler_suite(strict=True).test_unknown_trials_do_not_crash()


def test_a_restart_from_a_checkpoint_no_trial_reported_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no checkpoint a trial reported"):
        _scheduler_suite(bogus_restart=True).test_decisions_are_decisions_and_every_trial_ends(tmp_path)


class _PausesForever(Scheduler):
    """Pauses every trial at its second result and never chooses a paused one again."""

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> Any:
        return PAUSE if result["training_iteration"] == 2 else CONTINUE


def test_a_scheduler_that_never_resumes_what_it_paused_fails(tmp_path: Path) -> None:
    class Suite(SchedulerConformance):
        pauses = True

        def make_scheduler(self) -> Scheduler:
            return _PausesForever()

    with pytest.raises(AssertionError, match="no paused trial was chosen to run again"):
        Suite().test_pause_then_resume_offers_the_paused_trial(tmp_path)


def test_a_scheduler_that_does_not_save_its_state_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="restored from save"):
        _scheduler_suite(saves=False).test_save_and_restore_in_the_middle_of_a_run(tmp_path)


# -- the documented example (docs/plugins.md, "Testing a plugin"), run as written, against the documented
# patience stopper (its module built from the file block, as if installed)

_DOC = Path(__file__).parents[2] / "docs" / "plugins.md"
_TEXT = _DOC.read_text()
(_PATIENCE,) = re.findall(r"<!-- file: tune-patience/tune_patience/plugin\.py -->\n```python\n(.*?)```", _TEXT, re.S)
(_SUITES,) = re.findall(r"<!-- component conformance -->\n```python\n(.*?)```", _TEXT, re.S)
_package, _plugin = types.ModuleType("tune_patience"), types.ModuleType("tune_patience.plugin")
_package.__path__ = []
exec(compile(_PATIENCE, f"{_DOC} (tune_patience/plugin.py)", "exec"), _plugin.__dict__)
_saved = {name: sys.modules.pop(name, None) for name in ("tune_patience", "tune_patience.plugin")}
sys.modules.update({"tune_patience": _package, "tune_patience.plugin": _plugin})
try:  # only while the block imports it: the real distribution (test_docs_plugin.py) stays importable
    exec(compile(_SUITES, f"{_DOC} (component conformance)", "exec"), globals())
finally:
    for _name, _module in _saved.items():
        if _module is None:
            del sys.modules[_name]
        else:
            sys.modules[_name] = _module


class _MisspeltLogger:
    def tunecore_trial_resultt(self, trial: Any, result: Any) -> None:
        pass


class _RaisingLogger:
    def tunecore_trial_result(self, result: Any) -> None:
        raise RuntimeError("the logger failed")


def _logger_suite(cls: type) -> LoggerConformance:
    class Suite(LoggerConformance):
        def make_logger(self, tmp_path: Path) -> Any:
            return cls()

    return Suite()


def test_a_misspelt_event_method_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="tunecore_trial_resultt is no event hook"):
        _logger_suite(_MisspeltLogger).test_its_event_methods_are_hooks_taking_their_arguments(tmp_path)


def test_a_raising_logger_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="the logger failed"):  # an event hook's error stops the experiment
        _logger_suite(_RaisingLogger).test_a_real_experiment_with_every_event(tmp_path, monkeypatch)


class _StrayLogger:
    """Writes a file in the working directory, as a logger with a relative default path would."""

    def tunecore_trial_finished(self, trial: Any) -> None:
        Path(f"{trial.trial_id}.log").write_text("finished")


class _TrialDirectoryLogger:
    """Writes into each trial's directory: allowed."""

    def tunecore_trial_finished(self, trial: Any) -> None:
        (Path(trial.path) / "finished.txt").write_text("finished")


def test_a_logger_writing_outside_the_experiment_directory_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(AssertionError, match=r"wrote outside the experiment's directory .*workdir/t00001.log"):
        _logger_suite(_StrayLogger).test_a_real_experiment_with_every_event(tmp_path, monkeypatch)


def test_a_logger_writing_into_trial_directories_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _logger_suite(_TrialDirectoryLogger).test_a_real_experiment_with_every_event(tmp_path, monkeypatch)
    assert len(list((tmp_path / "storage" / "conformance").glob("t*/finished.txt"))) == 5
