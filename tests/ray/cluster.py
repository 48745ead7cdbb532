"""A Ray cluster of several nodes on this machine, bound to 127.0.0.1, for the tune-ray tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Before ray is imported (Ray reads these when it is imported, so a fixture would be too late): every
# address Ray resolves stays on loopback, and no usage statistics. Where Ray keeps its files and where
# trials keep scratch are set per test session by conftest.ray_environment.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import pytest

ray = pytest.importorskip(
    "ray", reason="Ray is not installed; the tune-ray tests need it: pip install -e plugins/tune-ray"
)
from ray.cluster_utils import Cluster  # noqa: E402

LOOPBACK = "127.0.0.1"
OBJECT_STORE = 80 * 1024 * 1024


@contextmanager
def local_cluster(*nodes: dict[str, Any]) -> Iterator[Cluster]:
    """A cluster whose head is ``nodes[0]`` and workers the others; this process is connected to it.

    Only what this starts is stopped, through Ray's API (``ray.shutdown()``, ``Cluster.shutdown()``).
    """
    head = {"node_ip_address": LOOPBACK, "include_dashboard": False, "object_store_memory": OBJECT_STORE, **nodes[0]}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        for node in nodes[1:]:
            cluster.add_node(node_ip_address=LOOPBACK, object_store_memory=OBJECT_STORE, **node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, logging_level="warning")
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def alive_actors() -> list[dict[str, Any]]:
    """The actors of the cluster that are not dead, from the GCS's actor table (``ray.util.state`` needs
    the dashboard, which these clusters do not run)."""
    from ray._private.state import state

    return [actor for actor in state.actor_table(None).values() if actor.get("State") != "DEAD"]


def resources_back_to_full(timeout: float = 30.0) -> bool:
    """True once the cluster's available CPUs and GPUs equal its totals again (nothing holds them)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        total, free = ray.cluster_resources(), ray.available_resources()
        if all(free.get(kind, 0.0) == total.get(kind, 0.0) for kind in ("CPU", "GPU")):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def object_store_bytes() -> int:
    """Bytes held in the object stores of all nodes of the cluster this process is connected to."""
    from ray._private.internal_api import get_memory_info_reply, get_state_from_address

    state = get_state_from_address(ray.get_runtime_context().gcs_address)
    return int(get_memory_info_reply(state).store_stats.object_store_bytes_used)


def object_store_drains(below: int, timeout: float = 20.0) -> int:
    """Wait until the object stores hold fewer than ``below`` bytes (objects are freed asynchronously);
    the bytes held at the end."""
    import time

    deadline = time.monotonic() + timeout
    while (held := object_store_bytes()) >= below and time.monotonic() < deadline:
        time.sleep(0.2)
    return held
