"""What was searched and what each trial scored: the table behind parameter importance and the plots.

A trial's value is its score by :mod:`tunecore.best`'s rule, the one :meth:`ResultGrid.get_best_result`
uses: by default its **last** result (``scope="last"``); trials without a finite value are left out.
The parameters are those of the experiment's stored search space (``experiment.json``: their kind, bounds
and log scale), plus any other config key that varies between trials (``sample_from`` values, a space that
could not be read back): a key whose values are all numbers is numeric there, any other is categorical.
Nested keys are flattened to ``"a/b"`` names, as in :func:`tunecore.space.flatten`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from tunecore.best import real_number
from tunecore.errors import TuneError
from tunecore.space import Categorical, Float, Grid, Integer, flatten, get_path, space_from_data, walk_space
from tunecore.storage import read_experiment

if TYPE_CHECKING:
    from tunecore.results import Result, ResultGrid

MISSING = None
"""The value of a parameter a trial's config does not have (a conditional key)."""


@attrs.frozen
class Param:
    """One searched parameter: ``"float"`` or ``"int"`` (with bounds, maybe a log scale) or ``"categorical"``."""

    name: str
    """Its flattened name, e.g. ``"optimizer/lr"``."""
    kind: str
    """``"float"``, ``"int"`` or ``"categorical"`` (choice, grid_search, non-numeric values)."""
    low: float = 0.0
    """Smallest value (numeric kinds): the domain's bound, or a smaller value a trial had."""
    high: float = 1.0
    """Largest value (numeric kinds), inclusive."""
    log: bool = False
    """Whether the domain is log-uniform (its values are compared in log space)."""
    categories: tuple[Any, ...] = ()
    """The categories in order (the domain's, then others seen in configs); empty for numeric kinds."""

    @property
    def numeric(self) -> bool:
        """True for ``"float"`` and ``"int"``."""
        return self.kind != "categorical"

    def index(self, value: Any) -> int:
        """The position of a categorical ``value`` in :attr:`categories`."""
        key = _key(value)
        return next(i for i, category in enumerate(self.categories) if _key(category) == key)

    def unit(self, value: Any) -> float:
        """``value`` on a 0-1 scale over the parameter's range, where the domain draws uniformly.

        Floats (and log ints): linear (or log) position between low and high. Ints and categories: each value
        owns an equal slice of the range and sits in its middle.
        """
        if not self.numeric:
            return (self.index(value) + 0.5) / len(self.categories)
        if self.kind == "int" and not self.log:
            return (float(value) - self.low + 0.5) / (self.high - self.low + 1)
        low, high, x = self.low, self.high, float(value)
        if self.log:
            low, high, x = math.log(low), math.log(high), math.log(x)
        return 0.5 if high == low else (x - low) / (high - low)

    def units(self, values: Sequence[Any]) -> list[float]:
        """:meth:`unit` of each of ``values`` (a column at once: each category is looked up once)."""
        if self.numeric:
            return [self.unit(value) for value in values]
        slots: dict[str, int] = {}
        for i, category in enumerate(self.categories):
            slots.setdefault(_key(category), i)
        return [(slots[_key(value)] + 0.5) / len(self.categories) for value in values]

    def label(self, value: Any) -> str:
        """A short text for a value (tick labels of categorical axes)."""
        return value if isinstance(value, str) else json.dumps(value, default=repr)


@attrs.frozen
class Observations:
    """The trials with a finite value of the metric: their parameter values and metric values, in trial order."""

    metric: str
    """The metric."""
    mode: str | None
    """``"min"``, ``"max"`` or None when unknown."""
    params: list[Param]
    """The searched parameters."""
    trial_ids: list[str]
    """One per trial kept."""
    values: list[list[Any]]
    """Per trial, its value of each parameter (``None`` where its config lacks it)."""
    scores: list[float]
    """Per trial, its metric value."""

    def column(self, name: str) -> list[Any]:
        """Every trial's value of the parameter ``name``."""
        index = [p.name for p in self.params].index(name)
        return [row[index] for row in self.values]

    def param(self, name: str) -> Param:
        """The parameter called ``name``; TuneError naming the parameters otherwise."""
        for param in self.params:
            if param.name == name:
                return param
        raise TuneError(f"no parameter {name!r}: the experiment's parameters are {[p.name for p in self.params]}")


def resolve_metric(grid: ResultGrid, metric: str | None, mode: str | None) -> tuple[str, str | None]:
    """``metric`` and ``mode``, defaulting to the experiment's single metric; TuneError when there is none."""
    metric = metric or (grid.metric if isinstance(grid.metric, str) else None)
    if not metric:
        several = f" (it has several: {grid.metric})" if isinstance(grid.metric, list | tuple) else ""
        raise TuneError(
            f"pass metric=... (--metric on the command line): the experiment has no single metric to use{several}"
        )
    if mode is None and metric == grid.metric and isinstance(grid.mode, str):
        mode = grid.mode
    if mode not in (None, "min", "max"):
        raise TuneError(f"mode must be 'min' or 'max', got {mode!r}")
    return metric, mode


def trial_score(result: Result, metric: str, mode: str | None, scope: str = "last") -> float | None:
    """The trial's finite value of ``metric`` by :meth:`ResultGrid.get_best_result`'s rule, else None."""
    from tunecore.results import _score

    value = _score(result, metric, mode or "min", scope)
    return value if value is not None and math.isfinite(value) else None


def observations(
    grid: ResultGrid, metric: str | None = None, mode: str | None = None, scope: str = "last"
) -> Observations:
    """The :class:`Observations` of ``grid`` for ``metric`` (default: the experiment's)."""
    from tunecore.results import SCOPES

    if scope not in SCOPES:
        raise TuneError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    metric, mode = resolve_metric(grid, metric, mode)
    kept = [(r, s) for r in grid if (s := trial_score(r, metric, mode, scope)) is not None]
    configs = [r.config for r, _ in kept]
    params = searched_params(grid.experiment_path, configs)
    values = [[_value(config, p.name) for p in params] for config in configs]
    return Observations(metric, mode, params, [r.trial_id for r, _ in kept], values, [s for _, s in kept])


def searched_params(experiment_path: str, configs: Sequence[dict[str, Any]]) -> list[Param]:
    """The parameters of the experiment at ``experiment_path``, described from its space and ``configs``."""
    params = []
    for parameter in _stored_space(experiment_path):
        name, domain = parameter.name, parameter.domain  # the name is built on each read
        values = [_value(config, name) for config in configs]
        if isinstance(domain, Float | Integer) and _all_numbers(values):
            params.append(_numeric(name, values, domain.bounds, domain.log, domain.kind))
        elif isinstance(domain, Float | Integer | Categorical | Grid):
            categories = domain.categories if isinstance(domain, Categorical) else getattr(domain, "values", ())
            params.append(Param(name, "categorical", categories=_categories(categories, values)))
    known = [p.name for p in params]
    flat = [flatten(config) for config in configs]
    names = dict.fromkeys(name for config in flat for name in config)
    for name in names:
        if any(name == k or name.startswith(k + "/") for k in known):
            continue
        values = [config.get(name) for config in flat]
        if len({_key(v) for v in values}) < 2:
            continue  # a constant of the space
        if _all_numbers(values):
            kind = "int" if all(isinstance(v, int) for v in values) else "float"
            params.append(_numeric(name, values, None, False, kind))
        else:
            params.append(Param(name, "categorical", categories=_categories((), values)))
    return params


def _stored_space(experiment_path: str) -> list[Any]:
    try:
        data = read_experiment(experiment_path).get("param_space", {})
        return [p for p in walk_space(space_from_data(_without_functions(data))) if p.kind != "function"]
    except (TuneError, ValueError, TypeError):
        return []  # then every parameter is described from the configs


def _without_functions(data: Any) -> Any:
    """The space data with each ``sample_from`` left out (its code is not loaded: its values are in the configs)."""
    if isinstance(data, dict):
        if list(data) == ["sample_from"]:
            return {"const": None}
        return {key: _without_functions(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_without_functions(value) for value in data]
    return data


def _numeric(name: str, values: list[Any], bounds: Any, log: bool, kind: str) -> Param:
    numbers = [float(v) for v in values]
    lows, highs = [*numbers], [*numbers]
    if bounds is not None:
        lows.append(float(bounds[0]))
        highs.append(float(bounds[1]))
    low, high = (min(lows), max(highs)) if lows else (0.0, 1.0)
    return Param(name, kind, low=low, high=high, log=log and low > 0)


def _categories(declared: Sequence[Any], values: list[Any]) -> tuple[Any, ...]:
    seen: dict[str, Any] = {}
    for value in [*declared, *values]:
        seen.setdefault(_key(value), value)
    return tuple(seen.values())


def _all_numbers(values: list[Any]) -> bool:
    return all(real_number(v) is not None and math.isfinite(v) for v in values)


def _value(config: dict[str, Any], name: str) -> Any:
    try:
        return get_path(config, name)
    except (KeyError, IndexError, TypeError, ValueError):
        return MISSING


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)
