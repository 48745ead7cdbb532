"""Value checks for components and their options (public: plugins use them too).

Each ``check_*`` returns the value (converted where it says so) or raises a ValueError naming the option,
the value and what it accepts — the message a user sees when a component rejects its options.

A component's metric and mode are resolved here, once for all: :func:`check_objective` (one metric: every
first-party scheduler, single-objective searcher and metric stopper) and :func:`check_objectives` (one or
several: a multi-objective searcher), on top of :func:`check_single_metric`. Seeds follow
:func:`check_seed`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from tunecore.suggest import did_you_mean

MODES = ("min", "max")
"""The modes: lower is better, or higher."""


def is_finite_number(value: Any) -> bool:
    """True for real numbers that are neither NaN nor infinite (bools are not numbers here)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def finite_float(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number, NaN or infinite."""
    return float(value) if is_finite_number(value) else None


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = True) -> float:
    """``value`` as a float, raising ValueError unless it is a finite number above (or at) ``minimum``."""
    if not is_finite_number(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int (numpy integers too), raising ValueError unless it is an integer in
    ``[minimum, maximum]`` (no upper limit when ``maximum`` is None)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or int(value) < minimum
        or (maximum is not None and int(value) > maximum)
    ):
        if maximum is not None:
            accepted = f"an integer between {minimum} and {maximum}"
        else:
            accepted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any, *, maximum: float = 1.0, exclusive: bool = False) -> float:
    """``value`` as a float, raising ValueError unless it lies in ``[0, maximum]`` (``(0, maximum)`` when
    ``exclusive``)."""
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    inside = 0 < number < maximum if exclusive else 0 <= number <= maximum
    if not inside:
        excluded = " (both excluded)" if exclusive else ""
        raise ValueError(f"{name} must be a number between 0 and {maximum:g}{excluded}, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` unchanged, raising ValueError (with the closest choice) unless it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        hint = did_you_mean(str(value), choices)
        raise ValueError(f"unknown {name} {value!r}: use one of {', '.join(choices)}" + (f".{hint}" if hint else ""))
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` unchanged, raising ValueError unless it is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def check_text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """``value`` unchanged, raising ValueError unless it is a non-empty string (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a result field name (a non-empty string), got {value!r}")
    return value


def check_metric(value: Any, *, hint: str = "") -> str | None:
    """A one-metric component's own ``metric`` option: None or a result field name, else ValueError (``hint``,
    when given, is added to the message for a list: where to go for several metrics)."""
    if isinstance(value, list | tuple):
        raise ValueError(f"metric must be one result field name, got {value!r}{hint}")
    return check_text("metric", value, optional=True)


def check_metrics(value: Any) -> str | list[str] | None:
    """The ``metric`` option of a component that optimises several metrics: None, a result field name or a
    non-empty list of them (a tuple becomes a list), else ValueError."""
    if not isinstance(value, list | tuple):
        return check_text("metric", value, optional=True)
    if not value or not all(isinstance(name, str) and name for name in value):
        raise ValueError(f"metric must be a result field name or a non-empty list of them, got {value!r}")
    return list(value)


def check_mode(value: Any) -> str | None:
    """``value`` unchanged, raising ValueError unless it is None, ``"min"`` or ``"max"``."""
    if not (value is None or (isinstance(value, str) and value in MODES)):
        raise ValueError(f'mode must be "min" or "max", got {value!r}')
    return value


def check_modes(value: Any) -> str | list[str] | None:
    """The ``mode`` option of a component that optimises several metrics: None, ``"min"``, ``"max"`` or a
    non-empty list of them (a tuple becomes a list), else ValueError."""
    if not isinstance(value, list | tuple):
        return check_mode(value)
    if not value or not all(mode in MODES for mode in value):
        raise ValueError(f'mode must be "min", "max" or a list of them, got {value!r}')
    return list(value)


SEED_LIMIT = 2**32
"""Seeds are integers in ``[0, 2**32)``: what numpy's ``RandomState`` takes, and with it Optuna,
scikit-optimize and scikit-learn, so that one seed is valid for every component."""


def check_seed(value: Any) -> int | None:
    """``value`` as an int (numpy integers too), raising ValueError unless it is None or an integer in
    ``[0, 2**32)`` (:data:`SEED_LIMIT`): the one rule for every component's ``seed`` option."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < SEED_LIMIT:
        raise ValueError(f"seed must be an integer between 0 and 2**32 - 1 (or None), got {value!r}")
    return int(value)


def check_points(value: Any) -> list[dict[str, Any]]:
    """A searcher's ``points_to_evaluate`` as a new list (``[]`` for None), raising ValueError unless it is a
    list (or tuple) of dicts; what the points hold is checked against the space in ``setup``."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(point, dict) for point in value):
        raise ValueError(f"points_to_evaluate must be a list of (possibly partial) config dicts, got {value!r}")
    return list(value)


def check_rewards(value: Any, points: Any) -> list[Any] | None:
    """A searcher's ``evaluated_rewards`` as a new list (None for None), raising ValueError unless it is a list
    (or tuple) with one reward per point of ``points`` (the ``points_to_evaluate`` as given, None when not given);
    what each reward holds is checked by the searcher."""
    if value is None:
        return None
    if points is None:
        raise ValueError("evaluated_rewards needs points_to_evaluate: one reward per point, in the same order")
    if not isinstance(value, list | tuple):
        raise ValueError(f"evaluated_rewards must be a list, one reward per point of points_to_evaluate; got {value!r}")
    if len(value) != len(points):
        raise ValueError(
            f"evaluated_rewards has {len(value)} values for {len(points)} points_to_evaluate: give one reward per point"
        )
    return list(value)


def check_dict(name: str, value: Any) -> dict[str, Any]:
    """``value`` as a new dict (``{}`` for None), raising ValueError unless it is a dict: options passed on to
    a library, e.g. ``sampler_options``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict (a table in TOML), got {value!r}")
    return dict(value)


def check_callable(name: str, value: Any) -> Any:
    """``value`` unchanged, raising ValueError unless it is None or callable."""
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be a function (or None), got {value!r}")
    return value


def metric_names(metric: str | list[str] | None) -> list[str]:
    """The experiment's metrics as a list: ``[]`` for none, ``[metric]`` for one, the list for several."""
    if not metric:
        return []
    return [metric] if isinstance(metric, str) else list(metric)


def check_objective(
    component: str,
    metric: Any,
    mode: Any,
    *,
    own_metric: str | list[str] | None = None,
    own_mode: str | list[str] | None = None,
    default_mode: str | None = None,
    purpose: str = "rank trials",
    hint: str = "",
) -> tuple[str, str]:
    """The one metric and mode of a component that uses **one** metric (:func:`check_single_metric`), both
    required: what every first-party scheduler, single-objective searcher and metric stopper calls in ``setup``.

    ``component`` names it in messages, e.g. ``"the asha scheduler"``; ``purpose`` says what the metric is for
    (``"rank trials"``, ``"watch"``). ``default_mode`` is the mode when neither the component nor the
    experiment gives one (None: a mode is required). ``hint`` is added to the error for several experiment
    metrics. Raises ValueError saying what is missing and where to set it.
    """
    metric, mode = check_single_metric(component, metric, mode, own_metric=own_metric, own_mode=own_mode, hint=hint)
    metrics, modes = _as_list(metric), _as_list(mode if mode is not None else default_mode)
    _require(component, metrics, modes, f"one metric to {purpose}")
    return metrics[0], modes[0]


def check_objectives(
    component: str,
    metric: Any,
    mode: Any,
    *,
    own_metric: str | list[str] | None = None,
    own_mode: str | list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The metrics and modes, one mode per metric, of a component that optimises one **or several** metrics
    (a multi-objective searcher): its own options, else the experiment's.

    Its own metrics without its own modes take the experiment's mode of each (the experiment's one mode when
    it has a single metric), as in :func:`check_single_metric`. Raises ValueError saying what is missing or
    does not pair up, and where to set it.
    """
    metrics, modes = _resolve(component, metric, mode, own_metric, own_mode)
    _require(component, metrics, modes, "a metric (or several) to optimise")
    if len(metrics) != len(modes):
        raise ValueError(
            f"{component} needs one mode per metric, got {metrics!r} and {modes!r}: give TuneConfig(mode=[...])"
            " or the component's own 'mode' option a list as long as the metrics"
        )
    return metrics, modes


def check_single_metric(
    component: str,
    metric: Any,
    mode: Any,
    *,
    own_metric: str | list[str] | None = None,
    own_mode: str | list[str] | None = None,
    hint: str = "",
) -> tuple[str | None, str | None]:
    """The one ``(metric, mode)`` a single-objective component ranks by: its own options, else the experiment's.

    ``metric`` and ``mode`` are what ``setup`` received (lists in a multi-objective experiment); ``own_metric``
    and ``own_mode`` are the component's options (None when not given). With several experiment metrics, the
    component's own metric is required, and its mode is the matching experiment mode unless ``own_mode`` is
    given. Raises ValueError naming ``component`` (e.g. ``"the plateau stopper"``) and saying how to fix it
    (``hint``, when given, is added: another way out, such as a multi-objective alternative).
    Either value of the result may be None: whether that is acceptable is for the component to say
    (:func:`check_objective` requires both).
    """
    metrics, modes = _resolve(component, metric, mode, own_metric, own_mode)
    if len(metrics) > 1 and own_metric is None:
        raise ValueError(
            f"{component} takes one metric, but the experiment has several ({metric!r}): give the component"
            f" its own 'metric' option (e.g. metric={metrics[0]!r}), or use it in a single-metric experiment{hint}"
        )
    if len(metrics) > 1 or len(modes) > 1:
        raise ValueError(f"{component} takes one metric and one mode, got {metrics!r} and {modes!r}{hint}")
    return (metrics[0] if metrics else None), (modes[0] if modes else None)


def _resolve(component: str, metric: Any, mode: Any, own_metric: Any, own_mode: Any) -> tuple[list[Any], list[Any]]:
    """The metrics and modes a component uses, unchecked: its own options, else the experiment's; its own
    metrics without its own modes take the experiment's mode of each (the one mode of a single metric)."""
    if own_metric is None or own_mode is not None:
        return _as_list(metric if own_metric is None else own_metric), _as_list(mode if own_mode is None else own_mode)
    metrics = _as_list(own_metric)
    if not isinstance(metric, list | tuple):
        return metrics, _as_list(mode)
    unknown = [name for name in metrics if name not in metric]
    if unknown or not isinstance(mode, list | tuple) or len(mode) != len(metric):
        raise ValueError(
            f"{component}'s metric {(unknown or metrics)[0]!r} is not one of the experiment's metrics {metric!r},"
            " whose modes do not say how to rank it: give the component its own 'mode' option too, 'min' or 'max'"
        )
    return metrics, [mode[list(metric).index(name)] for name in metrics]


_IN_A_FILE = " (in an experiment file: the top-level metric and mode keys)"


def _require(component: str, metrics: list[Any], modes: list[Any], what: str) -> None:
    """Raise ValueError unless there are metric names and modes (that they pair up is for the caller)."""
    if not metrics and not modes:
        raise ValueError(
            f"{component} needs {what} and its mode, got neither: set TuneConfig(metric=..., mode=...)"
            f"{_IN_A_FILE} or the component's own 'metric' and 'mode' options"
        )
    if not metrics or not all(isinstance(name, str) and name for name in metrics):
        shown = metrics[0] if len(metrics) == 1 else (metrics or None)
        raise ValueError(
            f"{component} needs {what}, got {shown!r}: set TuneConfig(metric=...){_IN_A_FILE} or its own 'metric'"
            " option"
        )
    if not modes or not all(mode in MODES for mode in modes):
        shown = modes[0] if len(modes) == 1 else (modes or None)
        raise ValueError(
            f'{component} needs mode "min" or "max", got {shown!r}: give it its own \'mode\' option,'
            f" or set TuneConfig(metric=..., mode=...){_IN_A_FILE}"
        )


def _as_list(value: Any) -> list[Any]:
    """None as ``[]``, a list or tuple as a list, anything else as a list of one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
