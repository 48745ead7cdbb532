"""The executor conformance suite (tunecore.testing.executors) against ``ray``, on a one-node Ray cluster of
two CPUs (the suite asks for two one-CPU trials at once and one two-CPU trial)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ray.cluster import local_cluster
from tune_ray.executor import RayExecutor
from tunecore.executors import Executor
from tunecore.testing.executors import ExecutorConformance


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[Any]:
    with local_cluster({"num_cpus": 2}) as made:
        yield made


class TestRayConformance(ExecutorConformance):
    max_slots = 2

    def make_executor(self, slots: int) -> Executor:
        executor = RayExecutor(max_concurrent=slots, start_timeout_s=30)
        executor.shutdown_grace_s = 5.0
        return executor
