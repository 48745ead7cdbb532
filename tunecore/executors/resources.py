"""What a trial needs: one or several bundles of ``cpu``, ``gpu``, ``memory`` and custom resources.

Users write a dict, ``{"cpu": 2, "gpu": 0.5, "memory": 2e9, "accelerator_type_a100": 1}``, or a list of
such bundles for a trial that starts several processes, ``[{"cpu": 1, "gpu": 1}, {"cpu": 4}]``.
:meth:`Resources.parse` checks what they wrote; every bundle that names no ``cpu`` gets one CPU (write
``"cpu": 0`` for none), ``gpu`` is a fraction of one device (shared) or a whole count, ``memory`` is in
bytes, any other key is a custom resource that an executor must be told it has.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Union

import attrs

from tunecore.errors import ConfigError

CPU = "cpu"
GPU = "gpu"
MEMORY = "memory"
STANDARD_KINDS = (CPU, GPU, MEMORY)
"""The kinds every executor knows; any other key is a custom resource."""
EPS = 1e-9
"""Tolerance of every comparison of amounts (so that 0.1 + 0.2 trials of 0.3 CPU still fit)."""

_EXAMPLE = "{'cpu': 1, 'gpu': 0.5} or a list of such bundles, one per process of a trial"
_ALIASES = {
    "cpus": CPU,
    "num_cpus": CPU,
    "gpus": GPU,
    "num_gpus": GPU,
    "mem": MEMORY,
    "ram": MEMORY,
}

ResourceRequest = Union["Resources", Mapping[str, float], Sequence[Mapping[str, float]]]
"""What :meth:`Resources.coerce` accepts: a :class:`Resources`, one bundle, or a list of bundles."""


_Items = tuple[tuple[tuple[str, float], ...], ...]


class ResourceError(ConfigError):
    """A trial's resource request that an executor can never satisfy (raised before any launch)."""


def _amount(what: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        unit = " (memory is a number of bytes, e.g. 2e9 for 2 GB)" if key == MEMORY else ""
        raise ConfigError(f"{what}: {key!r}: {value!r} is not valid: amounts are numbers >= 0{unit}")
    return float(value)


def _bundle(what: str, raw: Any, strict: bool) -> dict[str, float]:
    """One bundle, checked and normalised: ``cpu`` and ``gpu`` always there, zero custom amounts dropped."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{what}: a bundle of resources is a dict such as {_EXAMPLE}, got {raw!r}")
    if strict and not raw:
        raise ConfigError(f"{what}: an empty bundle {{}} asks for nothing: write {_EXAMPLE}")
    bundle = {CPU: 1.0, GPU: 0.0}
    for key, value in raw.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{what}: resource names are non-empty strings, got {key!r}")
        canonical = _ALIASES.get(key.lower(), key.lower())
        if strict and canonical in STANDARD_KINDS and key != canonical:
            raise ConfigError(f"{what}: write {canonical!r}, not {key!r}")
        amount = _amount(what, key, value)
        if strict and key == GPU and amount > 1 and amount != int(amount):
            raise ConfigError(
                f"{what}: 'gpu': {value!r} is not valid: a GPU amount above 1 must be whole"
                " (fractions up to 1 share one device)"
            )
        if key in (CPU, GPU) or amount > 0:
            bundle[key] = amount
    return bundle


def _bundles(value: Any) -> tuple[dict[str, float], ...]:
    if isinstance(value, Mapping):
        value = (value,)
    if not isinstance(value, list | tuple):
        raise ConfigError(f"Resources needs bundles such as {_EXAMPLE}, got {value!r}")
    bundles = tuple(_bundle("Resources", bundle, strict=False) for bundle in value)
    if not bundles:
        raise ConfigError("Resources needs at least one bundle")
    return bundles


def format_amount(kind: str, amount: float) -> str:
    """``amount`` of ``kind`` for a message: ``cpu=2``, ``memory=2 GB``."""
    if kind == MEMORY:
        return f"{kind}={amount / 1e9:g} GB"
    return f"{kind}={amount:g}"


def describe_amounts(amounts: Mapping[str, float]) -> str:
    """Amounts for a message: ``cpu=2, gpu=0.5, memory=2 GB``."""
    return ", ".join(format_amount(kind, amount) for kind, amount in amounts.items())


@attrs.frozen(repr=False)
class Resources:
    """A trial's resource request: one bundle per process it starts (usually one). Immutable, hashable.

    Build one with :meth:`parse` (what users write, checked) or :meth:`coerce`; ``Resources()`` is the
    default request, one CPU. Each bundle is a read-only dict ``{"cpu": .., "gpu": .., <other>: ..}``.
    """

    bundles: tuple[dict[str, float], ...] = attrs.field(default=({CPU: 1.0},), converter=_bundles, eq=False, hash=False)
    """The bundles (do not modify them), each with ``cpu`` and ``gpu`` and any other amount above 0."""
    _totals: dict[str, float] = attrs.field(init=False, eq=False, hash=False)
    _key: tuple[tuple[tuple[str, float], ...], ...] = attrs.field(init=False)
    _items: _Items = attrs.field(init=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        totals: dict[str, float] = {}
        for bundle in self.bundles:
            for kind, amount in bundle.items():
                totals[kind] = totals.get(kind, 0.0) + amount
        object.__setattr__(self, "_totals", totals)
        object.__setattr__(self, "_key", tuple(tuple(sorted(bundle.items())) for bundle in self.bundles))
        object.__setattr__(self, "_items", tuple(tuple(bundle.items()) for bundle in self.bundles))

    def __reduce__(self) -> tuple[Any, ...]:  # small and fast: one launch carries one across processes
        return (restore_resources, (self._items,))

    def wire(self) -> _Items:
        """The bundles as nested tuples, for :func:`restore_resources` (what pickling sends)."""
        return self._items

    def __repr__(self) -> str:
        bundles = [dict(bundle) for bundle in self.bundles]
        return f"Resources({bundles[0] if len(bundles) == 1 else bundles!r})"

    @classmethod
    def parse(cls, request: Any, what: str = "with_resources") -> Resources:
        """Check what a user wrote (a dict or a list of dicts) and build it; ConfigError says what is wrong.

        ``what`` names the place in messages (``"with_resources"``). A :class:`Resources` is returned as is.
        """
        if isinstance(request, Resources):
            return request
        if isinstance(request, Mapping):
            if not request:
                raise ConfigError(f"{what} needs a dict such as {_EXAMPLE}, got {{}}")
            return cls((_bundle(what, request, strict=True),))
        if isinstance(request, list | tuple):
            if not request:
                raise ConfigError(f"{what} needs a dict such as {_EXAMPLE}, got an empty list")
            return cls(tuple(_bundle(f"{what}, bundle {i + 1}", raw, strict=True) for i, raw in enumerate(request)))
        raise ConfigError(f"{what} needs a dict such as {_EXAMPLE}, got {request!r}")

    @classmethod
    def coerce(cls, value: ResourceRequest) -> Resources:
        """``value`` as Resources: a Resources as is, a dict as one bundle, a list as bundles.

        For what executors and the controller pass around (``TrialLaunch(resources=...)``,
        ``Executor.capacity``): amounts must be numbers >= 0, but the rules for users (no empty dict, whole
        GPUs above 1) are :meth:`parse`'s.
        """
        return to_resources(value)

    @property
    def cpu(self) -> float:
        """CPUs in all."""
        return self._totals[CPU]

    @property
    def gpu(self) -> float:
        """GPUs in all (fractions share a device)."""
        return self._totals[GPU]

    @property
    def memory(self) -> float:
        """Bytes of memory in all (0 when not requested)."""
        return self._totals.get(MEMORY, 0.0)

    def total(self, kind: str) -> float:
        """The amount of ``kind`` over all bundles (0 when not requested)."""
        return self._totals.get(kind, 0.0)

    def totals(self) -> dict[str, float]:
        """Amounts per kind over all bundles: ``{"cpu": .., "gpu": .., <requested others>: ..}`` (a copy)."""
        return dict(self._totals)

    def custom(self) -> dict[str, float]:
        """The custom resources in all: every kind but cpu, gpu and memory."""
        return {kind: amount for kind, amount in self._totals.items() if kind not in STANDARD_KINDS}

    def describe(self) -> str:
        """The request for a message: ``cpu=2, gpu=0.5`` or ``2 bundles [cpu=1, gpu=1] [cpu=4] (cpu=5, gpu=1)``."""
        if len(self.bundles) == 1:
            return describe_amounts(self._totals)
        parts = " ".join(f"[{describe_amounts(bundle)}]" for bundle in self.bundles)
        return f"{len(self.bundles)} bundles {parts} ({describe_amounts(self._totals)} in all)"


DEFAULT = Resources()
"""The default request: one CPU."""


_CACHE: dict[_Items, Resources] = {}
_CACHE_SIZE = 1024


def _cached(items: _Items, build: Any) -> Resources:
    found = _CACHE.get(items)
    if found is None:
        found = build()
        if len(_CACHE) < _CACHE_SIZE:
            _CACHE[items] = found
    return found


def restore_resources(items: _Items) -> Resources:
    """The Resources whose :meth:`~Resources.wire` form is ``items`` (built once per process and request)."""
    return _cached(items, lambda: Resources(tuple(dict(bundle) for bundle in items)))


def to_resources(value: ResourceRequest) -> Resources:
    """:meth:`Resources.coerce` as a function (the converter of ``TrialLaunch.resources``).

    The same dict is converted once per process: the controller passes one for every launch.
    """
    if isinstance(value, Resources):
        return value
    if type(value) is dict:
        try:
            return _cached((tuple(value.items()),), lambda: Resources(value))
        except TypeError:  # an unhashable amount: Resources says what is wrong
            pass
    return Resources(value)
