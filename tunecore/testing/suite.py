"""What every component conformance suite shares: the experiment's metric and mode, capability skips, a
deterministic objective and a short real experiment on the ``inline`` executor."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunecore import space as sp

__all__ = ["ConformanceSuite", "canonical", "objective"]


def objective(config: dict[str, Any]) -> float:
    """A deterministic loss of a proposal (its numeric values, summed smoothly)."""
    total = 0.0
    for value in sp.flatten(config).values():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total += math.sin(float(value))
    return total


def canonical(value: Any) -> str:
    """A proposal as text, to compare proposals of two runs."""
    return repr(value)


class ConformanceSuite:
    """The base of the component suites: subclass one of them (``SearcherConformance``, ...), not this."""

    metric: ClassVar[str] = "loss"
    """The metric of the experiments the suite runs."""
    mode: ClassVar[str] = "min"
    """Their mode."""

    def _need(self, capability: str, reason: str) -> None:
        if not getattr(self, capability):
            pytest.skip(f"{type(self).__name__}.{capability} is False: {reason}")

    def _experiment(self, tmp_path: Path, **kwargs: Any) -> Any:
        import tunecore

        def train(config: dict[str, Any]) -> None:
            for step in range(1, 5):
                tunecore.report({"loss": objective(config) + 1.0 / step, "acc": float(step)})

        tune_kwargs: dict[str, Any] = {"executor": "inline", "metric": self.metric, "mode": self.mode, "seed": 0}
        run_kwargs: dict[str, Any] = {"name": "conformance", "storage_path": str(tmp_path), "loggers": [], "verbose": 0}
        for key in ("stoppers", "stop"):
            if key in kwargs:
                run_kwargs[key] = kwargs.pop(key)
        space = kwargs.pop("param_space", {"x": sp.uniform(0.0, 1.0)})
        tuner = tunecore.Tuner(
            train,
            param_space=space,
            tune_config=tunecore.TuneConfig(**tune_kwargs, **kwargs),
            run_config=tunecore.RunConfig(**run_kwargs),
        )
        return tuner.fit()
