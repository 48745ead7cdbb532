"""Apply a new config's optimizer settings in place, keeping the optimizer's state (PBT's explore)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import torch

OPTIMIZER_KEYS = ("lr", "momentum", "weight_decay", "betas")
"""The config keys :func:`update_optimizer` applies by default, each to the param-group key of the same name."""


def _value(name: str, value: Any) -> Any:
    if name == "betas":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {value!r}")
        return tuple(float(_value("betas[]", beta)) for beta in value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def update_optimizer(
    optimizer: torch.optim.Optimizer,
    config: Mapping[str, Any],
    *,
    keys: Mapping[str, str] | None = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Set ``lr``, ``momentum``, ``weight_decay`` and ``betas`` from ``config`` in every param group, in place.

    Only the keys present in ``config`` are applied; the optimizer's state (momentum buffers, Adam's moments,
    step counts) is kept, so a PBT member that restored a donor's optimizer goes on from it with its new
    hyperparameters. ``keys`` maps config keys to param-group keys instead of :data:`OPTIMIZER_KEYS` (e.g.
    ``{"learning_rate": "lr"}``). With an LR ``scheduler``, a new ``lr`` also becomes its ``base_lrs`` (and each
    group's ``initial_lr``), so that the schedule scales the new rate rather than the old one. Returns the
    ``{param-group key: value}`` applied. Raises ValueError for a key the optimizer's groups do not have
    (``momentum`` for Adam) or a value that is not a number (a pair for ``betas``).
    """
    mapping = dict(keys) if keys is not None else {name: name for name in OPTIMIZER_KEYS}
    applied: dict[str, Any] = {}
    for config_key, group_key in mapping.items():
        if config_key not in config:
            continue
        value = _value(config_key, config[config_key])
        missing = [index for index, group in enumerate(optimizer.param_groups) if group_key not in group]
        if missing:
            raise ValueError(
                f"{type(optimizer).__name__} has no {group_key!r} setting (config key {config_key!r}):"
                f" its param groups have {sorted(optimizer.param_groups[missing[0]])}"
            )
        applied[group_key] = value
    for group in optimizer.param_groups:
        for group_key, value in applied.items():
            if isinstance(group[group_key], torch.Tensor):  # e.g. lr given as a tensor (capturable optimizers)
                group[group_key].fill_(value)
            else:
                group[group_key] = value
        if "lr" in applied and "initial_lr" in group:
            group["initial_lr"] = applied["lr"]
    if scheduler is not None and "lr" in applied and hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = [applied["lr"] for _ in optimizer.param_groups]
    return applied
