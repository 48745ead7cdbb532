"""Deterministic learning curves and a runner for the scheduler tests (importable: TOML files and workers find it).

``hyperbolic`` reports ``loss = q + 1/step`` (and ``acc = -loss``, ``samples = 10 * step``, ``tokens = step**2``):
curves of different ``q`` never cross, so every ranking at a rung is the ranking of ``q``. It saves a checkpoint
``{"step": step}`` with every result and continues from the checkpoint it is given, reporting whether it did
(``resumed``).
Config keys, at the top or under ``case`` (a grid_search over dicts): ``q`` (a negative ``q`` reports NaN),
``steps`` (default 200), ``fail_at`` (raise at that step), ``constant`` (report ``loss = q`` instead).
"""

from __future__ import annotations

import math
from typing import Any

import tunecore


def hyperbolic(config: dict) -> None:
    """Report ``q + 1/step`` (or ``q``) for steps 1..``steps``, from a checkpoint when given one."""
    config = config.get("case", config)
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else 0
    q = config["q"]
    for step in range(start + 1, config.get("steps", 200) + 1):
        if step == config.get("fail_at"):
            raise RuntimeError(f"failing at step {step} as configured")
        loss = math.nan if q < 0 else q if config.get("constant") else q + 1.0 / step
        tunecore.report(
            {"loss": loss, "acc": -loss, "step": step, "samples": 10 * step, "tokens": step**2, "resumed": start > 0},
            checkpoint=tunecore.Checkpoint.from_dict({"step": step}),
        )


def run(tmp_path: Any, scheduler: str, options: dict[str, Any], qs: list[Any], **kwargs: Any) -> tunecore.ResultGrid:
    """Run ``hyperbolic`` once per value of ``qs`` (in that order) with the scheduler selected by name.

    ``qs`` items are numbers or dicts of extra config; ``kwargs`` go to TuneConfig (default: inline executor,
    metric loss, mode min), except ``callbacks`` and ``failure_config`` which go to RunConfig.
    """
    configs = [item if isinstance(item, dict) else {"q": item} for item in qs]
    run_kwargs = {key: kwargs.pop(key) for key in ("callbacks", "failure_config") if key in kwargs}
    kwargs = {"executor": "inline", "metric": "loss", "mode": "min", "seed": 0, **kwargs}
    tuner = tunecore.Tuner(
        hyperbolic,
        param_space={"case": tunecore.grid_search(configs)},
        tune_config=tunecore.TuneConfig(scheduler=scheduler, scheduler_options=options, **kwargs),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0, **run_kwargs),
    )
    return tuner.fit()


def iterations(grid: tunecore.ResultGrid) -> list[int]:
    """The last ``training_iteration`` of every trial, in creation order."""
    return [result.metrics["training_iteration"] for result in grid]
