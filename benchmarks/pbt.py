"""PBT against random search on the toy of ``examples/pbt_toy.py``, at equal total training iterations.

**Problem.** A model is a score in [0, 100]; a step with learning rate ``lr`` adds up to 1 when ``lr`` is the
best rate for the current score, less the further it is from it (nothing beyond half a decade). The best rate
goes 1e-3 -> 1e-2 -> 1e-3 as the score goes 0 -> 50 -> 100, so no fixed rate passes 50.

**Protocol.** Per seed, a population of ``POPULATION`` learning rates is drawn from ``loguniform(1e-4, 1e-1)``
(the same draws for every method) and each member trains ``STEPS`` iterations, so every method spends
``POPULATION * STEPS`` iterations:
- random search: the rates stay fixed (``fifo``);
- PBT (``pbt``, synchronous and asynchronous): every 4 iterations the bottom quarter copies a top member's
  checkpoint and perturbs its rate (x1.2 / x0.8, resampled from the same range one time in four);
- PB2 (``pb2``, synchronous): the same, with the rate chosen by GP-UCB within [1e-4, 1e-1].
The figure is the median over the seeds of the best final score; ratios are against random search.
tunecore runs with the inline executor and no loggers.

Run: ``.venv/bin/python benchmarks/pbt.py`` (``--quick``: 3 seeds, 40 iterations; ``--seeds N``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import tunecore

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from pbt_toy import train  # the example's toy: one definition of the problem

POPULATION = 4
"""Members (trials) per method and seed."""
STEPS = 100
"""Training iterations per member."""
RANGE = (1e-4, 1e-1)
"""Where learning rates are drawn from (and, for PB2, chosen within)."""
INTERVAL = {"time_attr": "training_iteration", "perturbation_interval": 4}
"""The perturbation points of PBT and PB2."""


def methods(seed: int) -> dict[str, tuple[str, dict[str, Any]]]:
    """The schedulers compared, by label: (name, options)."""
    mutations = {"hyperparam_mutations": {"lr": tunecore.loguniform(*RANGE)}, "seed": seed, **INTERVAL}
    return {
        "random search": ("fifo", {}),
        "pbt (synch)": ("pbt", {**mutations, "synch": True}),
        "pbt (async)": ("pbt", mutations),
        "pb2 (synch)": ("pb2", {"hyperparam_bounds": {"lr": list(RANGE)}, "seed": seed, "synch": True, **INTERVAL}),
    }


def best_score(scheduler: str, options: dict[str, Any], seed: int, steps: int, storage: str) -> float:
    """The best final score of one population."""
    tuner = tunecore.Tuner(
        train,
        param_space={"lr": tunecore.loguniform(*RANGE)},
        tune_config=tunecore.TuneConfig(
            metric="score",
            mode="max",
            num_samples=POPULATION,
            seed=seed,
            scheduler=scheduler,
            scheduler_options=options,
            executor="inline",
        ),
        run_config=tunecore.RunConfig(
            name=f"{scheduler}-{seed}", storage_path=storage, stop={"training_iteration": steps}, loggers=[], verbose=0
        ),
    )
    grid = tuner.fit()
    assert grid.num_errors == 0 and sum(r.metrics["training_iteration"] for r in grid) == POPULATION * steps
    return max(result.metrics["score"] for result in grid)


def main() -> None:
    """Run every method on every seed; print the medians and the ratios to random search."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 40 iterations per member")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10, 3 with --quick)")
    args = parser.parse_args()
    seeds = args.seeds or (3 if args.quick else 10)
    steps = 40 if args.quick else STEPS
    print(f"toy of examples/pbt_toy.py: population {POPULATION}, {steps} iterations each, {seeds} seeds")
    scores: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as storage:
        for seed in range(seeds):
            for label, (scheduler, options) in methods(seed).items():
                start = time.perf_counter()
                path = os.path.join(storage, label.replace(" ", "_").replace("(", "").replace(")", ""))
                scores.setdefault(label, []).append(best_score(scheduler, options, seed, steps, path))
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start
    baseline = statistics.median(scores["random search"])
    print(f"{'method':<15} {'median best':>11} {'ratio':>7} {'s/run':>7}   per seed")
    for label, values in scores.items():
        median = statistics.median(values)
        ratio = median / baseline if baseline else float("inf")
        per_seed = " ".join(f"{v:.1f}" for v in values)
        print(f"{label:<15} {median:>11.1f} {ratio:>7.2f} {seconds[label] / seeds:>7.2f}   {per_seed}")


if __name__ == "__main__":
    main()
