"""Compact text for people: numbers with 4 significant digits, configs on one line, durations."""

from __future__ import annotations

import numbers
from typing import Any, overload


def flatten_dict(result: dict[str, Any], sep: str = "/") -> dict[str, Any]:
    """Nested dicts flattened to ``"outer/inner"`` keys (lists and other values are leaves)."""
    flat: dict[str, Any] = {}

    def visit(prefix: str, node: dict[Any, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                visit(name + sep, value)
            else:
                flat[name] = value

    visit("", result)
    return flat


def result_field(result: dict[str, Any] | None, key: str, default: Any = None) -> Any:
    """``result[key]``, else the nested value a key written ``"outer/inner"`` names (the key of that value in
    :func:`flatten_dict`), else ``default``."""
    if not result:
        return default
    if key in result:
        return result[key]
    node: Any = result
    for part in key.split("/"):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


@overload
def component_result(result: dict[str, Any]) -> dict[str, Any]: ...
@overload
def component_result(result: None) -> None: ...
@overload
def component_result(result: dict[str, Any] | None) -> dict[str, Any] | None: ...
def component_result(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A result as the components (searchers, schedulers, stoppers) see it: every nested value also under its
    ``"outer/inner"`` key (as :func:`flatten_dict` names it), so that a metric named ``"train/loss"`` is found,
    as in Ray Tune. The result itself (no copy) when nothing in it is nested; its own keys win over flat ones."""
    if result:
        for value in result.values():
            if isinstance(value, dict):
                return {**flatten_dict(result), **result}
    return result


def missing_metrics(seen: dict[str, Any], metrics: list[str]) -> list[str]:
    """The ``metrics`` a result (as :func:`component_result` gives it) lacks. Such a result is never shown to
    the components, live or on a resume's replay: the trial ends with an error instead."""
    return [metric for metric in metrics if metric not in seen]


def format_value(value: Any, width: int = 24) -> str:
    """A short text for a value: floats with 4 significant digits, long texts cut with ``…``."""
    if isinstance(value, bool) or value is None:
        text = str(value)
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        text = f"{float(value):.4g}"
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_config(config: dict[str, Any], width: int = 100) -> str:
    """``lr=0.0031 layers=2``: the flattened config, cut with ``…`` beyond ``width`` characters."""
    text = " ".join(f"{key}={format_value(value)}" for key, value in flatten_dict(config).items())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_duration(seconds: float) -> str:
    """``12.3s`` below a minute, else ``m:ss`` or ``h:mm:ss``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
