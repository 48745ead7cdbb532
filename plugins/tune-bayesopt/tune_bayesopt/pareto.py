"""The Pareto front of a multi-objective experiment (tunecore's ResultGrid only knows single metrics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunecore.best import observation, score
from tunecore.errors import TuneError
from tunecore.pareto import non_dominated


def pareto_front(grid: Any, metrics: Sequence[str] | None = None, modes: Sequence[str] | None = None) -> list[Any]:
    """The results of ``grid`` (a ``tunecore.ResultGrid``) that no other result dominates, in grid order.

    Each result is scored by its last reported values of ``metrics`` (default: the experiment's list of
    metrics) with ``modes`` (``"min"``/``"max"`` each); results without finite values for every metric are
    left out (:func:`tunecore.best.observation`, the rule the searchers learn by). A result dominates
    another when it is at least as good for every metric and better for one (:mod:`tunecore.pareto`).
    """
    metrics = list(metrics if metrics is not None else _as_list(grid.metric))
    modes = list(modes if modes is not None else _as_list(grid.mode))
    if not metrics or len(metrics) != len(modes) or any(mode not in ("min", "max") for mode in modes):
        raise TuneError(
            f"pareto_front needs metrics and one mode ('min' or 'max') per metric, got {metrics!r} and {modes!r}:"
            " pass them, or run the experiment with lists for TuneConfig.metric and mode"
        )
    scored = [(result, values) for result in grid if (values := observation(result.metrics, metrics)) is not None]
    front = non_dominated([[score(v, mode) for v, mode in zip(values, modes, strict=True)] for _, values in scored])
    return [scored[index][0] for index in front]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
