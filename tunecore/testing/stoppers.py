"""``StopperConformance``: the stopper protocol of :mod:`tunecore.protocols`, checked (docs/plugins.md)."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunecore.protocols import Stopper
from tunecore.testing.suite import ConformanceSuite

__all__ = ["StopperConformance"]


class StopperConformance(ConformanceSuite):
    """The stopper protocol, checked: subclass it and build the stopper in :meth:`make_stopper`."""

    def make_stopper(self) -> Stopper:
        """A new stopper (not set up)."""
        raise NotImplementedError("subclass StopperConformance and override make_stopper")

    def setup_stopper(self) -> Stopper:
        """A stopper set up for ``metric``/``mode``."""
        stopper = self.make_stopper()
        stopper.setup(self.metric, self.mode)
        return stopper

    def results(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(trial_id, result)`` pairs fed to the stopper: three trials, interleaved, some odd values."""
        for step in range(1, 9):
            for k, trial_id in enumerate(("a", "b", "c")):
                value: Any = 1.0 / step + k if trial_id != "c" or step % 3 else math.nan
                yield (
                    trial_id,
                    {
                        self.metric: value,
                        "training_iteration": step,
                        "time_total_s": float(step),
                        "trial_id": trial_id,
                    },
                )
        yield "d", {"training_iteration": 1, "time_total_s": 1.0}  # the metric missing

    def feed(self, stopper: Stopper, results: list[tuple[str, dict[str, Any]]]) -> list[tuple[bool, bool]]:
        """``(should_stop, stop_all)`` after each result, as the controller asks them; checks they are bools."""
        answers = []
        for trial_id, result in results:
            stop = stopper.should_stop(trial_id, dict(result))
            everything = stopper.stop_all()
            assert type(stop) is bool, f"should_stop() returned {stop!r} ({type(stop).__name__}), not a bool"
            assert type(everything) is bool, f"stop_all() returned {everything!r} ({type(everything).__name__})"
            answers.append((stop, everything))
        return answers

    def test_answers_are_bools(self) -> None:
        stopper = self.setup_stopper()
        assert type(stopper.stop_all()) is bool, "stop_all() before any result is not a bool"
        self.feed(stopper, list(self.results()))

    def test_the_same_results_give_the_same_answers(self) -> None:
        results = list(self.results())
        assert self.feed(self.setup_stopper(), results) == self.feed(self.setup_stopper(), results)

    def test_save_and_restore_in_the_middle_of_a_run(self) -> None:
        results = list(self.results())
        half = len(results) // 2
        live = self.setup_stopper()
        self.feed(live, results[:half])
        state = pickle.loads(pickle.dumps(live.save()))
        restored = self.setup_stopper()
        restored.restore(state)
        assert self.feed(restored, results[half:]) == self.feed(live, results[half:]), (
            "restored from save(), the stopper answers otherwise than the live one"
        )

    def test_a_real_experiment(self, tmp_path: Path) -> None:
        grid = self._experiment(tmp_path, stoppers=[self.make_stopper()], num_samples=3)
        assert len(grid) <= 3
        for result in grid:
            assert result.error is None, result.error
