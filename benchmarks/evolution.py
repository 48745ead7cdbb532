"""Regret of the tune-evolution searchers against ``random`` on two problems, through ``Tuner``.

Run: ``.venv/bin/python benchmarks/evolution.py [--seeds N] [--evaluations N]``.

- **Hartmann-6**: the 6-dimensional Hartmann function on ``[0, 1]^6`` (minimum -3.32237).
- **mixed**: a synthetic training-cost surface over 3 categorical, 2 integer and 2 float parameters
  (``choice``, ``randint``, ``qlograndint``, ``loguniform``, ``quniform``), minimum 0.

Each searcher gets 200 evaluations (one result per trial) per seed; the regret of a run is its best value
minus the minimum. The table shows the median regret over 10 seeds (0..9) and the ratio random / searcher
(higher is better). Target: ``regularized_evolution`` at least 3x lower regret than ``random`` on Hartmann-6.
Inline executor, no loggers, ``verbose=0``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import tunecore

HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
HARTMANN_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)
HARTMANN_MIN = -3.32237


def hartmann6(config: dict[str, Any]) -> float:
    """The Hartmann-6 function of ``config["x0"]`` .. ``config["x5"]``."""
    x = [config[f"x{i}"] for i in range(6)]
    return -sum(
        alpha * math.exp(-sum(a * (xj - p) ** 2 for a, xj, p in zip(row, x, centre, strict=True)))
        for alpha, row, centre in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P, strict=True)
    )


HARTMANN_SPACE = {f"x{i}": tunecore.uniform(0, 1) for i in range(6)}

OPTIMIZER_COST = {"sgd": 0.4, "adam": 0.0, "rmsprop": 0.2}
BEST_LR = {"sgd": 1e-2, "adam": 1e-3, "rmsprop": 3e-4}
ACTIVATION_COST = {"relu": 0.1, "tanh": 0.3, "gelu": 0.0, "sigmoid": 0.6}
BATCH_COST = {16: 0.3, 32: 0.1, 64: 0.0, 128: 0.1, 256: 0.3}


def mixed(config: dict[str, Any]) -> float:
    """A synthetic cost, 0 at adam, gelu, batch 64, 4 layers, 256 units, lr 1e-3, dropout 0.2."""
    optimizer = config["optimizer"]
    return (
        OPTIMIZER_COST[optimizer]
        + ACTIVATION_COST[config["activation"]]
        + BATCH_COST[config["batch"]]
        + 0.05 * (config["layers"] - 4) ** 2
        + 0.1 * math.log2(config["units"] / 256) ** 2
        + 0.2 * (math.log10(config["lr"]) - math.log10(BEST_LR[optimizer])) ** 2
        + 4.0 * (config["dropout"] - 0.2) ** 2
    )


MIXED_SPACE = {
    "optimizer": tunecore.choice(["sgd", "adam", "rmsprop"]),
    "activation": tunecore.choice(["relu", "tanh", "gelu", "sigmoid"]),
    "batch": tunecore.choice([16, 32, 64, 128, 256]),
    "layers": tunecore.randint(1, 11),
    "units": tunecore.qlograndint(16, 1024, 16),
    "lr": tunecore.loguniform(1e-5, 1e-1),
    "dropout": tunecore.quniform(0, 0.5, 0.05),
}

PROBLEMS: dict[str, tuple[Callable[[dict[str, Any]], float], dict[str, Any], float]] = {
    "Hartmann-6": (hartmann6, HARTMANN_SPACE, HARTMANN_MIN),
    "mixed": (mixed, MIXED_SPACE, 0.0),
}
SEARCHERS = ("random", "evolution", "regularized_evolution")


def best_value(objective: Callable[[dict[str, Any]], float], space: dict[str, Any], searcher: str, seed: int,
               evaluations: int, storage: str) -> float:  # fmt: skip
    """The lowest objective value found by ``searcher`` in ``evaluations`` trials."""

    def trainable(config: dict[str, Any]) -> None:
        tunecore.report({"loss": objective(config)})

    grid = tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=evaluations, seed=seed, searcher=searcher, executor="inline"
        ),
        run_config=tunecore.RunConfig(storage_path=storage, loggers=[], verbose=0),
    ).fit()
    return min(result.metrics["loss"] for result in grid)


def main() -> None:
    """Run every searcher on every problem and print the table of median regrets and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--evaluations", type=int, default=200, help="trials per run (default 200)")
    args = parser.parse_args()
    start = time.perf_counter()
    medians: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as storage:
        for problem, (objective, space, minimum) in PROBLEMS.items():
            for searcher in SEARCHERS:
                regrets = [
                    best_value(objective, space, searcher, seed, args.evaluations, storage) - minimum
                    for seed in range(args.seeds)
                ]
                medians[problem, searcher] = statistics.median(regrets)
    elapsed = time.perf_counter() - start
    print(f"median regret over {args.seeds} seeds, {args.evaluations} evaluations each ({elapsed:.0f} s)\n")
    print(f"| searcher | {' | '.join(PROBLEMS)} | " + " | ".join(f"random / searcher, {p}" for p in PROBLEMS) + " |")
    print("|---|" + "---:|" * (2 * len(PROBLEMS)))
    for searcher in SEARCHERS:
        regrets = [f"{medians[p, searcher]:.4f}" for p in PROBLEMS]
        ratios = [f"{medians[p, 'random'] / max(medians[p, searcher], 1e-12):.1f}x" for p in PROBLEMS]
        print(f"| {searcher} | {' | '.join(regrets)} | {' | '.join(ratios)} |")
    ratio = medians["Hartmann-6", "random"] / max(medians["Hartmann-6", "regularized_evolution"], 1e-12)
    verdict = "met" if ratio >= 3 else "NOT met"
    print(f"\ntarget: regularized_evolution >= 3x lower regret than random on Hartmann-6: {ratio:.1f}x, {verdict}")


if __name__ == "__main__":
    main()
