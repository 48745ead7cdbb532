"""How one parameter of a tunecore space is searched by a library, and how its values map back and forth.

Every parameter becomes a :class:`ValueMap` of one of four forms, shared by the three space converters:

- ``"float"``: a continuous float, the library's value is the config value (uniform, loguniform, randn);
- ``"steps"``: an integer ``k`` searched by the library, the config value is ``k * q`` — ints (``q = 1``) and
  every quantized domain, so that suggestions are always multiples of ``q`` inside the bounds;
- ``"index"``: the index of a category, the config value is a copy of that category (any type);
- ``"fixed"``: a domain with a single possible value; the library never sees it.

``grid_search`` and ``sample_from`` cannot be searched by a model: :func:`value_map` refuses them at setup
with a message naming the parameter, the searcher and what to use instead.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import attrs

from tunecore.options import is_finite_number
from tunecore.space import Parameter, SpaceError

FORMS = ("float", "steps", "index", "fixed")
"""The ways a parameter is searched, see the module docstring."""


def multiple(k: int, q: float) -> float | int:
    """``k * q`` without float noise where possible: 3 steps of 0.1 give 0.3."""
    if isinstance(q, int):
        return k * q
    inverse = 1 / q
    if math.isclose(inverse, round(inverse), rel_tol=1e-12):
        return k / round(inverse)
    return k * q


@attrs.frozen
class ValueMap:
    """One parameter as a library searches it: its form, bounds and the mapping of values both ways."""

    name: str
    """The parameter's name, ``"a/b"`` for nested keys."""
    domain: str
    """The domain as written by the user, for messages, e.g. ``qloguniform(0.001, 1.0, 0.001)``."""
    form: str
    """``"float"``, ``"steps"``, ``"index"`` or ``"fixed"``."""
    low: float | None = None
    """Smallest library value (float: the value, steps: ``k``); None when unbounded (normal domains)."""
    high: float | None = None
    """Largest library value, inclusive; None when unbounded."""
    log: bool = False
    """Search in log space (between ``low`` and ``high``)."""
    base: float | None = None
    """The log base the user gave (only some libraries care)."""
    q: float | int = 1
    """For ``"steps"``: the step between config values."""
    integer: bool = False
    """The config values are ints."""
    mean: float | None = None
    """For normal domains: the mean of the library value (in steps for ``"steps"``)."""
    sd: float | None = None
    """For normal domains: the standard deviation of the library value (in steps for ``"steps"``)."""
    categories: tuple[Any, ...] = ()
    """For ``"index"`` and ``"fixed"``: the values (``"fixed"`` has exactly one)."""

    @property
    def normal(self) -> bool:
        """True for randn / qrandn."""
        return self.mean is not None

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a bounded parameter: every one but randn and qrandn (ValueError for those)."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name!r} = {self.domain} has no bounds")
        return self.low, self.high

    def to_config(self, x: Any) -> Any:
        """The config value for the library's value ``x`` (snapped into the domain)."""
        if self.form == "float":
            return _clip(float(x), self.low, self.high)
        if self.form == "steps":
            k = _clip(round(float(x)), self.low, self.high)
            return multiple(int(k), self.q)
        if self.form == "index":
            return copy.deepcopy(self.categories[int(x)])
        return copy.deepcopy(self.categories[0])

    def to_library(self, value: Any) -> Any:
        """The library's value for the config value ``value``; ValueError when it is not in the domain."""
        if self.form in ("index", "fixed"):
            index = _index(self.categories, value)
            if index is None:
                raise ValueError(f"{self.name!r} = {value!r} is not one of {list(self.categories)!r}")
            return index
        if not is_finite_number(value):
            raise ValueError(f"{self.name!r} = {value!r} is not a number of {self.domain}")
        if self.form == "float":
            x = float(value)
        else:
            x = round(float(value) / self.q)
            if not math.isclose(x * self.q, value, rel_tol=1e-9, abs_tol=1e-12):
                what = "a whole number" if self.q == 1 else f"a multiple of {self.q!r}"
                raise ValueError(f"{self.name!r} = {value!r} is not {what} ({self.domain})")
        tolerance = 1e-9 * max(1.0, abs(x))
        if (self.low is not None and x < self.low - tolerance) or (self.high is not None and x > self.high + tolerance):
            raise ValueError(f"{self.name!r} = {value!r} is outside {self.domain}")
        return x


def _clip(x: float, low: float | None, high: float | None) -> float:
    if low is not None and x < low:
        return low
    if high is not None and x > high:
        return high
    return x


def _index(categories: tuple[Any, ...], value: Any) -> int | None:
    """Position of ``value`` among ``categories``: same type and equal first (1 is not True), then equal."""
    for same_type in (True, False):
        for index, category in enumerate(categories):
            if (not same_type or type(category) is type(value)) and _equal(category, value):
                return index
    return None


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. numpy arrays: compare by identity
        return a is b


def unsupported(parameter: Parameter, searcher: str, reason: str, alternative: str) -> SpaceError:
    """The error for a domain that ``searcher`` cannot express."""
    return SpaceError(
        f"searcher '{searcher}' cannot search {parameter.name!r} = {parameter.domain!r}: {reason}. {alternative}"
    )


def value_map(parameter: Parameter, searcher: str, *, normal: bool = False) -> ValueMap:
    """How ``searcher`` searches ``parameter``; ``normal`` says whether the library has normal distributions.

    Raises :class:`tunecore.SpaceError` for ``grid_search``, ``sample_from`` and (without ``normal``) randn.
    """
    name, domain, kind = parameter.name, repr(parameter.domain), parameter.kind
    if kind == "grid":
        raise unsupported(
            parameter,
            searcher,
            "a model-based searcher proposes every value itself and cannot enumerate a grid",
            f"Use choice({list(parameter.categories or ())!r}) to let it choose among the values, or the "
            "'random' searcher to try every value",
        )
    if kind == "function":
        raise unsupported(
            parameter,
            searcher,
            "a sample_from function computes values that the searcher cannot model",
            "Use a domain (uniform, randint, choice, ...) instead, or compute the value in the trainable from"
            " the searched ones",
        )
    if kind == "categorical":
        categories = tuple(parameter.categories or ())
        form = "fixed" if len(categories) == 1 else "index"
        return ValueMap(name, domain, form, low=0, high=len(categories) - 1, categories=categories)
    q = parameter.q
    integer = kind == "int"
    if parameter.sampler == "normal":
        assert parameter.mean is not None and parameter.sd is not None  # a normal domain has both
        mean, sd = float(parameter.mean), float(parameter.sd)
        if not normal:
            raise unsupported(
                parameter,
                searcher,
                "it has no normal distribution",
                f"Use a bounded domain such as uniform({mean - 3 * sd:g}, {mean + 3 * sd:g}) (mean ± 3 sd), or the"
                " 'hyperopt' searcher, which supports randn and qrandn",
            )
        if q is None:
            return ValueMap(name, domain, "float", mean=mean, sd=sd)
        return ValueMap(name, domain, "steps", q=q, mean=mean / q, sd=sd / q)
    low, high = parameter.low, parameter.high
    assert low is not None and high is not None
    log, base = parameter.log, parameter.base
    if q is None and not integer:
        return ValueMap(name, domain, "float", low=float(low), high=float(high), log=log, base=base)
    step = q or 1
    k_low, k_high = round(low / step), round(high / step)
    if k_low == k_high:
        return ValueMap(name, domain, "fixed", categories=(multiple(k_low, step),))
    return ValueMap(name, domain, "steps", low=k_low, high=k_high, log=log, base=base, q=step, integer=integer)
