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


_CYCLIC = ("OneCycleLR", "CyclicLR")
"""Schedulers whose learning rates come from their own ``max_lr``/``base_lr``: a new ``lr`` is refused."""


def _schedulers(scheduler: Any) -> list[Any]:
    """The scheduler and, for ``SequentialLR``/``ChainedScheduler``, every scheduler inside it."""
    found = [scheduler]
    for inner in getattr(scheduler, "_schedulers", None) or ():
        found.extend(_schedulers(inner))
    return found


def _number(value: Any) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


def _set(group: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(group.get(key), torch.Tensor):  # e.g. lr given as a tensor (capturable optimizers)
        group[key].fill_(value)
    else:
        group[key] = value


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
    ``{"learning_rate": "lr"}``).

    Without ``scheduler``, each group's ``lr`` (and ``initial_lr``, when a scheduler set one) becomes the new
    rate. With the LR ``scheduler`` driving the optimizer, a new ``lr`` is taken as a new *base* rate: each
    group's current rate is scaled by new base / old base (the group's ``initial_lr``, else the scheduler's
    ``base_lrs``), and the scheduler's ``base_lrs`` (those of every scheduler inside a ``SequentialLR`` or
    ``ChainedScheduler`` too), each group's ``initial_lr`` and the scheduler's last rates are updated, so that
    the schedule goes on as if it had started from the new rate (mid-way through a cosine schedule, the rate
    is the new base's cosine value, not the new base). A scheduler without base rates (``ReduceLROnPlateau``)
    gets the new rate as the current one. ``OneCycleLR`` and ``CyclicLR`` compute the rate from their own
    ``max_lr``/``base_lr``, so a new ``lr`` with them is a ValueError (tune those, or leave ``lr`` out of
    ``keys``). Returns the ``{param-group key: value}`` applied. Raises ValueError for a key the optimizer's
    groups do not have (``momentum`` for Adam) or a value that is not a number (a pair for ``betas``); nothing
    is changed then.
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
    schedulers = _schedulers(scheduler) if scheduler is not None and "lr" in applied else []
    cyclic = [type(inner).__name__ for inner in schedulers if type(inner).__name__ in _CYCLIC]
    if cyclic:
        raise ValueError(
            f"update_optimizer cannot apply a new lr under {cyclic[0]}: {cyclic[0]} sets the rate from its own"
            " max_lr/base_lr (tune those instead, or leave lr out of the keys applied)"
        )
    based = [inner for inner in schedulers if getattr(inner, "base_lrs", None) is not None]
    for index, group in enumerate(optimizer.param_groups):
        for group_key, value in applied.items():
            if group_key != "lr":
                _set(group, group_key, value)
        if "lr" not in applied:
            continue
        new = applied["lr"]
        old = group.get("initial_lr", based[0].base_lrs[index] if based else None)
        if schedulers and old is not None and _number(old) != 0:
            factor = new / _number(old)
            _set(group, "lr", _number(group["lr"]) * factor)
            for inner in based:
                inner.base_lrs[index] = _number(inner.base_lrs[index]) * factor
        else:
            _set(group, "lr", new)
        if "initial_lr" in group:
            _set(group, "initial_lr", new)
    for inner in schedulers:
        if hasattr(inner, "_last_lr"):
            inner._last_lr = [_number(group["lr"]) for group in optimizer.param_groups]
    return applied
