"""Hook implementations of tune-ray: registers the ``ray`` executor."""

from __future__ import annotations

from collections.abc import Callable

import tunecore
from tune_ray.executor import RayExecutor


@tunecore.hookimpl
def tunecore_register_executors(register: Callable[..., None]) -> None:
    """ray."""
    register("ray", RayExecutor, "Run each trial in a Ray actor on a Ray cluster, placed by its resources")
