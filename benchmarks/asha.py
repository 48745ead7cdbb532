"""ASHA against random search on a synthetic multi-fidelity problem, with Ray Tune's ASHA when installed.

**Problem: multi-fidelity Branin.** Minimise Branin on [-5, 10] x [0, 15] (minimum 0.397887). A trial is
one point trained for up to ``MAX_T`` iterations; after iteration t it reports the value at fidelity
``z = log(t) / log(MAX_T)`` (0 at the first iteration, 1 at the last):

    f(x, z) = (x2 - b(z) x1**2 + c(z) x1 - 6)**2 + 10 (1 - t(z)) cos(x1) + 10 + NOISE (1 - z) eps_t
    b(z) = 5.1 / (4 pi**2) - 0.01 (1 - z),  c(z) = 5 / pi - 0.1 (1 - z),  t(z) = 1 / (8 pi) + 0.05 (1 - z)

the multi-fidelity Branin of Kandasamy et al. (2017, BOCA), biased at low fidelity, plus Gaussian noise
``eps_t`` (fixed per seed, point and iteration) that fades to 0 at full fidelity: the last value is Branin.

**Protocol.** Budgets count training iterations; each seed has two streams of uniformly random points.
- Random search runs the first ``RS_TRIALS`` points of stream 0 to ``MAX_T``, a budget of
  ``B = RS_TRIALS * MAX_T`` iterations; its regret is the best full-length value minus the minimum. The
  target regret is the median of that over the seeds.
- ASHA (``grace_period=1, reduction_factor=3, max_t=MAX_T``, Ray's other defaults) with random search runs
  stream 1, one trial at a time, until a trial reaches ``MAX_T`` with at most the target regret (or ``B``
  is spent). Its budget fraction is the iterations spent until then divided by ``B``; the figure is the
  median over the seeds (goal: at most 1/3).
- Ray Tune's ``ASHAScheduler`` with the same settings runs the same points (``max_concurrent_trials=1``).

tunecore runs with the inline executor and no loggers.

Run: ``.venv/bin/python benchmarks/asha.py`` (``--seeds N``, ``--no-ray``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np

import tunecore

MAX_T = 81
"""Iterations of a full-length trial (R)."""
RS_TRIALS = 40
"""Full-length trials random search gets: the budget is ``RS_TRIALS * MAX_T`` iterations."""
BUDGET = RS_TRIALS * MAX_T
"""B: the iterations random search spends, and the most ASHA may spend."""
NOISE = 10.0
"""Standard deviation of the noise at the lowest fidelity."""
BRANIN_MIN = 0.397887357729738
"""The minimum of Branin."""
ASHA = {"max_t": MAX_T, "grace_period": 1, "reduction_factor": 3}
"""The ASHA settings of both tunecore and Ray Tune."""
TARGET_FRACTION = 1 / 3
"""The goal: ASHA matches random search's regret with at most this fraction of its budget."""


def branin(x1: float, x2: float, z: float = 1.0) -> float:
    """Multi-fidelity Branin: exactly Branin at ``z = 1``, biased below."""
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    c = 5 / math.pi - 0.1 * (1 - z)
    t = 1 / (8 * math.pi) + 0.05 * (1 - z)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def points(seed: int, stream: int, count: int) -> list[dict[str, Any]]:
    """A stream of uniformly random points (each knows its seed, stream and index, for its noise)."""
    rng = np.random.default_rng([seed, stream])
    xs = rng.uniform([-5.0, 0.0], [10.0, 15.0], size=(count, 2))
    return [{"seed": seed, "stream": stream, "i": i, "x1": x1, "x2": x2} for i, (x1, x2) in enumerate(xs.tolist())]


def curve(point: dict[str, Any]) -> list[float]:
    """The values a point reports after iterations 1 ... MAX_T."""
    eps = np.random.default_rng([point["seed"], point["stream"], point["i"]]).standard_normal(MAX_T)
    values = []
    for t in range(1, MAX_T + 1):
        z = math.log(t) / math.log(MAX_T)
        values.append(branin(point["x1"], point["x2"], z) + NOISE * (1 - z) * float(eps[t - 1]))
    return values


def train(config: dict[str, Any]) -> None:
    """tunecore trainable: report the point's curve."""
    for value in curve(config["point"]):
        tunecore.report({"value": value})


class Budget(tunecore.Stopper):
    """Ends the experiment once a full-length trial reaches ``target`` regret or ``BUDGET`` iterations are spent."""

    def __init__(self, target: float) -> None:
        self.target, self.used, self.reached = target, 0, False

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Count the iteration; note a full-length trial at the target."""
        self.used += 1
        if result["training_iteration"] >= MAX_T and result["value"] - BRANIN_MIN <= self.target:
            self.reached = True
        return False

    def stop_all(self) -> bool:
        """True once the target is reached or the budget spent."""
        return self.reached or self.used >= BUDGET


def fraction_to_target(histories: list[int | None], finals: list[float], target: float) -> float:
    """Budget fraction spent (trials in order) until a full-length trial reached ``target``; inf if none did."""
    used = 0
    for length, final in zip(histories, finals, strict=True):
        used += length or 0
        if length == MAX_T and final - BRANIN_MIN <= target:
            return used / BUDGET
    return math.inf


def tunecore_run(
    seed: int, scheduler: str, options: dict[str, Any], stream: int, count: int, stopper: Any, root: str
) -> Any:
    """Run the first ``count`` points of a stream through tunecore, one trial at a time."""
    return tunecore.Tuner(
        train,
        param_space={"point": tunecore.grid_search(points(seed, stream, count))},
        tune_config=tunecore.TuneConfig(
            metric="value", mode="min", executor="inline", scheduler=scheduler, scheduler_options=options
        ),
        run_config=tunecore.RunConfig(
            name=f"{scheduler}-{seed}", storage_path=root, loggers=[], verbose=0, stop=stopper
        ),
    ).fit()


def random_search_regret(seed: int, root: str) -> float:
    """Regret of random search with RS_TRIALS full-length trials (run through tunecore)."""
    grid = tunecore_run(seed, "fifo", {}, 0, RS_TRIALS, None, root)
    best = min(result.metrics["value"] for result in grid)
    assert all(result.metrics["training_iteration"] == MAX_T for result in grid)
    return best - BRANIN_MIN


def tunecore_asha_fraction(seed: int, target: float, root: str) -> tuple[float, int]:
    """Budget fraction tunecore's ``asha`` needs to reach ``target`` regret, and how many trials it ran."""
    grid = tunecore_run(seed, "asha", ASHA, 1, BUDGET, Budget(target), root)
    lengths = [result.metrics.get("training_iteration") for result in grid]
    finals = [result.metrics.get("value", math.inf) for result in grid]
    return fraction_to_target(lengths, finals, target), len(grid)


def ray_asha_fractions(seeds: list[int], target: float) -> list[tuple[float, int]]:
    """The same with Ray Tune's ASHAScheduler: the same points, proposed one at a time, one trial at a time."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import Searcher

    def ray_train(config: dict[str, Any]) -> None:
        for value in curve(config["point"]):
            tune.report({"value": value})

    class Stream(Searcher):
        """Proposes the points in order, lazily (a grid_search makes Ray build every trial upfront: slow)."""

        def __init__(self, stream: list[dict[str, Any]]) -> None:
            super().__init__(metric="value", mode="min")
            self.stream = iter(stream)

        def suggest(self, trial_id: str) -> dict[str, Any] | str:
            point = next(self.stream, None)
            return Searcher.FINISHED if point is None else {"point": point}

        def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
            pass

    class RayBudget(tune.Stopper):
        """:class:`Budget` as a Ray Tune stopper."""

        def __init__(self, target: float) -> None:
            self.budget = Budget(target)

        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            return self.budget.should_stop(trial_id, result)

        def stop_all(self) -> bool:
            return self.budget.stop_all()

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    figures = []
    try:
        for seed in seeds:
            with tempfile.TemporaryDirectory() as root:
                tuner = tune.Tuner(
                    ray_train,
                    tune_config=tune.TuneConfig(
                        search_alg=Stream(points(seed, 1, BUDGET)),
                        scheduler=ASHAScheduler(metric="value", mode="min", **ASHA),
                        num_samples=BUDGET,
                        max_concurrent_trials=1,
                        reuse_actors=True,
                    ),
                    run_config=tune.RunConfig(storage_path=root, stop=RayBudget(target), verbose=0),
                )
                grid = tuner.fit()
            results = sorted((r for r in grid if r.metrics), key=lambda r: r.config["point"]["i"])
            lengths = [r.metrics.get("training_iteration") for r in results]
            finals = [r.metrics.get("value", math.inf) for r in results]
            figures.append((fraction_to_target(lengths, finals, target), len(results)))
    finally:
        ray.shutdown()
    return figures


def fmt(value: float) -> str:
    """A fraction, or '>1' when the target was not reached within the budget."""
    return ">1" if math.isinf(value) else f"{value:.3f}"


def main() -> None:
    """Run every seed and print the table and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--no-ray", action="store_true", help="skip Ray Tune even when it is installed")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    try:
        import ray.tune  # noqa: F401

        with_ray = not args.no_ray
    except ImportError:
        with_ray = False
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        regrets = [random_search_regret(seed, root) for seed in seeds]
        target = statistics.median(regrets)
        ours = [tunecore_asha_fraction(seed, target, root) for seed in seeds]
    ours_s = time.perf_counter() - start
    theirs: list[tuple[float, int]] = []
    if with_ray:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
            theirs = ray_asha_fractions(seeds, target)
        ray_s = time.perf_counter() - start

    print(f"multi-fidelity Branin, max_t={MAX_T}, budget {BUDGET} iterations ({RS_TRIALS} full-length trials),")
    print(f"ASHA grace_period=1 reduction_factor=3, {len(seeds)} seeds\n")
    header = f"{'seed':>4}  {'RS regret':>10}  {'tunecore asha':>13} {'trials':>6}"
    print(header + (f"  {'Ray ASHA':>9} {'trials':>6}" if theirs else ""))
    for index, seed in enumerate(seeds):
        line = f"{seed:>4}  {regrets[index]:>10.4f}  {fmt(ours[index][0]):>13} {ours[index][1]:>6}"
        if theirs:
            line += f"  {fmt(theirs[index][0]):>9} {theirs[index][1]:>6}"
        print(line)
    median_ours = statistics.median(fraction for fraction, _ in ours)
    print(f"\nmedian regret of random search with {RS_TRIALS} full-length trials: {target:.4f}")
    verdict = "meets" if median_ours <= TARGET_FRACTION else "misses"
    print(
        f"median budget fraction tunecore asha needs for the same regret: {fmt(median_ours)}"
        f" ({verdict} the target <= {TARGET_FRACTION:.3f}; {ours_s:.1f} s for all runs)"
    )
    if theirs:
        median_ray = statistics.median(fraction for fraction, _ in theirs)
        print(f"median budget fraction Ray Tune ASHAScheduler needs:          {fmt(median_ray)} ({ray_s:.1f} s)")
    else:
        print("Ray Tune is not installed (or --no-ray): no comparison", file=sys.stderr)


if __name__ == "__main__":
    main()
