"""Random search spaces (hypothesis strategies) and an independent check that a config lies in its space."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

import tunecore
from tunecore.space import Categorical, Domain, Float, Function, Integer

FLOAT_STEPS = (0.001, 0.01, 0.1, 0.25, 0.5, 1.0, 2.5)
KEYS = ("a", "b", "lr", "units", "opt", "x1")


def derived(spec: Any) -> int:
    """A sample_from value: how many top-level keys the config has."""
    return len(spec.config)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    """One domain of any constructor but grid_search and sample_from, with valid random arguments."""
    kind = draw(st.sampled_from(["uniform", "quniform", "loguniform", "qloguniform", "randn", "qrandn", "randint",
                                 "qrandint", "lograndint", "qlograndint", "choice"]))  # fmt: skip
    low = draw(st.floats(-100, 100))
    positive = draw(st.floats(1e-6, 100))
    q = draw(st.sampled_from(FLOAT_STEPS))
    steps = draw(st.integers(1, 60))
    if kind == "uniform":
        return tunecore.uniform(low, low + draw(st.floats(1e-3, 100)))
    if kind == "quniform":
        return tunecore.quniform(low, low + steps * q, q)
    if kind == "loguniform":
        return tunecore.loguniform(positive, positive * draw(st.floats(1.01, 1e6)))
    if kind == "qloguniform":
        return tunecore.qloguniform(positive + q, positive + q + steps * q, q)
    if kind in ("randn", "qrandn"):
        mean, sd = draw(st.floats(-10, 10)), draw(st.floats(1e-3, 10))
        return tunecore.randn(mean, sd) if kind == "randn" else tunecore.qrandn(mean, sd, q)
    int_low, int_q = draw(st.integers(-50, 50)), draw(st.integers(1, 16))
    if kind == "randint":
        return tunecore.randint(int_low, int_low + steps)
    if kind == "qrandint":
        return tunecore.qrandint(int_low, int_low + steps * int_q, int_q)
    if kind == "lograndint":
        return tunecore.lograndint(abs(int_low) + 1, abs(int_low) + 1 + steps)
    if kind == "qlograndint":
        return tunecore.qlograndint(abs(int_low) + 1, abs(int_low) + 1 + steps * int_q, int_q)
    constants = st.one_of(
        st.integers(-5, 5),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
        st.lists(st.integers(0, 3), max_size=2),
        st.dictionaries(st.sampled_from("pq"), st.integers()),
    )
    return tunecore.choice(draw(st.lists(constants, min_size=1, max_size=6)))


def spaces() -> st.SearchStrategy[dict[str, Any]]:
    """Spaces of 1 to 5 top-level entries: domains, constants, nested dicts and lists, maybe a sample_from."""
    leaf = st.one_of(domains(), domains(), st.integers(), st.text(max_size=3))
    node = st.one_of(
        leaf,
        st.dictionaries(st.sampled_from(KEYS), leaf, min_size=1, max_size=3),
        st.lists(leaf, min_size=1, max_size=3),
    )
    return st.builds(
        lambda space, with_function: {**space, "derived": tunecore.sample_from(derived)} if with_function else space,
        st.dictionaries(st.sampled_from(KEYS), node, min_size=1, max_size=5),
        st.booleans(),
    )


def in_domain(domain: Domain, value: Any, strict: bool = False) -> bool:
    """Whether ``value`` is one the domain can produce (``strict``: plain floats stay below ``high``)."""
    if isinstance(domain, Categorical):
        return any(type(c) is type(value) and c == value for c in domain.categories)
    if isinstance(domain, Integer):
        low, high = domain.bounds
        return type(value) is int and low <= value <= high and value % (domain.q or 1) == 0
    if isinstance(domain, Float):
        if type(value) is not float or not math.isfinite(value):
            return False
        if domain.q is not None and not math.isclose(value / domain.q, round(value / domain.q), abs_tol=1e-9):
            return False
        if domain.sampler == "normal":
            return True
        low, high = domain.bounds  # type: ignore[misc]
        return low <= value < high if strict and domain.q is None else low <= value <= high
    raise AssertionError(f"unexpected domain {domain!r}")


def check_config(space: Any, config: Any, path: str = "") -> None:
    """Assert that ``config`` has the shape and constants of ``space`` and every value inside its domain."""
    if isinstance(space, Function):
        return  # computed from the other values: the callers check it
    if isinstance(space, Domain):
        assert in_domain(space, config), f"{path}: {config!r} is outside {space!r}"
    elif isinstance(space, dict):
        assert isinstance(config, dict) and list(config) == list(space), f"{path}: keys {list(config)}"
        for key, child in space.items():
            check_config(child, config[key], f"{path}/{key}")
    elif isinstance(space, list):
        assert isinstance(config, list) and len(config) == len(space), f"{path}: {config!r}"
        for index, child in enumerate(space):
            check_config(child, config[index], f"{path}/{index}")
    else:
        assert config == space, f"{path}: constant {space!r} became {config!r}"
