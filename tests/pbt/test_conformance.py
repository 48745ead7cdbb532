"""The scheduler conformance suite (tunecore.testing.components) over tune-pbt's pbt and pb2 schedulers."""

from __future__ import annotations

import tunecore
from tune_pbt import PB2, PopulationBasedTraining
from tunecore.protocols import Scheduler
from tunecore.testing.components import SchedulerConformance


class TestPBT(SchedulerConformance):
    restarts = True  # the bottom quantile restarts from a top member's checkpoint

    def make_scheduler(self) -> Scheduler:
        return PopulationBasedTraining(
            time_attr="training_iteration",
            perturbation_interval=2,
            hyperparam_mutations={"x": tunecore.uniform(0.0, 1.0)},
            seed=0,
        )


class TestPBTSynch(SchedulerConformance):
    restarts = True
    pauses = True  # members wait (PAUSE) at a perturbation point until the whole population reached it

    def make_scheduler(self) -> Scheduler:
        return PopulationBasedTraining(
            time_attr="training_iteration",
            perturbation_interval=2,
            hyperparam_mutations={"x": tunecore.uniform(0.0, 1.0)},
            synch=True,
            seed=0,
        )


class TestPB2(SchedulerConformance):
    restarts = True

    def make_scheduler(self) -> Scheduler:
        return PB2(time_attr="training_iteration", perturbation_interval=2, hyperparam_bounds={"x": [0.0, 1.0]}, seed=0)
