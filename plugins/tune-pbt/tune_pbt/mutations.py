"""PBT's explore step: the hyperparameters to mutate and how each one is perturbed or resampled."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tunecore import ConfigError
from tunecore.options import is_finite_number
from tunecore.space import (
    Categorical,
    Domain,
    Float,
    Function,
    Grid,
    Integer,
    SpaceError,
    call_sample_from,
    get_path,
    set_path,
    space_from_data,
)

Mutation = Domain | list | Callable[[], Any]
"""How one hyperparameter may change: a search-space domain (``sample_from`` too: its ``spec.config`` is the
explored config), a list of values, or a function drawing a value."""
KeyPath = tuple[str, ...]
"""Where a hyperparameter sits in a config: the keys from the top."""


def parse_mutations(
    mutations: Mapping[str, Any] | None, option: str = "hyperparam_mutations"
) -> dict[KeyPath, Mutation]:
    """``{path: mutation}`` from nested dicts and ``"a/b"`` names; domains may be given as data (TOML).

    Raises ValueError naming the key for anything that is not a domain, a non-empty list or a function.
    """
    if mutations is None:
        return {}
    if not isinstance(mutations, Mapping):
        raise ValueError(f"{option} must be a table of hyperparameter names, got {mutations!r}")
    parsed: dict[KeyPath, Any] = {}
    _collect(space_from_data(dict(mutations)), (), parsed, option)
    return parsed


def _collect(node: Mapping[str, Any], prefix: KeyPath, parsed: dict[KeyPath, Any], option: str) -> None:
    for key, value in node.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{option}: keys must be non-empty strings, got {key!r}")
        path = (*prefix, *key.split("/"))
        name = "/".join(path)
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"{option}[{name!r}] is an empty table: give the hyperparameters under it")
            _collect(value, path, parsed, option)
        elif isinstance(value, (Categorical, Grid)):
            parsed[path] = list(value.categories if isinstance(value, Categorical) else value.values)
        elif isinstance(value, Domain):
            parsed[path] = value
        elif isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"{option}[{name!r}] is an empty list: give the values it may take")
            parsed[path] = list(value)
        elif callable(value):
            parsed[path] = value
        else:
            raise ValueError(
                f"{option}[{name!r}] must be a search-space domain (e.g. loguniform(1e-4, 1e-1)), a list of values"
                f" or a function returning a value, got {value!r}"
            )


def check_keys(config: dict[str, Any], paths: list[KeyPath], trial_id: str, option: str) -> None:
    """Raise ValueError when one of ``paths`` is not in ``config`` (the param_space must define each one)."""
    for path in paths:
        try:
            get_path(config, path)
        except (KeyError, IndexError, TypeError):
            raise ValueError(
                f"{option} names {'/'.join(path)!r}, which is not in the config of trial {trial_id}:"
                " give it a value in param_space (the population starts from the configs the searcher suggests)"
            ) from None


def check_functions(config: dict[str, Any], mutations: dict[KeyPath, Any], trial_id: str, option: str) -> None:
    """Raise ConfigError when a ``sample_from`` mutation fails on ``config`` (a trial's), before an exploit needs it.

    The trial run is made with a generator of its own: the scheduler's random stream is not touched.
    """
    rng = np.random.default_rng(0)
    for path, mutation in mutations.items():
        if isinstance(mutation, Function):
            try:
                call_sample_from(mutation, config, rng, path)
            except SpaceError as exc:
                raise ConfigError(
                    f"{option}[{'/'.join(path)!r}] fails on the config of trial {trial_id}: {exc}; its spec.config"
                    " is the explored config (every key of the param_space)"
                ) from exc.__cause__


def explore(
    config: dict[str, Any],
    mutations: dict[KeyPath, Any],
    rng: np.random.Generator,
    resample_probability: float,
    factors: tuple[float, ...],
) -> tuple[dict[str, Any], dict[str, str]]:
    """A perturbed copy of ``config`` and, per ``a/b`` name, what was done.

    Lists move to a neighbouring value (or are resampled, as are values not in the list); domains and
    functions are resampled with ``resample_probability``, else numbers are multiplied by a random factor
    and kept inside the domain's bounds (integers and quantized floats move at least one step). ``sample_from``
    mutations come last: resampled, they are computed from the explored config (``spec.config``, with every
    other mutation applied).
    """
    new = copy.deepcopy(config)
    operations: dict[str, str] = {}
    ordered = sorted(mutations.items(), key=lambda item: isinstance(item[1], Function))  # stable: order kept
    for path, mutation in ordered:
        value, operation = _mutate(get_path(config, path), mutation, rng, resample_probability, factors, new, path)
        set_path(new, path, value)
        operations["/".join(path)] = operation
    return new, {"/".join(path): operations["/".join(path)] for path in mutations}


def _mutate(
    value: Any,
    mutation: Any,
    rng: np.random.Generator,
    probability: float,
    factors: tuple[float, ...],
    explored: dict[str, Any],
    path: KeyPath,
) -> tuple[Any, str]:
    resample = bool(rng.random() < probability)
    if isinstance(mutation, list):
        if resample or value not in mutation:
            return copy.deepcopy(mutation[int(rng.integers(len(mutation)))]), "resample"
        old = mutation.index(value)
        shift = -1 if rng.random() < 0.5 else 1
        index = min(max(old + shift, 0), len(mutation) - 1)
        side = "left" if shift < 0 else "right"
        return copy.deepcopy(mutation[index]), f"shift {side}" + (" (noop)" if index == old else "")
    if resample or not is_finite_number(value):
        return _sample(mutation, rng, explored, path), "resample"
    factor = factors[int(rng.integers(len(factors)))]
    return _scale(value, factor, mutation), f"* {factor:g}"


def _sample(mutation: Any, rng: np.random.Generator, explored: dict[str, Any], path: KeyPath) -> Any:
    if isinstance(mutation, Function):
        return call_sample_from(mutation, explored, rng, path)
    if isinstance(mutation, Domain):
        return mutation.sample(rng)
    return mutation()


def _scale(value: float, factor: float, mutation: Any) -> float | int:
    """``value * factor`` kept inside the domain (an int stays an int, moving one step if rounding undoes it)."""
    if isinstance(mutation, Integer) or (not isinstance(mutation, Float) and isinstance(value, numbers.Integral)):
        step = (mutation.q if isinstance(mutation, Integer) else None) or 1
        new: float = round(value * factor / step) * step
        if new == value and factor != 1:
            new = value + (step if factor > 1 else -step)
        if isinstance(mutation, Integer):
            low, high = mutation.bounds
            new = min(max(new, low), high)
        return int(new)
    new = float(value) * factor
    if isinstance(mutation, Float):
        if mutation.q is not None:
            new = round(new / mutation.q) * mutation.q
            if math.isclose(new, value) and factor != 1:
                new = value + (mutation.q if factor > 1 else -mutation.q)
        bounds = mutation.bounds  # (float, float) | None, unlike Integer's (int, int) above
        if bounds is not None:
            new = min(max(new, bounds[0]), bounds[1])
    return new
