"""A space with every domain kind, and the check that a config was drawn from a space (the searcher suite's)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tunecore import space as sp

__all__ = ["DOMAINS", "DOMAIN_NAMES", "all_domains_space", "check_within_space", "point_of"]


def _twice_a(spec: sp.Spec) -> float:
    """The ``sample_from`` of :func:`all_domains_space`: twice ``nested.a``."""
    return float(spec.config["nested"]["a"]) * 2


DOMAINS: dict[str, Callable[[], sp.Domain]] = {
    "uniform": lambda: sp.uniform(-1.0, 1.0),
    "quniform": lambda: sp.quniform(0.0, 10.0, 0.5),
    "loguniform": lambda: sp.loguniform(1e-4, 1e-1),
    "qloguniform": lambda: sp.qloguniform(1.0, 100.0, 0.5),
    "randn": lambda: sp.randn(0.0, 1.0),
    "qrandn": lambda: sp.qrandn(0.0, 1.0, 0.25),
    "randint": lambda: sp.randint(0, 10),
    "qrandint": lambda: sp.qrandint(0, 20, 5),
    "lograndint": lambda: sp.lograndint(1, 100),
    "qlograndint": lambda: sp.qlograndint(2, 64, 2),
    "choice": lambda: sp.choice(["a", "b", {"c": 1}, None]),
    "grid_search": lambda: sp.grid_search([1, 2]),
    "sample_from": lambda: sp.sample_from(_twice_a),
}
"""A maker of one domain per constructor of :mod:`tunecore.space`, by the constructor's name."""
DOMAIN_NAMES: tuple[str, ...] = tuple(DOMAINS)
"""Every domain constructor of :mod:`tunecore.space`, by the name :attr:`SearcherConformance.unsupported_domains`
uses."""


def all_domains_space(leave_out: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A space with one parameter per domain constructor (named after it), nested dicts and constants.

    ``nested.a`` (uniform) and ``nested.b.c`` (choice) are always there; ``sample_from`` is twice ``nested.a``.
    ``leave_out`` names domains to leave out.
    """
    skip = set(leave_out or ())
    space: dict[str, Any] = {name: make() for name, make in DOMAINS.items() if name not in skip}
    space["nested"] = {"a": sp.uniform(0.0, 1.0), "b": {"c": sp.choice([1, 2, 3])}, "constant": 5}
    space["constant"] = "kept"
    if "sample_from" in space:  # computed last: after the values it reads
        space["sample_from"] = space.pop("sample_from")
    return space


def _multiple(value: float, q: float) -> bool:
    return math.isclose(value / q, round(value / q), abs_tol=1e-6)


def _within(domain: sp.Domain, value: Any, config: dict[str, Any]) -> str | None:
    """Why ``value`` cannot come from ``domain`` (None when it can)."""
    if isinstance(domain, sp.Float):
        if type(value) is not float:
            return f"a {type(value).__name__}, not a Python float"
        if not math.isfinite(value):
            return "not a finite number"
        if domain.bounds is not None:
            low, high = domain.bounds
            slack = 1e-9 * max(1.0, abs(low), abs(high))
            if not low - slack <= value <= high + slack:
                return f"outside [{low}, {high}]"
        if domain.q is not None and not _multiple(value, domain.q):
            return f"not a multiple of {domain.q}"
        return None
    if isinstance(domain, sp.Integer):
        if type(value) is not int:
            return f"a {type(value).__name__}, not a Python int"
        low, high = domain.bounds
        if not low <= value <= high:
            return f"outside [{low}, {high}] (both inclusive)"
        if domain.q is not None and value % domain.q:
            return f"not a multiple of {domain.q}"
        return None
    if isinstance(domain, (sp.Categorical, sp.Grid)):
        values = domain.categories if isinstance(domain, sp.Categorical) else domain.values
        return None if any(value == v and type(value) is type(v) for v in values) else f"not one of {values!r}"
    if isinstance(domain, sp.Function):
        expected = _twice_a(sp.Spec(config=config, rng=None)) if domain.func is _twice_a else None  # type: ignore[arg-type]
        if expected is None:
            return None
        if type(value) is not float or not math.isclose(value, expected):
            return f"not {expected}, twice nested/a (sample_from)"
        return None
    return None


def check_within_space(space: dict[str, Any], config: Any) -> None:
    """Assert that ``config`` is a resolved config of ``space``: every domain's value inside it, constants kept."""
    assert isinstance(config, dict), f"a proposal must be a dict, got {config!r}"

    def constants(node: Any, got: Any, path: str) -> None:
        if isinstance(node, sp.Domain):
            return
        if isinstance(node, dict):
            assert isinstance(got, dict), f"{path or 'the config'} must be a dict, got {got!r}"
            assert set(got) == set(node), f"{path or 'the config'} has keys {sorted(got)}, the space {sorted(node)}"
            for key, value in node.items():
                constants(value, got[key], f"{path}/{key}" if path else str(key))
        else:
            assert got == node, f"the constant {path} is {got!r}, the space says {node!r}"

    constants(space, config, "")
    for param in sp.walk_space(space):
        value = sp.get_path(config, param.path)
        why = _within(param.domain, value, config)
        assert why is None, f"{param.name} = {value!r} is {why}: {param.domain!r}"


def point_of(params: list[sp.Parameter], config: dict[str, Any]) -> dict[str, Any]:
    """The values of ``params`` in ``config``, nested as in the config (a complete point, constants left out)."""
    point: dict[Any, Any] = {}
    for param in params:
        node = point
        for key in param.path[:-1]:
            node = node.setdefault(key, {})
        node[param.path[-1]] = sp.get_path(config, param.path)
    return point
