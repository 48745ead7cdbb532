"""The scheduler conformance suite (tunecore.testing.components) over tune-asha's schedulers."""

from __future__ import annotations

from tune_asha import AsyncHyperBandScheduler, HyperBandScheduler, MedianStoppingRule, MOASHAScheduler
from tunecore.protocols import Scheduler
from tunecore.testing.components import SchedulerConformance


class TestASHA(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return AsyncHyperBandScheduler(max_t=9, grace_period=1, reduction_factor=3)


class TestASHABrackets(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return AsyncHyperBandScheduler(max_t=9, grace_period=1, reduction_factor=3, brackets=2)


class TestHyperBand(SchedulerConformance):
    pauses = True  # trials pause at each rung; the best resume

    def make_scheduler(self) -> Scheduler:
        return HyperBandScheduler(max_t=9, reduction_factor=3)


class TestMedianStoppingRule(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return MedianStoppingRule(time_attr="training_iteration", grace_period=2, min_samples_required=2)


class TestMedianStoppingRuleSoft(SchedulerConformance):
    pauses = True  # hard_stop=False pauses below the median; paused trials run again once nothing waits

    def make_scheduler(self) -> Scheduler:
        return MedianStoppingRule(
            time_attr="training_iteration", grace_period=2, min_samples_required=2, hard_stop=False
        )


class TestMOASHA(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return MOASHAScheduler(max_t=9, grace_period=1, reduction_factor=3)  # the suite's one metric


class TestMOASHABrackets(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return MOASHAScheduler(max_t=9, grace_period=1, reduction_factor=3, brackets=2)


class TestMOASHATwoMetrics(SchedulerConformance):
    # The suite's experiments have one metric ("loss"; results also carry acc = -loss): the scheduler's own
    # options give it two. Opposed modes make them agree; the same modes make every record one front.
    def make_scheduler(self) -> Scheduler:
        return MOASHAScheduler(metric=["loss", "acc"], mode=["min", "max"], max_t=9, reduction_factor=3)


class TestMOASHAConflictingMetrics(SchedulerConformance):
    def make_scheduler(self) -> Scheduler:
        return MOASHAScheduler(metric=["loss", "acc"], mode=["min", "min"], max_t=9, reduction_factor=3)
