"""Can any successive-halving schedule reach random search's hypervolume within a third of its budget?

Run: ``.venv/bin/python benchmarks/mo_asha_schedules.py`` (``--seed-sets 0,10,20,30``, ``--problems
digits-size,zdt1-mf``, ``--seeds-per-set``, ``--no-searchers``). About 7 minutes on the 2-core machine.

The companion of ``benchmarks/quality.py`` for issue 18's ``mo_asha`` target, with its problems, budget
(810 steps, what 30 full-fidelity random trials spend) and measure (the budget until the hypervolume of the
full-fidelity points reaches random search's median final hypervolume of the same seeds; the lower median
over a set of 10 seeds, ``>1`` when fewer than half got there, in brackets how many did). It prints, per
problem and per set of 10 seeds:

- **schedules**: ``mo_asha`` + ``random`` for every ``grace_period`` in 1, 2, 3, 5, 9 and
  ``reduction_factor`` in 2, 3, 4 (``max_t`` 27), and ``brackets`` 2 and 4 of the benchmark's schedule
  (grace 1, factor 3);
- **searchers**: the benchmark's schedule with Optuna's multi-objective TPE and NSGA-II
  (``optuna`` searcher, ``sampler="tpe"`` / ``"nsga2"``) instead of random search;
- **a perfect signal** (digits-size only, the schedules again): every epoch reports the config's epoch-27
  error, so the first rung already ranks configs exactly; what is left is the cost of the schedule itself;
- all seeds of the sets together (one target: random search's median over all of them).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.problems import DigitsSizeProblem
from benchmarks.problems.biobjective import ZDT1Problem
from benchmarks.quality import ASHA, FULL_TRIALS, MAX_T, MO_BASELINE, Method, by_name, fmt_budget, quiet, run_all

GRACE_PERIODS = (1, 2, 3, 5, 9)
REDUCTION_FACTORS = (2, 3, 4)


class PerfectSignalDigits(DigitsSizeProblem):
    """digits-size, but every epoch reports the config's epoch-27 error: a low-fidelity signal without error."""

    name = "digits-size, perfect signal"

    def values(self, config: dict[str, Any], t: int, seed: int) -> tuple[float, float]:
        """``(error after epoch 27, size)`` whatever ``t``."""
        return super().values(config, self.max_t, seed)


def schedule(grace: int, factor: int, brackets: int = 1, searcher: str = "random", **options: Any) -> Method:
    """``mo_asha`` with this schedule and searcher."""
    scheduler = {"max_t": MAX_T, "grace_period": grace, "reduction_factor": factor, "brackets": brackets}
    name = f"grace {grace}, factor {factor}" + (f", {brackets} brackets" if brackets > 1 else "")
    if searcher != "random":
        name = f"{name}, {searcher} {options.get('sampler', '')}".rstrip()
    return Method(name, "tunecore", "mo_asha", scheduler, searcher, dict(options), objectives=2)


def methods(searchers: bool) -> list[Method]:
    """The schedules, then (with ``searchers``) the benchmark's schedule with Optuna's samplers."""
    grid = [schedule(g, f) for g in GRACE_PERIODS for f in REDUCTION_FACTORS]
    more = [schedule(ASHA["grace_period"], ASHA["reduction_factor"], brackets) for brackets in (2, 4)]
    if searchers:
        more += [schedule(1, 3, searcher="optuna", sampler=sampler) for sampler in ("tpe", "nsga2")]
    return grid + more


def measure(problem: Any, chosen: list[Method], seed_sets: list[int], per_set: int = 10) -> None:
    """Print one problem's table: a row per method, a column per set of ``per_set`` seeds and one for all."""
    budget = FULL_TRIALS * MAX_T
    sets = {first: list(range(first, first + per_set)) for first in seed_sets}
    start = time.perf_counter()
    baseline = {first: run_all(by_name(MO_BASELINE), problem, seeds, budget).traces for first, seeds in sets.items()}
    targets = {first: statistics.median(t.hypervolume for t in traces) for first, traces in baseline.items()}
    pooled = statistics.median(t.hypervolume for traces in baseline.values() for t in traces)
    print(
        f"\n{problem.name}: random search's median final hypervolume "
        + ", ".join(f"seeds {first}-{first + per_set - 1}: {target:.4f}" for first, target in targets.items())
        + f"; all {per_set * len(sets)} seeds: {pooled:.4f}"
    )
    heads = [f"{first}-{first + per_set - 1}" for first in sets] + ["all"]
    print(f"  {'method':<34}" + "".join(f"{head:>12}" for head in heads))
    for method in [by_name(MO_BASELINE), *chosen]:
        cells, everything = [], []
        for first, seeds in sets.items():
            traces = baseline[first] if method.name == MO_BASELINE else run_all(method, problem, seeds, budget).traces
            cells.append(cell([trace.budget_to(targets[first]) for trace in traces]))
            everything += [trace.budget_to(pooled) for trace in traces]
        cells.append(cell(everything))
        print(f"  {method.name:<34}" + "".join(f"{c:>12}" for c in cells), flush=True)
    print(f"  ({time.perf_counter() - start:.0f} s)")


def cell(fractions: list[float]) -> str:
    """The lower median budget and how many seeds reached the target: ``0.33 (10)``."""
    reached = sum(not math.isinf(fraction) for fraction in fractions)
    return f"{fmt_budget(statistics.median_low(fractions))} ({reached})"


def main(argv: list[str] | None = None) -> None:
    """Run the tables the options select."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-sets", default="0,10,20,30", help="first seeds of the sets of 10 (default 0,10,20,30)")
    parser.add_argument("--seeds-per-set", type=int, default=10, help="seeds in each set (default 10)")
    parser.add_argument("--problems", default="digits-size,zdt1-mf", help="digits-size and/or zdt1-mf")
    parser.add_argument("--no-searchers", action="store_true", help="leave out Optuna's samplers (no optuna needed)")
    args = parser.parse_args(argv)
    seed_sets = [int(first) for first in args.seed_sets.split(",")]
    chosen = methods(searchers=not args.no_searchers)
    known = {"digits-size": DigitsSizeProblem, "zdt1-mf": ZDT1Problem}
    names = [name.strip() for name in args.problems.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown problems: {', '.join(unknown)} (known: {', '.join(known)})")
    with quiet():
        for name in names:
            measure(known[name](), chosen, seed_sets, args.seeds_per_set)
        if "digits-size" in names:
            measure(PerfectSignalDigits(), methods(searchers=False), seed_sets, args.seeds_per_set)


if __name__ == "__main__":
    main()
