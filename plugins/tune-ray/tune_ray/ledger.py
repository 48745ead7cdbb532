"""The executor's own ledger of the Ray cluster: each node's resources and what this executor's actors hold.

Ray's ``available_resources()`` lags behind actor creation and removal (it is a periodically refreshed view),
so deciding from it over-launches and then waits. The ledger is exact for this executor: a node's capacity
comes from ``ray.nodes()`` and every actor this executor starts or kills is booked on its node at once.
Resources held by idle (reusable) actors are counted as reclaimable: a pending trial of another shape can
always be placed by releasing them, so idle actors never deadlock the experiment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tunecore.executors import Resources
from tunecore.executors.resources import EPS, describe_amounts

_RAY_NAMES = {"CPU": "cpu", "GPU": "gpu", "memory": "memory"}
_IGNORED = ("object_store_memory",)


@attrs.define(eq=False)
class Node:
    """One alive node of the cluster, as this executor accounts for it."""

    node_id: str
    """Ray's hex node id."""
    address: str
    """Its IP address."""
    capacity: dict[str, float]
    """What it has, in tunecore's names (``cpu``, ``gpu``, ``memory``, custom names lowercased)."""
    used: dict[str, float] = attrs.field(factory=dict)
    """What this executor's actors (busy or idle) hold on it."""
    idle: dict[str, float] = attrs.field(factory=dict)
    """What this executor's idle actors hold on it (a part of ``used``)."""

    def describe(self) -> str:
        """``127.0.0.1 (cpu=1, gpu=1, node_a=1)`` for messages."""
        shown = {kind: amount for kind, amount in self.capacity.items() if not kind.startswith("node:")}
        return f"{self.address} ({describe_amounts(shown)})"


def from_ray_nodes(nodes: Iterable[Mapping[str, Any]]) -> tuple[list[Node], dict[str, str]]:
    """The alive nodes of ``ray.nodes()``, and tunecore name -> Ray name of every resource they have."""
    alive: list[Node] = []
    names: dict[str, str] = {}
    for info in nodes:
        if not info.get("Alive"):
            continue
        capacity: dict[str, float] = {}
        for ray_name, amount in info.get("Resources", {}).items():
            if ray_name in _IGNORED:
                continue
            name = _RAY_NAMES.get(ray_name, ray_name.lower())
            names[name] = ray_name
            capacity[name] = float(amount)
        capacity.setdefault("cpu", 0.0)
        capacity.setdefault("gpu", 0.0)
        alive.append(Node(str(info["NodeID"]), str(info.get("NodeManagerAddress", "?")), capacity))
    return alive, names


def _fits(free: Mapping[str, float], bundle: Mapping[str, float]) -> bool:
    return all(amount <= EPS or free.get(kind, 0.0) + EPS >= amount for kind, amount in bundle.items())


def _take(free: dict[str, float], bundle: Mapping[str, float], sign: float = 1.0) -> None:
    for kind, amount in bundle.items():
        if kind in free:
            free[kind] -= sign * amount


def _gpu_ok(bundle: Mapping[str, float]) -> bool:
    gpu = bundle.get("gpu", 0.0)
    return gpu <= 1 + EPS or abs(gpu - round(gpu)) <= EPS


class Ledger:
    """Nodes and what this executor holds on each; chooses nodes for requests. Driver thread only."""

    def __init__(self, nodes: list[Node], ray_names: dict[str, str]) -> None:
        self.nodes: dict[str, Node] = {node.node_id: node for node in nodes}
        """Alive nodes by id."""
        self.ray_names = ray_names
        """tunecore resource name -> Ray's name (``cpu`` -> ``CPU``, custom names as Ray spells them)."""

    def refresh(self, nodes: list[Node], ray_names: dict[str, str]) -> list[str]:
        """Take a new view of the cluster (nodes joined or died); return the ids of nodes gone."""
        self.ray_names.update(ray_names)
        fresh = {node.node_id: node for node in nodes}
        gone = [node_id for node_id in self.nodes if node_id not in fresh]
        for node_id, node in fresh.items():
            known = self.nodes.get(node_id)
            if known is not None:
                known.capacity = node.capacity
            else:
                self.nodes[node_id] = node
        for node_id in gone:
            del self.nodes[node_id]
        return gone

    def describe(self) -> str:
        """The node shapes, for messages: ``2 nodes: 127.0.0.1 (cpu=1, ...); 127.0.0.1 (cpu=1, ...)``."""
        if not self.nodes:
            return "no alive node"
        shapes = "; ".join(node.describe() for node in self.nodes.values())
        return f"{len(self.nodes)} node{'s' if len(self.nodes) != 1 else ''}: {shapes}"

    def feasible(self, request: Resources) -> bool:
        """True when the empty cluster could hold one trial of ``request`` (each bundle on one node)."""
        if not all(_gpu_ok(bundle) for bundle in request.bundles):
            return False
        free = {node_id: dict(node.capacity) for node_id, node in self.nodes.items()}
        return self._assign(request, free) is not None

    def _assign(self, request: Resources, free: dict[str, dict[str, float]]) -> list[str] | None:
        """A node for each bundle (first fit, in the order Ray lists the nodes), taken from ``free``."""
        placed: list[str] = []
        for bundle in request.bundles:
            for node_id, room in free.items():
                if _fits(room, bundle):
                    _take(room, bundle)
                    placed.append(node_id)
                    break
            else:
                for node_id, bundle_done in zip(placed, request.bundles, strict=False):
                    _take(free[node_id], bundle_done, -1.0)
                return None
        return placed

    def _free(self, reclaim_idle: bool) -> dict[str, dict[str, float]]:
        free = {}
        for node_id, node in self.nodes.items():
            room = dict(node.capacity)
            for kind, amount in node.used.items():
                if kind in room:
                    room[kind] -= amount - (node.idle.get(kind, 0.0) if reclaim_idle else 0.0)
            free[node_id] = room
        return free

    def how_many(self, request: Resources, limit: int) -> int:
        """How many more trials of ``request`` fit now, counting idle actors' resources as free."""
        if limit <= 0:
            return 0
        free = self._free(reclaim_idle=True)
        count = 0
        while count < limit and self._assign(request, free) is not None:
            count += 1
            if all(amount <= EPS for amount in request.totals().values()):
                return limit  # a request of nothing fits any number of times
        return count

    def place(self, request: Resources) -> list[str] | None:
        """Nodes for ``request``'s bundles among what is free now (idle actors kept), or None."""
        return self._assign(request, self._free(reclaim_idle=False))

    def place_reclaiming(self, request: Resources) -> list[str] | None:
        """Nodes for ``request``'s bundles when idle actors are released, or None."""
        return self._assign(request, self._free(reclaim_idle=True))

    def book(self, nodes: list[str], request: Resources) -> None:
        """An actor of ``request`` now holds resources on ``nodes`` (one per bundle)."""
        for node_id, bundle in zip(nodes, request.bundles, strict=True):
            node = self.nodes.get(node_id)
            if node is not None:
                for kind, amount in bundle.items():
                    node.used[kind] = node.used.get(kind, 0.0) + amount

    def unbook(self, nodes: list[str], request: Resources) -> None:
        """The actor holding ``request`` on ``nodes`` is gone."""
        for node_id, bundle in zip(nodes, request.bundles, strict=True):
            node = self.nodes.get(node_id)
            if node is not None:
                for kind, amount in bundle.items():
                    node.used[kind] = max(node.used.get(kind, 0.0) - amount, 0.0)

    def set_idle(self, nodes: list[str], request: Resources, idle: bool) -> None:
        """The actor holding ``request`` on ``nodes`` became idle (reclaimable) or busy again."""
        sign = 1.0 if idle else -1.0
        for node_id, bundle in zip(nodes, request.bundles, strict=True):
            node = self.nodes.get(node_id)
            if node is not None:
                for kind, amount in bundle.items():
                    node.idle[kind] = max(node.idle.get(kind, 0.0) + sign * amount, 0.0)


def ray_bundle(bundle: Mapping[str, float], ray_names: Mapping[str, str]) -> dict[str, float]:
    """A tunecore bundle in Ray's names, amounts of 0 left out (a placement group bundle)."""
    return {ray_names.get(kind, kind): amount for kind, amount in bundle.items() if amount > EPS}


def actor_options(bundle: Mapping[str, float], ray_names: Mapping[str, str]) -> dict[str, Any]:
    """``num_cpus``, ``num_gpus``, ``memory`` and ``resources`` of an actor holding ``bundle``."""
    custom = {
        ray_names.get(kind, kind): amount
        for kind, amount in bundle.items()
        if kind not in ("cpu", "gpu", "memory") and amount > EPS
    }
    options: dict[str, Any] = {"num_cpus": bundle.get("cpu", 0.0), "num_gpus": bundle.get("gpu", 0.0)}
    memory = bundle.get("memory", 0.0)
    if memory > EPS:
        options["memory"] = math.ceil(memory)
    if custom:
        options["resources"] = custom
    return options
