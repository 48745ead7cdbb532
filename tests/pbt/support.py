"""A toy where the best learning rate moves during training, and a runner for the PBT tests (importable by workers).

``toy`` keeps a state ``{"score": s}`` (0 <= s <= 100). Each step adds ``gain(lr, s)``: 1 when ``lr`` is the
best learning rate for the current score, less the further it is from it (in decades), nothing beyond half a
decade. The best rate rises from 1e-3 at s = 0 to 1e-2 at s = 50 and falls back to 1e-3 at s = 100, so a fixed
rate stalls before s = 50 (it must start within half a decade of 1e-3 and can climb only to where the best
rate is half a decade above it): only a schedule that follows the best rate gets further. It saves a checkpoint
with every result and reports checksums of the state it loaded at launch (``loaded``) and saved (``saved``).
Config keys: ``lr``, ``fail_at`` (raise at that training_iteration; only in trial ``fail_trial`` when given;
once, when ``fail_marker`` names a file created then), ``stop_at`` (end by itself after that training_iteration;
only in trial ``stop_trial`` when given), ``sleep`` (seconds per step, or ``{trial_id: seconds}``). Exploits copy
configs between trials: give these keys to every trial (constants).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import time
from typing import Any

import tunecore

WIDTH = 0.5
"""Decades between the learning rate and the best one at which the gain drops to 0."""
SPACE = {"lr": tunecore.loguniform(3e-4, 3e-3)}
"""Where the population's learning rates come from: around the best one at the start (1e-3), so that each
gains something at first."""
MUTATIONS = {"lr": tunecore.loguniform(1e-4, 1e-1)}
"""PBT perturbs the learning rate, or resamples it from this wider range."""
STEPS, SEED = 100, 3
"""The iterations per member and the seed of the runs that show PBT's gain."""


def best_lr(score: float) -> float:
    """The learning rate with the largest gain at ``score``: 1e-3 -> 1e-2 -> 1e-3, log-linearly."""
    return 10 ** (-3 + min(score, 100 - score) / 50)


def gain(lr: float, score: float) -> float:
    """How much one step with ``lr`` adds at ``score``."""
    return max(0.0, 1 - abs(math.log10(lr / best_lr(score))) / WIDTH)


def digest(state: dict[str, Any]) -> str:
    """A checksum of a state."""
    return hashlib.sha256(pickle.dumps(state)).hexdigest()[:16]


def toy(config: dict[str, Any]) -> None:
    """Train forever (a stopper ends it), one step per result, from the checkpoint given at launch."""
    checkpoint = tunecore.get_checkpoint()
    state = checkpoint.to_dict() if checkpoint else {"score": 0.0}
    loaded = digest(state) if checkpoint else None
    context = tunecore.get_context()
    iteration = context.start_iteration
    while True:
        iteration += 1
        if _fails(config, context.trial_id, iteration):
            if config.get("fail_marker"):
                open(config["fail_marker"], "w").close()
            raise RuntimeError(f"failing at iteration {iteration} as configured")
        sleep = config.get("sleep", 0)
        time.sleep(sleep.get(context.trial_id, 0) if isinstance(sleep, dict) else sleep)
        state = {"score": min(100.0, state["score"] + gain(config["lr"], state["score"]))}
        metrics = {"score": state["score"], "lr": config["lr"], "loaded": loaded, "saved": digest(state)}
        tunecore.report(metrics, checkpoint=tunecore.Checkpoint.from_dict(state))
        if iteration == config.get("stop_at") and config.get("stop_trial", context.trial_id) == context.trial_id:
            return


def _fails(config: dict[str, Any], trial_id: str, iteration: int) -> bool:
    if iteration != config.get("fail_at") or config.get("fail_trial", trial_id) != trial_id:
        return False
    return not os.path.exists(config.get("fail_marker") or "")


def run_toy(
    tmp_path: Any,
    scheduler: Any = "pbt",
    options: dict[str, Any] | None = None,
    *,
    steps: int = 60,
    population: int = 4,
    space: dict[str, Any] | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> tunecore.ResultGrid:
    """Run ``toy`` for ``steps`` iterations per member; ``kwargs`` go to TuneConfig, or to RunConfig for
    ``checkpoint_config``, ``failure_config`` and ``name``. The default scheduler options: synchronous PBT on
    ``lr`` every 4 iterations."""
    if options is None:
        options = {"time_attr": "training_iteration", "perturbation_interval": 4, "hyperparam_mutations": MUTATIONS}
        options = {**options, "synch": True, "seed": seed}
    run_keys = ("checkpoint_config", "failure_config", "name")
    run_kwargs = {"name": "exp", **{key: kwargs.pop(key) for key in run_keys if key in kwargs}}
    tune_kwargs = {"executor": "inline", "metric": "score", "mode": "max", "num_samples": population, "seed": seed}
    tuner = tunecore.Tuner(
        toy,
        param_space=SPACE if space is None else space,
        tune_config=tunecore.TuneConfig(scheduler=scheduler, scheduler_options=options, **{**tune_kwargs, **kwargs}),
        run_config=tunecore.RunConfig(
            storage_path=str(tmp_path), stop={"training_iteration": steps}, loggers=[], verbose=0, **run_kwargs
        ),
    )
    return tuner.fit()


def policy(path: str | os.PathLike[str], name: str = "pbt_global.jsonl") -> list[dict[str, Any]]:
    """The lines of a policy file of an experiment ([] when there is none)."""
    file = os.path.join(path, name)
    if not os.path.exists(file):
        return []
    with open(file, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def best_score(grid: tunecore.ResultGrid) -> float:
    """The best final score of the population."""
    return max(result.metrics.get("score", 0.0) for result in grid)
