"""Shared pieces of the tune-bayesopt tests: a space with every domain kind, fast options, a driver loop."""

from __future__ import annotations

import math
from typing import Any

import tunecore
from tune_bayesopt import HyperoptSearcher, OptunaSearcher, SkoptSearcher
from tunecore.space import flatten, get_path, walk_space

SPACE: dict[str, Any] = {
    "opt": {"lr": tunecore.loguniform(1e-4, 1e-1), "momentum": tunecore.quniform(0.5, 0.99, 0.01), "name": "sgd"},
    "x": tunecore.uniform(-2, 3),
    "n": tunecore.randint(0, 10),
    "layers": [tunecore.qrandint(16, 128, 16), tunecore.lograndint(1, 100), 64],
    "width": tunecore.qlograndint(8, 512, 8),
    "eps": tunecore.qloguniform(1e-3, 1.0, 1e-3),
    "scale": tunecore.loguniform(1, 1024, base=2),
    "act": tunecore.choice(["relu", {"kind": "leaky", "slope": 0.1}, None, [1, 2]]),
    "flag": tunecore.choice([True, False]),
    "only": tunecore.choice(["one"]),
}
"""Every domain kind all three searchers support, nested in dicts and lists, with constants."""

FAST: dict[str, dict[str, Any]] = {
    "optuna": {"sampler_options": {"n_startup_trials": 3}},
    "hyperopt": {"n_initial_points": 3},
    "skopt": {
        "n_initial_points": 3,
        "base_estimator": "GBRT",
        "optimizer_options": {"acq_optimizer_kwargs": {"n_points": 500}},
    },
}
"""Options that reach the model-based phase after 3 trials and keep it cheap (skopt's GP is tested apart)."""

CLASSES = {"optuna": OptunaSearcher, "hyperopt": HyperoptSearcher, "skopt": SkoptSearcher}
NAMES = tuple(CLASSES)


def make(name: str, **options: Any) -> Any:
    """A searcher by name with the fast options (overridable)."""
    return CLASSES[name](**{**FAST[name], **options})


def objective(config: dict[str, Any]) -> float:
    """A deterministic loss of a SPACE config (or any config with "x")."""
    loss = (config["x"] - 0.5) ** 2
    if "n" in config:
        loss += config["n"] / 10 + (config["act"] is None) + math.log10(config["opt"]["lr"]) ** 2 / 10
    return loss


def drive(searcher: Any, count: int, start: int = 0, value=objective) -> list[dict[str, Any]]:
    """Suggest and complete ``count`` trials one at a time; return their configs."""
    configs = []
    for index in range(start, start + count):
        trial_id = f"t{index:05d}"
        config = searcher.suggest(trial_id)
        searcher.on_trial_complete(trial_id, {"loss": value(config), "training_iteration": 1})
        configs.append(config)
    return configs


def check_config(config: dict[str, Any], space: dict[str, Any] = SPACE) -> None:
    """Assert that ``config`` is a value of ``space``: types, bounds, multiples of q, categories, constants."""
    for key, value in flatten(space).items():
        if not isinstance(value, tunecore.space.Domain):
            assert flatten(config)[key] == value, key
    for p in walk_space(space):
        value = get_path(config, p.path)
        if p.kind == "categorical":
            assert any(type(value) is type(c) and value == c for c in p.categories), (p.name, value)
            continue
        assert type(value) is (int if p.kind == "int" else float), (p.name, value)
        if p.low is not None:
            assert p.low <= value <= p.high, (p.name, value)
        if p.q is not None:
            steps = value / p.q
            assert abs(steps - round(steps)) < 1e-9, (p.name, value)
            assert value == round(value, 10), (p.name, value)  # 0.3, not 0.30000000000000004


def key(config: dict[str, Any]) -> str:
    """A hashable form of a config, to find duplicates."""
    return repr(sorted(flatten(config).items()))
