"""The search-space language: domains, config resolution, walking helpers and the plain-data form.

A search space is a dict whose values are constants, nested dicts and lists, or domains made by the
constructors below (``uniform``, ``randint``, ``choice``, ``grid_search``, ``sample_from``...), with the
same meaning and bounds as in Ray Tune. ``generate_variants`` turns a space into resolved configs;
``walk_space`` lists its parameters for searcher plugins; ``space_to_data`` / ``space_from_data``
convert it to and from JSON/TOML-friendly data. numpy and cloudpickle are imported only when needed.
"""

from __future__ import annotations

import base64
import copy
import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from tunecore.suggest import did_you_mean

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Categorical",
    "Domain",
    "Float",
    "Function",
    "Grid",
    "Integer",
    "Parameter",
    "SpaceError",
    "Spec",
    "call_sample_from",
    "choice",
    "flatten",
    "generate_variants",
    "get_path",
    "grid_points",
    "grid_search",
    "lograndint",
    "loguniform",
    "point_values",
    "points_within",
    "qlograndint",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "sample_config",
    "sample_from",
    "set_path",
    "space_from_data",
    "space_to_data",
    "unflatten",
    "uniform",
    "walk_space",
]

KeyPath = tuple[str | int, ...]
"""Where a value sits in a config: dict keys and list indices from the top."""


class SpaceError(ValueError):
    """An invalid search space, domain or data form; the message says what, where and how to fix it."""


def _name(path: KeyPath) -> str:
    return "/".join(str(part) for part in path)


def _where(path: KeyPath) -> str:
    return f"{_name(path)!r}: " if path else ""


# --------------------------------------------------------------------------------------------- domains


@attrs.frozen
class Domain:
    """Base class of every domain: the set of values one parameter can take and how to draw one."""

    kind: ClassVar[str] = ""
    """``"float"``, ``"int"``, ``"categorical"``, ``"grid"`` or ``"function"``."""

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> Any:
        """Draw one value with ``rng``; ``spec`` matters only to :class:`Function`."""
        raise NotImplementedError

    def __repr__(self) -> str:
        """The constructor call that makes this domain, e.g. ``loguniform(0.0001, 0.1)``."""
        if isinstance(self, Function):
            return f"sample_from({self.func!r})"
        ((name, args),) = _domain_to_data(self, ()).items()
        return f"{name}({args!r})" if name in _ARG_NAMES else f"{name}({', '.join(map(repr, args))})"


@attrs.frozen(kw_only=True, repr=False)
class Float(Domain):
    """A float domain, made by uniform, quniform, loguniform, qloguniform, randn or qrandn."""

    kind: ClassVar[str] = "float"
    sampler: str = "uniform"
    """``"uniform"`` (between low and high, log-uniformly when ``log``) or ``"normal"`` (mean, sd)."""
    low: float | None = None
    """Lower bound as given (uniform sampler only)."""
    high: float | None = None
    """Upper bound as given (uniform sampler only)."""
    mean: float | None = None
    """Mean (normal sampler only)."""
    sd: float | None = None
    """Standard deviation (normal sampler only)."""
    log: bool = False
    """Sample uniformly in log space (uniform sampler only)."""
    base: float | None = None
    """Base of the logarithm when ``log``, else None."""
    q: float | None = None
    """When set, values are rounded to multiples of ``q``."""

    @property
    def bounds(self) -> tuple[float, float] | None:
        """The range values are drawn from, ``(low, high)``; None for the normal sampler.

        With ``q`` these are the first and last multiples of ``q`` inside ``[low, high]``, both reachable.
        """
        if self.low is None or self.high is None:
            return None
        if self.q is None:
            return self.low, self.high
        lo, hi = self._steps()
        return _multiple(lo, self.q), _multiple(hi, self.q)

    def _steps(self) -> tuple[int, int]:
        assert self.low is not None and self.high is not None and self.q is not None
        return _steps(self.low, self.q, up=True), _steps(self.high, self.q, up=False)

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> float:
        """Draw one float."""
        if self.sampler == "normal":
            assert self.mean is not None and self.sd is not None  # set by randn/qrandn
            x = float(rng.normal(self.mean, self.sd))
            return x if self.q is None else _multiple(round(x / self.q), self.q)
        lo, hi = self.bounds  # type: ignore[misc]
        x = _log_uniform(rng, lo, hi, self.base) if self.log else float(rng.uniform(lo, hi))
        if self.q is None:
            return min(max(x, lo), hi)
        lo_k, hi_k = self._steps()
        return _multiple(min(max(round(x / self.q), lo_k), hi_k), self.q)


@attrs.frozen(kw_only=True, repr=False)
class Integer(Domain):
    """An integer domain, made by randint, qrandint, lograndint or qlograndint.

    ``low`` and ``high`` are both INCLUSIVE here: ``randint(0, 10)`` is ``Integer(low=0, high=9)``,
    ``qrandint(0, 10, 5)`` is ``Integer(low=0, high=10, q=5)``.
    """

    kind: ClassVar[str] = "int"
    low: int
    """Smallest value allowed (inclusive)."""
    high: int
    """Largest value allowed (inclusive)."""
    log: bool = False
    """Sample log-uniformly."""
    base: float | None = None
    """Base of the logarithm when ``log``, else None."""
    q: int | None = None
    """When set, values are multiples of ``q`` (qrandint, qlograndint)."""

    @property
    def bounds(self) -> tuple[int, int]:
        """The smallest and largest values that can be drawn, both inclusive (multiples of ``q`` if set)."""
        if self.q is None:
            return self.low, self.high
        return -(-self.low // self.q) * self.q, self.high // self.q * self.q

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> int:
        """Draw one int."""
        lo, hi = self.bounds
        q = self.q or 1
        if not self.log:
            return int(rng.integers(lo // q, hi // q + 1)) * q
        if self.q is None:  # lograndint: floor of a log-uniform float in [low, high + 1)
            x = math.floor(_log_uniform(rng, lo, hi + 1, self.base))
        else:
            x = round(_log_uniform(rng, lo, hi, self.base) / q) * q
        return min(max(x, lo), hi)


@attrs.frozen(repr=False)
class Categorical(Domain):
    """A value drawn uniformly from ``categories``, made by :func:`choice`."""

    kind: ClassVar[str] = "categorical"
    categories: tuple[Any, ...]
    """The values to choose from (constants, taken literally)."""

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> Any:
        """Draw one category (a deep copy)."""
        return copy.deepcopy(self.categories[int(rng.integers(len(self.categories)))])


@attrs.frozen(repr=False)
class Grid(Domain):
    """Values that are all tried, made by :func:`grid_search`; see :func:`grid_points`."""

    kind: ClassVar[str] = "grid"
    values: tuple[Any, ...]
    """The values to enumerate (constants, taken literally)."""

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> Any:
        """Draw one value uniformly, like a choice; ``generate_variants`` enumerates them instead."""
        return copy.deepcopy(self.values[int(rng.integers(len(self.values)))])


@attrs.frozen(repr=False)
class Function(Domain):
    """A value computed by ``func(spec)`` (or ``func()``) once the other values are known; see sample_from."""

    kind: ClassVar[str] = "function"
    func: Callable[..., Any]
    """The user's function; compared by identity."""

    def sample(self, rng: np.random.Generator, spec: Spec | None = None) -> Any:
        """Call ``func(spec)`` (an empty config when spec is None), or ``func()`` if it takes no argument."""
        if spec is None:
            spec = Spec(config=_ConfigView({}, ()), rng=rng)
        return self.func(spec) if _takes_argument(self.func) else self.func()


@attrs.frozen
class Spec:
    """What a ``sample_from`` function receives."""

    config: Mapping[str, Any]
    """The config being resolved, read-only; ``spec.config["a"]["b"]`` or ``spec.config.a.b``."""
    rng: np.random.Generator
    """The generator resolving this config: draw from it for reproducible randomness."""
    path: KeyPath = ()
    """Where the function's value goes."""


def _log_uniform(rng: np.random.Generator, low: float, high: float, base: float | None) -> float:
    assert base is not None
    return base ** float(rng.uniform(math.log(low, base), math.log(high, base)))


def _takes_argument(func: Callable[..., Any]) -> bool:
    try:
        inspect.signature(func).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature available: assume Ray's convention
        return True
    return True


# ------------------------------------------------------------------------------------ validation helpers


def _number(ctor: str, arg: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpaceError(f"{ctor} needs a number for {arg}, got {arg}={value!r}: write a number, e.g. 0.5")
    if not math.isfinite(value):
        raise SpaceError(f"{ctor} needs a finite {arg}, got {arg}={value!r}: use a finite bound")
    return float(value)


def _integer(ctor: str, arg: str, value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Rational) and not isinstance(value, bool) and value.denominator == 1:  # exact
        return int(value.numerator)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        return int(float(value))
    float_twin = ctor.replace("randint", "uniform")
    raise SpaceError(f"{ctor} needs whole numbers, got {arg}={value!r}: use {float_twin} for float values")


def _bounds(ctor: str, low: Any, high: Any, *, log: bool, integer: bool = False) -> tuple[Any, Any]:
    convert = _integer if integer else _number
    lo, hi = convert(ctor, "low", low), convert(ctor, "high", high)
    if log and lo <= 0:
        raise SpaceError(
            f"{ctor} needs 0 < low < high, got low={low!r}: "
            f"use {ctor.replace('log', '')} for ranges that include 0 or negative values"
        )
    if lo >= hi:
        needs = "0 < low < high" if log else "low < high"
        hint = "swap the bounds" if lo > hi else "use a constant for a single value"
        raise SpaceError(f"{ctor} needs {needs}, got low={low!r}, high={high!r}: {hint}")
    return lo, hi


def _positive(ctor: str, arg: str, value: Any, *, integer: bool = False) -> Any:
    value = _integer(ctor, arg, value) if integer else _number(ctor, arg, value)
    if value <= 0:
        what = {"q": "the step between allowed values", "sd": "the standard deviation"}.get(arg, arg)
        raise SpaceError(f"{ctor} needs {arg} > 0, got {arg}={value!r}: {arg} is {what}")
    return value


def _base(ctor: str, base: Any) -> float:
    base = _positive(ctor, "base", base)
    if base == 1:
        raise SpaceError(f"{ctor} needs base > 0 and base != 1, got base=1: use the default base 10")
    return base


def _has_multiple(ctor: str, domain: Float | Integer) -> Any:
    lo, hi = domain.bounds  # type: ignore[misc]
    if lo > hi:
        raise SpaceError(
            f"{ctor} has no multiple of q={domain.q!r} in [{domain.low!r}, {domain.high!r}]: "
            "widen the range or use a smaller q"
        )
    return domain


def _steps(x: float, q: float, *, up: bool) -> int:
    """The k whose k*q is nearest to x on the inner side (above when ``up``), tolerating float noise."""
    k = x / q
    if math.isclose(k, round(k), rel_tol=1e-9, abs_tol=1e-9):
        return round(k)
    return math.ceil(k) if up else math.floor(k)


def _multiple(k: int, q: float) -> float:
    """``k * q``, computed as ``k / (1/q)`` when 1/q is whole, so that 3 steps of 0.1 give 0.3."""
    inverse = round(1 / q)
    if q < 1 and math.isclose(1 / q, inverse, rel_tol=1e-12):
        return k / inverse
    return float(k * q)


def _python(value: Any) -> Any:
    """A numpy scalar as the matching Python value; anything else unchanged."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _values(ctor: str, values: Any, what: str) -> tuple[Any, ...]:
    if hasattr(values, "tolist") and not isinstance(values, (list, tuple)):  # numpy arrays
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise SpaceError(
            f"{ctor} needs a list of {what}, got {values!r} ({type(values).__name__}): write {ctor}([...])"
        )
    if not values:
        raise SpaceError(f"{ctor} needs at least one of its {what}, got an empty list: list the {what}")
    return tuple(_python(v) for v in values)


# ------------------------------------------------------------------------------------------ constructors


def uniform(low: float, high: float) -> Float:
    """A float drawn uniformly from ``[low, high)``."""
    low, high = _bounds("uniform", low, high, log=False)
    return Float(low=low, high=high)


def quniform(low: float, high: float, q: float) -> Float:
    """A float drawn uniformly from ``[low, high]`` and rounded to a multiple of ``q`` inside the bounds."""
    low, high = _bounds("quniform", low, high, log=False)
    return _has_multiple("quniform", Float(low=low, high=high, q=_positive("quniform", "q", q)))


def loguniform(low: float, high: float, base: float = 10) -> Float:
    """A float drawn log-uniformly from ``[low, high)``; needs ``0 < low``."""
    low, high = _bounds("loguniform", low, high, log=True)
    return Float(low=low, high=high, log=True, base=_base("loguniform", base))


def qloguniform(low: float, high: float, q: float, base: float = 10) -> Float:
    """A float drawn log-uniformly from ``[low, high]``, rounded to a multiple of ``q`` inside the bounds."""
    low, high = _bounds("qloguniform", low, high, log=True)
    domain = Float(low=low, high=high, log=True, base=_base("qloguniform", base), q=_positive("qloguniform", "q", q))
    return _has_multiple("qloguniform", domain)


def randn(mean: float = 0.0, sd: float = 1.0) -> Float:
    """A float drawn from the normal distribution with ``mean`` and standard deviation ``sd``."""
    return Float(sampler="normal", mean=_number("randn", "mean", mean), sd=_positive("randn", "sd", sd))


def qrandn(mean: float, sd: float, q: float) -> Float:
    """A normal float (``mean``, ``sd``) rounded to a multiple of ``q``."""
    return Float(
        sampler="normal",
        mean=_number("qrandn", "mean", mean),
        sd=_positive("qrandn", "sd", sd),
        q=_positive("qrandn", "q", q),
    )


def randint(low: int, high: int) -> Integer:
    """An int drawn uniformly from ``[low, high)``: the upper bound is EXCLUSIVE."""
    low, high = _bounds("randint", low, high, log=False, integer=True)
    return Integer(low=low, high=high - 1)


def qrandint(low: int, high: int, q: int = 1) -> Integer:
    """An int drawn uniformly from the multiples of ``q`` in ``[low, high]``: both bounds INCLUSIVE."""
    low, high = _bounds("qrandint", low, high, log=False, integer=True)
    return _has_multiple("qrandint", Integer(low=low, high=high, q=_positive("qrandint", "q", q, integer=True)))


def lograndint(low: int, high: int, base: float = 10) -> Integer:
    """An int drawn log-uniformly from ``[low, high)``: the upper bound is EXCLUSIVE; needs ``0 < low``."""
    low, high = _bounds("lograndint", low, high, log=True, integer=True)
    return Integer(low=low, high=high - 1, log=True, base=_base("lograndint", base))


def qlograndint(low: int, high: int, q: int, base: float = 10) -> Integer:
    """An int drawn log-uniformly from ``[low, high]``, rounded to a multiple of ``q``: bounds INCLUSIVE."""
    low, high = _bounds("qlograndint", low, high, log=True, integer=True)
    q = _positive("qlograndint", "q", q, integer=True)
    return _has_multiple("qlograndint", Integer(low=low, high=high, log=True, base=_base("qlograndint", base), q=q))


def choice(categories: Sequence[Any]) -> Categorical:
    """One of ``categories``, each equally likely; categories are constants (taken literally)."""
    return Categorical(_values("choice", categories, "categories"))


def grid_search(values: Sequence[Any]) -> Grid:
    """Try every one of ``values``: configs are the cartesian product of all grids (see generate_variants)."""
    return Grid(_values("grid_search", values, "values"))


def sample_from(func: Callable[..., Any]) -> Function:
    """A value computed by ``func(spec)`` after the other values; ``spec.config`` is the config so far."""
    if not callable(func):
        raise SpaceError(f"sample_from needs a callable, got {func!r}: write sample_from(lambda spec: ...)")
    return Function(func)


_CONSTRUCTORS: dict[str, Callable[..., Domain]] = {
    f.__name__: f
    for f in (uniform, quniform, loguniform, qloguniform, randn, qrandn, randint, qrandint, lograndint,
              qlograndint, choice, grid_search, sample_from)
}  # fmt: skip


# ----------------------------------------------------------------------------------------------- walking


@attrs.frozen
class Parameter:
    """One domain of a space: where it sits and what a searcher needs; fields that do not apply are None.

    ``low`` and ``high`` are the smallest and largest values the domain can produce, BOTH INCLUSIVE (also
    for ints: ``randint(0, 10)`` has ``high == 9``), snapped to multiples of ``q`` for quantized domains.
    """

    path: KeyPath
    """Keys and list indices from the top of the space, e.g. ``("optimizer", "lr")``."""
    domain: Domain
    """The domain itself."""

    @property
    def name(self) -> str:
        """The path joined with ``/``, e.g. ``"optimizer/lr"`` or ``"layers/0"``."""
        return _name(self.path)

    @property
    def kind(self) -> str:
        """``"float"``, ``"int"``, ``"categorical"``, ``"grid"`` or ``"function"``."""
        return self.domain.kind

    @property
    def low(self) -> float | int | None:
        """Smallest value that can be drawn (float and int uniform-type domains)."""
        bounds = getattr(self.domain, "bounds", None)
        return bounds[0] if bounds else None

    @property
    def high(self) -> float | int | None:
        """Largest value that can be drawn, inclusive (float and int uniform-type domains)."""
        bounds = getattr(self.domain, "bounds", None)
        return bounds[1] if bounds else None

    @property
    def log(self) -> bool:
        """Whether values are drawn log-uniformly (False for non-numeric kinds)."""
        return bool(getattr(self.domain, "log", False))

    @property
    def base(self) -> float | None:
        """Base of the logarithm for log domains."""
        return getattr(self.domain, "base", None)

    @property
    def q(self) -> float | int | None:
        """Quantization step, for quantized domains."""
        return getattr(self.domain, "q", None)

    @property
    def sampler(self) -> str | None:
        """``"uniform"`` or ``"normal"`` for numeric kinds."""
        if isinstance(self.domain, Integer):
            return "uniform"
        return getattr(self.domain, "sampler", None)

    @property
    def mean(self) -> float | None:
        """Mean of a normal domain."""
        return getattr(self.domain, "mean", None)

    @property
    def sd(self) -> float | None:
        """Standard deviation of a normal domain."""
        return getattr(self.domain, "sd", None)

    @property
    def categories(self) -> tuple[Any, ...] | None:
        """The values of a choice or grid_search."""
        if isinstance(self.domain, Grid):
            return self.domain.values
        return getattr(self.domain, "categories", None)


def _check_space(space: Any) -> None:
    if not isinstance(space, dict):
        raise SpaceError(
            f"a search space must be a dict of parameter names to domains or constants, "
            f"got {type(space).__name__}: wrap it, e.g. {{'x': ...}}"
        )


def _domains(obj: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Domain]]:
    """Every domain under ``obj``, depth first in insertion order."""
    if isinstance(obj, Domain):
        yield path, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _domains(value, (*path, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _domains(value, (*path, index))
    elif isinstance(obj, tuple) and any(isinstance(v, Domain) for v in obj):
        raise SpaceError(f"{_where(path)}domains inside a tuple are not resolved: use a list instead")


def walk_space(space: dict[str, Any]) -> list[Parameter]:
    """Every parameter (domain) of ``space``, depth first in insertion order; constants are skipped."""
    _check_space(space)
    return [Parameter(path, domain) for path, domain in _domains(space, ())]


def _parts(path: KeyPath | str) -> KeyPath:
    return tuple(path.split("/")) if isinstance(path, str) else tuple(path)


def _key(node: Any, part: str | int) -> Any:
    return int(part) if isinstance(node, list) and isinstance(part, str) else part


def get_path(config: Any, path: KeyPath | str) -> Any:
    """The value at ``path`` (a tuple of keys/indices or an ``"a/b/0"`` name); raises KeyError/IndexError."""
    node = config
    for part in _parts(path):
        node = node[_key(node, part)]
    return node


def set_path(config: dict[str, Any], path: KeyPath | str, value: Any) -> None:
    """Store ``value`` at ``path`` in ``config``, creating missing intermediate dicts."""
    parts = _parts(path)
    if not parts:
        raise SpaceError("set_path needs a non-empty path: give at least one key")
    node: Any = config
    for part in parts[:-1]:
        key = _key(node, part)
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    node[_key(node, parts[-1])] = value


def flatten(config: dict[str, Any]) -> dict[str, Any]:
    """Map ``"a/b"`` names to the leaf values of a config (lists give ``"a/0"``; empty ones are leaves)."""
    flat: dict[str, Any] = {}

    def visit(node: Any, path: KeyPath) -> None:
        if isinstance(node, (dict, list)) and node:
            for key, child in node.items() if isinstance(node, dict) else enumerate(node):
                visit(child, (*path, key))
        else:
            flat[_name(path)] = node

    for key, value in config.items():
        visit(value, (key,))
    return flat


def point_values(space: dict[str, Any], point: Any, where: str = "the point") -> dict[str, Any]:
    """The parameter values of ``point``, a (possibly partial) config of ``space``, by ``"a/b"`` name.

    What searchers do with ``points_to_evaluate``. ``point`` is nested like a config, or uses ``"a/b"`` names;
    a parameter's value is taken whole (a choice of tables gives a table). It may hold the space's constants,
    as an earlier ``Result.config`` does: they are dropped, with a warning naming the key and both values when
    the point's differs (trials get the space's). Anything else is a SpaceError starting with ``where``.
    """
    _check_space(space)
    if not isinstance(point, Mapping):
        raise SpaceError(f"{where} must be a dict of parameter values, got {type(point).__name__}: {point!r}")
    params = {p.path: p.name for p in walk_space(space)}
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for path, value, node in _point_items(space, point, (), where):
        if path in params:
            values[_name(path)] = value
        elif node is _ABSENT:
            unknown.append(_name(path))
        elif _as_lists(_plain(value)) != _as_lists(_plain(node)):
            warnings.warn(
                f"{where}: {_name(path)!r} is {value!r}, but the search space has the constant {node!r} there:"
                f" trials get {node!r} (change the space to try another value)",
                UserWarning,
                stacklevel=4,
            )
    if unknown:
        names = list(params.values())
        raise SpaceError(f"{where} has {unknown}, which are not parameters of the space: parameters are {names}")
    return values


def points_within(points: list[Any], num_samples: int) -> list[Any]:
    """The ``points_to_evaluate`` that ``num_samples`` leaves room for (each point is one sample; -1 = all).

    The points beyond are not run: a warning says how many and how to run them (raise ``num_samples``).
    """
    if num_samples == -1 or len(points) <= num_samples:
        return points
    warnings.warn(
        f"points_to_evaluate has {len(points)} points but num_samples is {num_samples}: only the first"
        f" {num_samples} run (each point is one sample); raise TuneConfig(num_samples=...) to run them all",
        UserWarning,
        stacklevel=3,
    )
    return points[:num_samples]


_ABSENT = object()  # a point's key the space does not have


def _point_items(space_node: Any, point: Mapping[Any, Any], path: KeyPath, where: str) -> Iterator[tuple]:
    """``(path, value, space_node)`` for each leaf of ``point``, matched against the space (_ABSENT: no match)."""
    for key, value in point.items():
        node, full = space_node, path
        for part in key.split("/") if isinstance(key, str) else (key,):
            index = _key(node, part) if isinstance(node, list) and str(part).isdigit() else part
            full = (*full, index)
            if isinstance(node, dict) and index in node:
                node = node[index]
            elif isinstance(node, list) and isinstance(index, int) and 0 <= index < len(node):
                node = node[index]
            else:
                node = _ABSENT
                break
        if node is _ABSENT or isinstance(node, Domain) or not any(True for _ in _domains(node, full)):
            yield full, value, node
        elif isinstance(value, Mapping) and isinstance(node, dict):
            yield from _point_items(node, value, full, where)
        elif isinstance(value, list) and isinstance(node, list):
            yield from _point_items(node, dict(enumerate(value)), full, where)
        else:
            raise SpaceError(
                f"{where}: {_name(full)!r} holds parameters of the space, got {value!r}: give a"
                f" {'table' if isinstance(node, dict) else 'list'} of their values (or use 'a/b' names)"
            )


def _as_lists(value: Any) -> Any:
    """``value`` with tuples as lists, to compare a constant with its JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


def unflatten(values: Mapping[str, Any], space: dict[str, Any], rng: np.random.Generator | None = None) -> dict:
    """Rebuild the full nested config of ``space`` (constants included) from ``{name: value}``.

    Every parameter needs a value except ``sample_from`` ones, which are computed from the others (drawing
    from ``rng`` if given). Names of constants are accepted and ignored; other unknown names are errors.
    """
    params = walk_space(space)
    constants = set(flatten(space)) - {p.name for p in params}
    fixed = _fixed(params, {k: v for k, v in values.items() if k not in constants})
    missing = [p.name for p in params if p.kind != "function" and p.path not in fixed]
    if missing:
        raise SpaceError(f"unflatten has no value for {missing}: give a value for every parameter by name")
    if rng is None:
        import numpy as np

        rng = np.random.default_rng()
    return _resolve(space, rng, fixed)


# -------------------------------------------------------------------------------------------- resolution


class _Unresolved(Exception):
    """A sample_from function read a value that is not resolved yet."""

    def __init__(self, path: KeyPath) -> None:
        super().__init__(_name(path))
        self.path = path


_PENDING = object()  # placeholder for a sample_from value still to compute


def _guard(value: Any, path: KeyPath) -> Any:
    if value is _PENDING:
        raise _Unresolved(path)
    if isinstance(value, dict):
        return _ConfigView(value, path)
    if isinstance(value, list):
        return _ListView(value, path)
    return value


class _ConfigView(Mapping[str, Any]):
    """Read-only view of a config being resolved; reading an unresolved value defers the reader."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: dict[str, Any], path: KeyPath) -> None:
        self._data, self._path = data, path

    def __getitem__(self, key: str) -> Any:
        return _guard(self._data[key], (*self._path, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r} at {_name(self._path) or 'the top'}") from None

    def __repr__(self) -> str:
        return f"ConfigView({self._data!r})"


class _ListView(Sequence[Any]):
    """Read-only view of a list in a config being resolved."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: list[Any], path: KeyPath) -> None:
        self._data, self._path = data, path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self._data))[index]]
        return _guard(self._data[index], (*self._path, index % len(self._data) if index < 0 else index))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"ListView({self._data!r})"


def _plain(value: Any) -> Any:
    """Views and numpy scalars as plain Python values (dicts and lists rebuilt)."""
    if isinstance(value, (dict, _ConfigView)):
        return {key: _plain(child) for key, child in value.items()}
    if isinstance(value, (list, _ListView)):
        return [_plain(child) for child in value]
    return _python(value)


def _fixed(params: list[Parameter], values: Mapping[Any, Any]) -> dict[KeyPath, Any]:
    """``values`` keyed by parameter path, accepting names (``"a/b"``) or paths as keys."""
    paths = {p.name: p.path for p in params} | {p.path: p.path for p in params}
    fixed = {}
    for key, value in values.items():
        path = paths.get(tuple(key) if isinstance(key, list) else key)
        if path is None:
            names = [p.name for p in params]
            raise SpaceError(f"{key!r} is not a parameter of this space: parameters are {names}")
        fixed[path] = value
    return fixed


def _resolve(space: dict[str, Any], rng: np.random.Generator, fixed: Mapping[KeyPath, Any]) -> dict[str, Any]:
    """One config: ``fixed`` values where given, sampled domains elsewhere, then sample_from functions."""
    pending: list[tuple[KeyPath, Function]] = []

    def build(obj: Any, path: KeyPath) -> Any:
        if isinstance(obj, dict):
            return {key: build(value, (*path, key)) for key, value in obj.items()}
        if isinstance(obj, list):
            return [build(value, (*path, index)) for index, value in enumerate(obj)]
        if not isinstance(obj, Domain):
            return copy.deepcopy(obj)
        if path in fixed:
            return _plain(copy.deepcopy(fixed[path]))
        if isinstance(obj, Function):
            pending.append((path, obj))
            return _PENDING
        return obj.sample(rng)

    config = build(space, ())
    _run_functions(config, pending, rng)
    return config


def _run_functions(config: dict[str, Any], pending: list[tuple[KeyPath, Function]], rng: np.random.Generator) -> None:
    """Resolve sample_from values in passes, deferring those that read values still unresolved."""
    view = _ConfigView(config, ())
    while pending:
        waiting: list[tuple[KeyPath, Function, KeyPath]] = []
        for path, function in pending:
            try:
                value = _call(function, view, rng, path)
            except _Unresolved as exc:
                waiting.append((path, function, exc.path))
                continue
            set_path(config, path, value)
        if len(waiting) == len(pending):
            names = [repr(_name(path)) for path, _, _ in waiting]
            between = f"between {', '.join(names[:-1])} and {names[-1]}"
            where = f"in {names[0]}" if len(names) == 1 else between
            reads = ", ".join(f"{_name(path)!r} reads {_name(read)!r}" for path, _, read in waiting)
            raise SpaceError(
                f"circular sample_from dependency {where} ({reads}): "
                "make at least one of them depend only on values that are not sample_from"
            )
        pending = [(path, function) for path, function, _ in waiting]


def _call(function: Function, view: _ConfigView, rng: np.random.Generator, path: KeyPath) -> Any:
    """``function``'s value as plain data; its errors (but :class:`_Unresolved`) as a SpaceError naming ``path``."""
    try:
        return _plain(function.sample(rng, Spec(config=view, rng=rng, path=path)))
    except _Unresolved:
        raise
    except Exception as exc:
        raise SpaceError(
            f"{_name(path)!r}: the sample_from function raised {type(exc).__name__}: {exc} "
            "(fix the function; the original error is chained)"
        ) from exc


def call_sample_from(
    function: Function, config: dict[str, Any], rng: np.random.Generator, path: KeyPath | str = ()
) -> Any:
    """The value of a ``sample_from`` domain for an already resolved ``config`` (its ``spec.config``, read-only).

    For components that recompute one value of an existing config (PBT's explore step). ``path`` is where the
    value goes (``spec.path``); an error of the function is a SpaceError naming it, with the error chained.
    """
    return _call(function, _ConfigView(config, ()), rng, _parts(path))


def grid_points(space: dict[str, Any]) -> list[dict[KeyPath, Any]]:
    """Every assignment of the grid_search parameters, ``{path: value}``, as a cartesian product.

    The FIRST grid (in walk order) varies SLOWEST, like nested for-loops; no grid gives ``[{}]``.
    """
    grids = [p for p in walk_space(space) if isinstance(p.domain, Grid)]
    values = [p.domain.values for p in grids]  # type: ignore[attr-defined]
    return [dict(zip([p.path for p in grids], combo, strict=True)) for combo in itertools.product(*values)]


def sample_config(
    space: dict[str, Any], rng: np.random.Generator, grid_point: Mapping[Any, Any] | None = None
) -> dict[str, Any]:
    """Sample one resolved config with ``rng``, the grid_search parameters taken from ``grid_point``.

    ``grid_point`` maps paths (or ``"a/b"`` names) to values, usually one item of :func:`grid_points`; it
    may also fix other parameters. It is required when the space has grids.
    """
    params = walk_space(space)
    fixed = _fixed(params, grid_point or {})
    missing = [p.name for p in params if p.kind == "grid" and p.path not in fixed]
    if missing:
        raise SpaceError(
            f"grid_search parameters {missing} have no value: pass grid_point, an item of grid_points(space)"
        )
    return _resolve(space, rng, fixed)


def generate_variants(space: dict[str, Any], num_samples: int = 1, seed: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield resolved configs: every grid point (see :func:`grid_points`), the grid ``num_samples`` times.

    Non-grid domains are sampled afresh for each config; ``num_samples=-1`` never ends. The same ``seed``
    gives the same configs in any process; ``seed=None`` draws from OS entropy.
    """
    import numpy as np

    if (
        isinstance(num_samples, bool)
        or not isinstance(num_samples, numbers.Integral)
        or (num_samples < 1 and num_samples != -1)
    ):
        raise SpaceError(f"num_samples must be a positive integer or -1 (endless), got {num_samples!r}")
    points = grid_points(space)
    rng = np.random.default_rng(seed)
    rounds = itertools.count() if num_samples == -1 else range(int(num_samples))
    return (_resolve(space, rng, point) for _ in rounds for point in points)


# --------------------------------------------------------------------------------------------- data form

_DATA_KEYS = frozenset(_CONSTRUCTORS) | {"const"}
_ARG_NAMES = {"choice": "categories", "grid_search": "values"}


def _is_domain_like(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) == 1 and next(iter(obj)) in _DATA_KEYS


MISSPELT_DOMAIN_SIMILARITY = 0.8
"""How close (difflib ratio) a one-key table's key must be to a domain's name to be taken for a typo:
``unifrom`` (0.86) and ``choise`` (0.83) are; real tables such as ``{ cosine = [...] }`` (0.67 to
``choice``) or ``{ random = [...] }`` (0.73 to ``randn``) are not."""


def _misspelt_domain(obj: Any) -> str:
    """``" Did you mean 'uniform'?"`` for a one-key table of arguments whose key is close to a domain's name."""
    if not (isinstance(obj, Mapping) and len(obj) == 1) or _is_domain_like(obj):
        return ""
    ((key, args),) = obj.items()
    if not isinstance(key, str) or not isinstance(args, (list, Mapping)):
        return ""
    return did_you_mean(key, _DATA_KEYS, cutoff=MISSPELT_DOMAIN_SIMILARITY)


def space_to_data(space: dict[str, Any]) -> dict[str, Any]:
    """The space as plain JSON/TOML-friendly data: each domain becomes ``{constructor: [args]}``."""
    _check_space(space)
    return {key: _to_data(value, (key,)) for key, value in space.items()}


def _to_data(obj: Any, path: KeyPath) -> Any:
    if isinstance(obj, Domain):
        return _domain_to_data(obj, path)
    if _is_domain_like(obj) or _misspelt_domain(obj):
        if any(True for _ in _domains(obj, path)):
            raise SpaceError(
                f"{_name(path)!r}: a table whose only key is {next(iter(obj))!r} reads back as a domain: "
                "rename the key or add another"
            )
        return {"const": _plain(copy.deepcopy(obj))}
    if isinstance(obj, dict):
        return {key: _to_data(value, (*path, key)) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_to_data(value, (*path, index)) for index, value in enumerate(obj)]
    return _plain(copy.deepcopy(obj))


def _domain_to_data(domain: Domain, path: KeyPath) -> dict[str, Any]:
    if isinstance(domain, Float):
        if domain.sampler == "normal":
            if domain.q is None:
                return {"randn": [domain.mean, domain.sd]}
            return {"qrandn": [domain.mean, domain.sd, domain.q]}
        name = ("q" if domain.q else "") + ("loguniform" if domain.log else "uniform")
        args = [domain.low, domain.high, *([domain.q] if domain.q else [])]
    elif isinstance(domain, Integer):
        name = ("q" if domain.q else "") + ("lograndint" if domain.log else "randint")
        high = domain.high if domain.q else domain.high + 1  # randint/lograndint write the exclusive bound
        args = [domain.low, high, *([domain.q] if domain.q and (domain.log or domain.q != 1) else [])]
    elif isinstance(domain, Categorical):
        return {"choice": _plain(copy.deepcopy(list(domain.categories)))}
    elif isinstance(domain, Grid):
        return {"grid_search": _plain(copy.deepcopy(list(domain.values)))}
    elif isinstance(domain, Function):
        return {"sample_from": {"cloudpickle": _pickle(domain.func, path)}}
    else:
        raise SpaceError(f"{_name(path)!r}: {type(domain).__name__} has no data form: use built-in domains")
    if domain.log and domain.base != 10:
        args.append(domain.base)
    return {name: args}


def _pickle(func: Callable[..., Any], path: KeyPath) -> str:
    import cloudpickle

    try:
        return base64.b64encode(cloudpickle.dumps(func)).decode("ascii")
    except Exception as exc:
        raise SpaceError(
            f"{_name(path)!r}: cannot pickle the sample_from function ({type(exc).__name__}: {exc}): "
            "make it a plain function without locks, files or sockets in its closure"
        ) from exc


def space_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The space described by plain data (from ``space_to_data``, TOML or JSON); validates every domain."""
    if not isinstance(data, Mapping):
        raise SpaceError(f"space data must be a table (dict) of parameters, got {type(data).__name__}")
    return {key: _from_data(value, (key,)) for key, value in data.items()}


def _from_data(obj: Any, path: KeyPath) -> Any:
    if _is_domain_like(obj):
        ((name, args),) = obj.items()
        return copy.deepcopy(args) if name == "const" else _domain_from_data(name, args, path)
    if isinstance(obj, Mapping):
        suggestion = _misspelt_domain(obj)
        if suggestion:
            (key,) = obj
            raise SpaceError(
                f"{_name(path)!r}: {key!r} is not a domain.{suggestion} (A table whose only key is {key!r} is"
                f" taken for a misspelt domain: for a constant table, write {{ const = {{ {key} = ... }} }}.)"
            )
        return {key: _from_data(value, (*path, key)) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_from_data(value, (*path, index)) for index, value in enumerate(obj)]
    return copy.deepcopy(obj)


def _forms(name: str) -> str:
    """The accepted argument lists of a constructor, e.g. ``[low, high] or [low, high, base]``."""
    if name in ("choice", "grid_search"):
        return f"a list of values (or a table {{{_ARG_NAMES[name]} = [...]}})"
    params = list(inspect.signature(_CONSTRUCTORS[name]).parameters.values())
    required = sum(p.default is inspect.Parameter.empty for p in params)
    forms = [f"[{', '.join(p.name for p in params[:n])}]" for n in range(required, len(params) + 1)]
    return " or ".join(forms) + " (or a table with those keys)"


def _domain_from_data(name: str, args: Any, path: KeyPath) -> Domain:
    where = _name(path)
    if name == "sample_from":
        return _function_from_data(args, where)
    constructor = _CONSTRUCTORS[name]
    if name in ("choice", "grid_search") and isinstance(args, list):
        args = [args]
    try:
        signature = inspect.signature(constructor)
        if isinstance(args, list):
            bound = signature.bind(*args)
        elif isinstance(args, Mapping):
            bound = signature.bind(**args)
        else:
            raise TypeError(name)
    except TypeError:
        raise SpaceError(f"{where!r}: {name} takes {_forms(name)}, got {args!r}") from None
    try:
        return constructor(*bound.args, **bound.kwargs)
    except SpaceError as exc:
        raise SpaceError(f"{where!r}: {exc}") from None


def _function_from_data(args: Any, where: str) -> Function:
    if not (isinstance(args, Mapping) and list(args) == ["cloudpickle"] and isinstance(args["cloudpickle"], str)):
        raise SpaceError(
            f'{where!r}: sample_from takes {{"cloudpickle": "<base64 of cloudpickle.dumps(func)>"}}, got {args!r}'
        )
    import cloudpickle

    try:
        func = cloudpickle.loads(base64.b64decode(args["cloudpickle"], validate=True))
    except Exception as exc:
        raise SpaceError(
            f"{where!r}: cannot load the sample_from function ({type(exc).__name__}: {exc}): "
            "write it with space_to_data under the same Python and cloudpickle versions"
        ) from exc
    try:
        return sample_from(func)
    except SpaceError as exc:
        raise SpaceError(f"{where!r}: {exc}") from None
