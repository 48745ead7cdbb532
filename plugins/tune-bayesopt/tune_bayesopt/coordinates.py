"""Where a searched parameter sits in BOHB's model space: a :class:`Coordinate` per :class:`ValueMap`.

The model space is what the densities of :mod:`tune_bayesopt.kde` live in, one coordinate per parameter:

- a bounded float is scaled into ``[0, 1]``, in log space for log domains (``"unit"``);
- a bounded integer or quantized domain (its step index ``k``, form ``"steps"``) is scaled into ``[0, 1]`` so
  that every step owns an interval of equal width, in log space for log domains: a uniform coordinate gives a
  uniform (log-uniform) step, and nearby steps stay nearby (as hpbandster treats integers);
- a normal domain (randn, qrandn) is standardised, ``(x - mean) / sd`` (``"real"``, unbounded);
- a choice is the index of its category (``"category"``).

Every coordinate decodes to a library value inside the parameter's domain, whatever the number.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs

from tune_bayesopt.kde import Dimension
from tune_bayesopt.values import ValueMap

if TYPE_CHECKING:
    import numpy as np


@attrs.frozen
class Coordinate:
    """How one searched parameter's library value maps to its model-space coordinate and back."""

    name: str
    """The parameter's name."""
    dimension: Dimension
    """The coordinate's kind (and number of categories)."""
    steps: bool = False
    """The library value is a whole step index (ints and quantized domains)."""
    log: bool = False
    """The ``[0, 1]`` scale is logarithmic."""
    low: float = 0.0
    """``"unit"``: the (log of the) value at 0; ``"real"``: the mean."""
    high: float = 1.0
    """``"unit"``: the (log of the) value at 1; ``"real"``: the standard deviation."""
    first: int = 0
    """Steps: the smallest step index."""
    last: int = 0
    """Steps: the largest step index."""

    def encode(self, value: float) -> float:
        """The coordinate of the library value ``value``."""
        kind = self.dimension.kind
        if kind == "category":
            return float(value)
        if kind == "real":
            return (float(value) - self.low) / self.high
        if self.steps and not self.log:
            return (float(value) - self.first + 0.5) / (self.last - self.first + 1)
        x = math.log(float(value)) if self.log else float(value)
        return (x - self.low) / (self.high - self.low)

    def decode(self, u: float) -> float | int:
        """The library value at coordinate ``u`` (any number), inside the domain."""
        kind = self.dimension.kind
        if kind == "category":
            return min(max(round(u), 0), self.dimension.size - 1)
        if kind == "real":
            x = self.low + u * self.high
            return round(x) if self.steps else x
        u = min(max(u, 0.0), 1.0)
        if self.steps and not self.log:
            return min(self.first + math.floor(u * (self.last - self.first + 1)), self.last)
        x = self.low + u * (self.high - self.low)
        x = math.exp(x) if self.log else x
        return min(max(round(x), self.first), self.last) if self.steps else x

    def prior(self, rng: np.random.Generator) -> float:
        """A coordinate drawn from the parameter's own distribution (uniform, log-uniform, normal, choice)."""
        kind = self.dimension.kind
        if kind == "category":
            return float(rng.integers(self.dimension.size))
        if kind == "real":
            return float(rng.standard_normal())
        return float(rng.random())


def coordinate(m: ValueMap) -> Coordinate:
    """The coordinate of a searched parameter (any form but ``"fixed"``)."""
    if m.form == "index":
        return Coordinate(m.name, Dimension("category", len(m.categories)))
    steps = m.form == "steps"
    if m.normal:
        assert m.mean is not None and m.sd is not None
        return Coordinate(m.name, Dimension("real"), steps=steps, low=m.mean, high=m.sd)
    low, high = m.bounds
    unit = Dimension("unit")
    if not steps:
        if m.log:
            return Coordinate(m.name, unit, log=True, low=math.log(low), high=math.log(high))
        return Coordinate(m.name, unit, low=low, high=high)
    first, last = int(low), int(high)
    if m.log:  # each step k owns [k - 1/2, k + 1/2) on a log scale; k >= 1 since log values are positive
        edges = math.log(first - 0.5), math.log(last + 0.5)
        return Coordinate(m.name, unit, steps=True, log=True, low=edges[0], high=edges[1], first=first, last=last)
    return Coordinate(m.name, unit, steps=True, first=first, last=last)
