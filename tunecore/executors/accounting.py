"""Resource accounting for executors: :class:`ResourcePool` (a ledger of one place) and
:func:`check_satisfiable` (refuse an impossible request before any launch)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from tunecore.errors import ConfigError, TuneError
from tunecore.executors.resources import EPS, ResourceError, Resources, describe_amounts, format_amount

UNLIMITED = 2**62
"""What :meth:`ResourcePool.how_many` returns for a request that uses nothing this pool counts."""


def check_satisfiable(
    request: Resources, capacity: Mapping[str, float], executor_name: str = "the executor", hint: str = ""
) -> None:
    """Raise :class:`ResourceError` unless ``request`` (all its bundles together) fits in ``capacity``.

    The message names the request, the capacity, what is short, and how to fix it: ``hint`` (what this
    executor's options are), else a general advice. A kind missing from ``capacity`` counts as 0: an
    executor that is given no ``accelerator_type_a100`` has none.
    """
    short = [
        (kind, amount, float(capacity.get(kind, 0.0)))
        for kind, amount in request.totals().items()
        if amount > float(capacity.get(kind, 0.0)) + EPS
    ]
    if not short:
        return
    missing = "; ".join(
        f"{format_amount(kind, need)} needed, {format_amount(kind, have) if kind in capacity else 'none'} there"
        for kind, need, have in short
    )
    fix = hint or "lower the trial's request (tunecore.with_resources) or give the executor more"
    raise ResourceError(
        f"each trial needs {request.describe()} but {executor_name} has {describe_amounts(capacity)} ({missing}): {fix}"
    )


class ResourcePool:
    """What one place (a machine, a node) has and what running trials use of it.

    ``capacity`` maps kinds to amounts (``{"cpu": 8, "gpu": 2, "memory": 3.2e10, "tpu": 4}``); a kind it
    does not name counts as 0, an infinite amount as unlimited. Amounts are compared with a small
    tolerance. Not thread-safe: use it from the driver thread.
    """

    def __init__(self, capacity: Mapping[str, float], name: str = "the executor", hint: str = "") -> None:
        for kind, amount in capacity.items():
            if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or math.isnan(amount) or amount < 0:
                raise ConfigError(f"{name}: capacity {kind!r}: {amount!r} is not a number >= 0")
        self.capacity: dict[str, float] = {kind: float(amount) for kind, amount in capacity.items()}
        """What there is, per kind."""
        self.name = name
        """How messages name the executor, e.g. ``"the local executor"``."""
        self.hint = hint
        """How to fix an impossible request, for messages (the executor's options)."""
        self._used: dict[str, float] = dict.fromkeys(self.capacity, 0.0)
        self._holders = 0

    def used(self) -> dict[str, float]:
        """What is in use now, per kind."""
        return dict(self._used)

    def free(self) -> dict[str, float]:
        """What is free now, per kind."""
        return {kind: self.capacity[kind] - used for kind, used in self._used.items()}

    def how_many(self, request: Resources, limit: int = UNLIMITED) -> int:
        """How many more trials needing ``request`` each fit now (at most ``limit``)."""
        count = limit
        capacity, used = self.capacity, self._used
        for kind, amount in request._totals.items():
            if amount <= EPS:
                continue
            have = capacity.get(kind, 0.0)
            if have == math.inf:
                continue
            count = min(count, math.floor((have - used.get(kind, 0.0)) / amount + EPS))
            if count <= 0:
                return 0
        return count

    def fits(self, request: Resources) -> bool:
        """True when one more trial needing ``request`` fits now."""
        return self.how_many(request, 1) >= 1

    def acquire(self, request: Resources) -> None:
        """Take ``request`` from the pool (a TuneError when it does not fit: ask :meth:`fits` first)."""
        if not self.fits(request):
            raise TuneError(
                f"{self.name} has no room for {request.describe()} now (free: {describe_amounts(self.free())});"
                " ask capacity() before launching"
            )
        used = self._used
        for kind, amount in request._totals.items():
            if kind in used:
                used[kind] += amount
        self._holders += 1

    def release(self, request: Resources) -> None:
        """Give back what :meth:`acquire` took for ``request``."""
        used = self._used
        self._holders -= 1
        if self._holders <= 0:  # nothing in use: exact zeros again, whatever the rounding
            self._holders = 0
            for kind in used:
                used[kind] = 0.0
            return
        for kind, amount in request._totals.items():
            if kind in used:
                used[kind] = max(used[kind] - amount, 0.0)

    def check_satisfiable(self, request: Resources) -> None:
        """:func:`check_satisfiable` against this pool's capacity."""
        check_satisfiable(request, self.capacity, self.name, self.hint)
