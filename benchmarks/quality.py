"""Search quality at equal budget on multi-fidelity problems: tunecore's schedulers and searchers, Ray Tune, Optuna.

Run: ``.venv/bin/python benchmarks/quality.py`` (``--seeds N``, ``--first-seed K``, ``--problems a,b``,
``--methods a,b``, ``--full-trials N``; ``--list`` names the problems and methods). The full run takes about
15 minutes on the 2-core machine, most of it Ray Tune's per-trial overhead.

**Problems** (``benchmarks/problems``): multi-fidelity Branin, Hartmann-3, Hartmann-6 (Kandasamy et al.
2017's fidelity bias) and Styblinski-Tang (5-d), noise-free; the digits MLP tabular benchmark (real
training curves of scikit-learn MLPs on ``load_digits``, seed-averaged) and its noisy variant (one training
seed per config). A trial reports one value per budget step ``t = 1 ... 27`` (its ``training_iteration``):
the value at fidelity ``t``; step 27 is full fidelity.

**Budget.** Every method gets ``B = FULL_TRIALS x 27`` budget steps (results) per run — what random search
with ``FULL_TRIALS`` full-fidelity trials spends — counted in the order the results arrive, trials one at a
time. A run ends when ``B`` steps are spent (a trial still running is cut there).

**Regret.** A method's incumbent is the config with the best observed value *at full fidelity* (a trial
that reached step 27); its regret is the config's noise-free full-fidelity value minus the optimum
(infinite until a trial reaches step 27). Per problem and method: the median final regret over the seeds,
its interquartile range, and the budget (fraction of ``B``) each run needs until its regret is at most
random search's median final regret, as the lower median over the seeds — the budget by which half the
seeds got there (``>1``: fewer than half did within ``B``; ``reached`` counts the seeds that did).

**Methods** (:data:`METHODS`): tunecore ``fifo`` + ``random`` (random search, every trial to full fidelity),
``asha`` + ``random``, ``asha`` + ``optuna`` (TPE), ``hyperband`` + ``random``, ``hyperband`` + ``bohb``;
Ray Tune's ``ASHAScheduler`` + ``OptunaSearch`` (TPE); Optuna's ``TPESampler`` with its ``HyperbandPruner``.
ASHA: ``grace_period=1, reduction_factor=3, max_t=27`` for tunecore and Ray; HyperBand ``max_t=27,
reduction_factor=3``; Optuna's pruner ``min_resource=1, max_resource=27, reduction_factor=3`` (the study
named after the seed: the pruner's brackets hash the name, so a random one makes runs irreproducible).
Defaults otherwise. tunecore runs with the ``inline`` executor and no loggers; Ray Tune 2.60 in a private local
cluster (``ray.init(num_cpus=2)``, 127.0.0.1, no dashboard, shut down at the end; ``max_concurrent_trials=1``,
``reuse_actors=True``, its automatic per-trial result files off as tunecore's loggers are).

**Two objectives** (``digits-size``: validation error vs log model size, reference point (1, 1.1)):
``fifo`` + ``random`` (full budget) against ``mo_asha`` + ``random``; the figure is the budget each
``mo_asha`` run needs until the hypervolume of its full-fidelity points reaches random search's median
final hypervolume (target: at most 1/3 of ``B``). For information: ``mo_asha`` with ``grace_period=3``
(``mo_asha-g3+random``: rungs 3, 9, 27), and both on ``zdt1-mf`` (multi-fidelity ZDT1, 6-d, reference
point (11, 11); ``benchmarks/problems/biobjective.py``).

**Targets** (issue 18): ``bohb``'s median regret at or below ``asha`` + ``random``'s on at least 4 of 6
problems, and at or below Ray Tune's ASHA + OptunaSearch on at least 4 of 6; ``mo_asha`` at random
search's hypervolume with at most a third of its budget.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks.problems`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tunecore
from benchmarks.problems import MAX_T, DigitsSizeProblem, Problem, hypervolume, problems
from benchmarks.problems.biobjective import ZDT1Problem

FULL_TRIALS = 30
"""Full-fidelity trials random search gets: the budget is ``FULL_TRIALS * MAX_T`` steps."""
ETA = 3
"""The reduction factor of every successive-halving method."""
ASHA = {"max_t": MAX_T, "grace_period": 1, "reduction_factor": ETA}
"""ASHA's settings, tunecore's and Ray Tune's."""
HYPERBAND = {"max_t": MAX_T, "reduction_factor": ETA}
"""HyperBand's settings."""
RUNGS = {ETA**k for k in range(10) if ETA**k <= MAX_T}
"""Budget steps HyperBand pauses trials at: a checkpoint is saved there."""
TARGET_RIVALS = ("asha+random", "ray-asha+optuna")
"""The methods ``bohb`` should match or beat on at least 4 of the 6 problems."""
MO_TARGET = 1 / 3
"""``mo_asha`` should reach random search's hypervolume within this fraction of the budget."""


# --- traces: what a run saw, in order -------------------------------------------------------------------


@dataclass
class Trace:
    """The incumbent's regret over the budget spent, from the results of one run in arrival order."""

    budget: int
    max_t: int = MAX_T
    used: int = 0
    best_value: float = math.inf
    """The best observed full-fidelity value so far."""
    regret: float = math.inf
    """The noise-free regret of the config that observed :attr:`best_value`."""
    steps: list[tuple[int, float]] = field(default_factory=list)
    """``(budget used, regret)`` at each change of the incumbent."""

    @property
    def exhausted(self) -> bool:
        """True once the budget is spent."""
        return self.used >= self.budget

    def add(self, result: dict[str, Any]) -> None:
        """Count one result (``step``, ``value`` and, at full fidelity, ``final_regret``)."""
        if self.exhausted:
            return
        self.used += 1
        if result["step"] >= self.max_t and result["value"] < self.best_value:
            self.best_value, self.regret = result["value"], result["final_regret"]
            self.steps.append((self.used, self.regret))

    def budget_to(self, target: float) -> float:
        """The fraction of the budget spent until the regret was at most ``target`` (inf: never)."""
        return next((used / self.budget for used, regret in self.steps if regret <= target), math.inf)


@dataclass
class MOTrace:
    """The hypervolume of the full-fidelity points over the budget spent (two objectives)."""

    budget: int
    reference: tuple[float, float]
    max_t: int = MAX_T
    objectives: tuple[str, ...] = ("error", "size")
    """The result fields of the two objectives, in the reference point's order."""
    used: int = 0
    points: list[tuple[float, float]] = field(default_factory=list)
    steps: list[tuple[int, float]] = field(default_factory=list)
    """``(budget used, hypervolume)`` after each full-fidelity point."""

    @property
    def exhausted(self) -> bool:
        """True once the budget is spent."""
        return self.used >= self.budget

    @property
    def hypervolume(self) -> float:
        """The hypervolume of the points so far."""
        return self.steps[-1][1] if self.steps else 0.0

    def add(self, result: dict[str, Any]) -> None:
        """Count one result; a full-fidelity one adds its point."""
        if self.exhausted:
            return
        self.used += 1
        if result["step"] >= self.max_t:
            first, second = self.objectives
            self.points.append((result[first], result[second]))
            self.steps.append((self.used, hypervolume(self.points, self.reference)))

    def budget_to(self, target: float) -> float:
        """The fraction of the budget spent until the hypervolume was at least ``target`` (inf: never)."""
        return next((used / self.budget for used, volume in self.steps if volume >= target), math.inf)


def observe(problem: Problem, config: dict[str, Any], t: int, seed: int) -> dict[str, Any]:
    """The result a trial reports after step ``t``; at full fidelity also the config's regret (for the trace)."""
    result: dict[str, Any] = {"value": problem.value(config, t, seed), "step": t}
    if t >= problem.max_t:
        result["final_regret"] = problem.regret(config)
    return result


def observe_mo(problem: Any, config: dict[str, Any], t: int, seed: int) -> dict[str, Any]:
    """The two-objective result after step ``t``: the problem's objectives by name, and the step."""
    return {**dict(zip(problem.objectives, problem.values(config, t, seed), strict=True)), "step": t}


# --- tunecore --------------------------------------------------------------------------------------------


class TraceStopper(tunecore.Stopper):
    """Feeds every result to a trace and ends the experiment once the budget is spent."""

    def __init__(self, trace: Trace | MOTrace) -> None:
        self.trace = trace

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Record the result; never stops a single trial."""
        self.trace.add(result)
        return False

    def stop_all(self) -> bool:
        """True once the budget is spent."""
        return self.trace.exhausted


def tunecore_trainable(
    report: Callable[[dict[str, Any], int, int], dict[str, Any]], max_t: int, seed: int, checkpoints: bool
) -> Callable[[dict[str, Any]], None]:
    """A trainable reporting ``report(config, t, seed)`` for steps 1 ... max_t, resuming from a checkpoint."""

    def train(config: dict[str, Any]) -> None:
        checkpoint = tunecore.get_checkpoint()
        start = checkpoint.to_dict()["t"] + 1 if checkpoint else 1
        for t in range(start, max_t + 1):
            if checkpoints and t in RUNGS:
                tunecore.report(report(config, t, seed), checkpoint=tunecore.Checkpoint.from_dict({"t": t}))
            else:
                tunecore.report(report(config, t, seed))

    return train


def run_tunecore(method: Method, problem: Any, seed: int, trace: Trace | MOTrace, objectives: int = 1) -> None:
    """One tunecore run of ``method`` on ``problem`` until the trace's budget is spent."""
    metric: Any = "value" if objectives == 1 else list(problem.objectives)
    mode: Any = "min" if objectives == 1 else ["min"] * len(problem.objectives)

    def report(config: dict[str, Any], t: int, seed: int) -> dict[str, Any]:
        return observe(problem, config, t, seed) if objectives == 1 else observe_mo(problem, config, t, seed)

    with tempfile.TemporaryDirectory(prefix="quality-") as root:
        tunecore.Tuner(
            tunecore_trainable(report, problem.max_t, seed, method.checkpoints),
            param_space=problem.space,
            tune_config=tunecore.TuneConfig(
                metric=metric,
                mode=mode,
                num_samples=-1,
                seed=seed,
                searcher=method.searcher,
                searcher_options=dict(method.searcher_options),
                scheduler=method.scheduler,
                scheduler_options=dict(method.scheduler_options),
                executor="inline",
            ),
            run_config=tunecore.RunConfig(
                name="run", storage_path=root, loggers=[], verbose=0, stop=TraceStopper(trace)
            ),
        ).fit()


# --- Ray Tune --------------------------------------------------------------------------------------------


def ray_space(space: dict[str, Any]) -> dict[str, Any]:
    """A space of ``tunecore.uniform``/``choice`` domains in Ray Tune's domains."""
    from ray import tune

    out: dict[str, Any] = {}
    for key, domain in space.items():
        if domain.kind == "float" and not domain.log and domain.q is None:
            out[key] = tune.uniform(domain.low, domain.high)
        elif domain.kind == "categorical":
            out[key] = tune.choice(list(domain.categories))
        else:
            raise ValueError(f"no Ray Tune domain for {key}: {domain!r}")
    return out


@contextlib.contextmanager
def ray_cluster() -> Iterator[None]:
    """A private Ray cluster on 127.0.0.1 with 2 CPUs and no dashboard, shut down afterwards."""
    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Ray Tune's per-trial result files (json, csv, TensorBoard) off, as tunecore's loggers are: ~40% of its time
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR", _node_ip_address="127.0.0.1"
    )
    try:
        yield
    finally:
        ray.shutdown()


def run_ray(method: Method, problem: Problem, seed: int, trace: Trace) -> None:
    """Ray Tune's ASHAScheduler + OptunaSearch (TPE) on ``problem``, trials one at a time, until the budget."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    class RayTraceStopper(tune.Stopper):
        """:class:`TraceStopper` as a Ray Tune stopper (runs in the driver)."""

        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            trace.add(result)
            return False

        def stop_all(self) -> bool:
            return trace.exhausted

    max_t = problem.max_t

    def train(config: dict[str, Any]) -> None:
        for t in range(1, max_t + 1):
            tune.report(observe(problem, config, t, seed))

    with tempfile.TemporaryDirectory(prefix="quality-ray-") as root, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tune.Tuner(
            train,
            param_space=ray_space(problem.space),
            tune_config=tune.TuneConfig(
                metric="value",
                mode="min",
                search_alg=OptunaSearch(seed=seed),
                scheduler=ASHAScheduler(**ASHA),
                num_samples=trace.budget,
                max_concurrent_trials=1,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(storage_path=root, stop=RayTraceStopper(), verbose=0),
        ).fit()


# --- Optuna ----------------------------------------------------------------------------------------------


def run_optuna(method: Method, problem: Problem, seed: int, trace: Trace) -> None:
    """Optuna's TPE with its HyperbandPruner (in memory), one trial at a time, until the budget."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=f"quality-{seed}",  # the pruner's brackets hash the study's name: a fixed one is reproducible
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=problem.max_t, reduction_factor=ETA),
    )

    def suggest(trial: optuna.Trial, key: str, domain: Any) -> Any:
        if domain.kind == "float":
            return trial.suggest_float(key, domain.low, domain.high)
        return trial.suggest_categorical(key, list(domain.categories))

    def objective(trial: optuna.Trial) -> float:
        config = {key: suggest(trial, key, domain) for key, domain in problem.space.items()}
        value = math.inf
        for t in range(1, problem.max_t + 1):
            result = observe(problem, config, t, seed)
            trace.add(result)
            value = result["value"]
            if trace.exhausted:
                study.stop()
                return value
            trial.report(value, t)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=trace.budget)


# --- methods ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """One tuning method: how it runs (``kind``) and, for tunecore, its components by name."""

    name: str
    """Short name, for ``--methods`` and the tables."""
    kind: str
    """``"tunecore"``, ``"ray"`` or ``"optuna"``."""
    scheduler: str = "fifo"
    scheduler_options: dict[str, Any] = field(default_factory=dict)
    searcher: str = "random"
    searcher_options: dict[str, Any] = field(default_factory=dict)
    checkpoints: bool = False
    """Save a checkpoint at HyperBand's rungs (for schedulers that pause and resume trials)."""
    objectives: int = 1
    """1: the six problems; 2: the two-objective problem."""

    def requires(self) -> list[tuple[str, str]]:
        """The ``(kind, name)`` components it needs registered (tunecore) or the modules (others)."""
        if self.kind == "tunecore":
            return [("scheduler", self.scheduler), ("searcher", self.searcher)]
        return [("module", "ray.tune" if self.kind == "ray" else "optuna")]


METHODS: list[Method] = [
    Method("random", "tunecore"),
    Method("asha+random", "tunecore", "asha", ASHA),
    Method("asha+optuna", "tunecore", "asha", ASHA, "optuna"),
    Method("hyperband+random", "tunecore", "hyperband", HYPERBAND, checkpoints=True),
    Method("hyperband+bohb", "tunecore", "hyperband", HYPERBAND, "bohb", checkpoints=True),
    Method("asha+bohb", "tunecore", "asha", ASHA, "bohb"),
    Method("ray-asha+optuna", "ray"),
    Method("optuna-tpe+hyperband", "optuna"),
    Method("mo:random", "tunecore", objectives=2),
    Method("mo_asha+random", "tunecore", "mo_asha", ASHA, objectives=2),
    Method("mo_asha-g3+random", "tunecore", "mo_asha", {**ASHA, "grace_period": 3}, objectives=2),
]
"""Every method, in the order of the tables; the first of each ``objectives`` is the random-search baseline."""
BASELINE, MO_BASELINE = "random", "mo:random"
"""The random-search baselines of the single- and two-objective tables."""
RUNNERS: dict[str, Callable[..., None]] = {"tunecore": run_tunecore, "ray": run_ray, "optuna": run_optuna}


def by_name(name: str) -> Method:
    """The method of :data:`METHODS` called ``name``."""
    return next(method for method in METHODS if method.name == name)


def missing(method: Method) -> str | None:
    """Why ``method`` cannot run here (a component not registered, a library not installed), or None."""
    import importlib.util

    for kind, name in method.requires():
        if kind == "module":
            try:
                found = importlib.util.find_spec(name) is not None
            except ImportError:
                found = False
            if not found:
                return f"{name} is not installed"
        elif name not in registered(kind):
            return f"no {kind} named {name!r} is registered"
    return None


def registered(kind: str) -> set[str]:
    """The names of the registered components of ``kind`` (``"searcher"``, ``"scheduler"``)."""
    return set(tunecore.load_plugins({}).registry.names(kind))


# --- running and reporting -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """The runs of one method on one problem."""

    traces: list[Any]
    seconds: float


def run_all(method: Method, problem: Any, seeds: list[int], budget: int) -> Outcome:
    """Every seed's run of ``method`` on ``problem``."""
    traces: list[Any] = []
    start = time.perf_counter()
    for seed in seeds:
        trace: Any = (
            MOTrace(budget, problem.reference, problem.max_t, tuple(problem.objectives))
            if method.objectives == 2
            else Trace(budget)
        )
        if method.kind == "tunecore":
            run_tunecore(method, problem, seed, trace, method.objectives)
        else:
            RUNNERS[method.kind](method, problem, seed, trace)
        traces.append(trace)
    return Outcome(traces, time.perf_counter() - start)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """The 25th, 50th and 75th percentiles (linear interpolation; inf allowed)."""
    ordered = sorted(values)

    def at(q: float) -> float:
        position = q * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        if low == high or ordered[high] == ordered[low]:
            return ordered[low]
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return at(0.25), at(0.5), at(0.75)


def fmt_budget(fraction: float) -> str:
    """A budget fraction, or ``>1`` when not reached within the budget."""
    return ">1" if math.isinf(fraction) else f"{fraction:.2f}"


def fmt(value: float) -> str:
    """A regret with 4 significant digits."""
    return "inf" if math.isinf(value) else f"{value:.4g}"


@dataclass
class ProblemFigures:
    """The per-method figures of one problem."""

    target: float
    regret: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    budget: dict[str, float] = field(default_factory=dict)
    reached: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def single_objective(problem: Problem, methods: list[Method], seeds: list[int], budget: int) -> ProblemFigures:
    """Run and print one problem's table; random search first (its median final regret is the target)."""
    outcomes = {method.name: run_all(method, problem, seeds, budget) for method in methods}
    baseline = outcomes.get(BASELINE) or next(iter(outcomes.values()))
    target = statistics.median(trace.regret for trace in baseline.traces)
    figures = ProblemFigures(target)
    print(f"\n{problem.name}: {problem.description}; optimum {problem.optimum:.6g}; target regret {fmt(target)}")
    print(f"  {'method':<22} {'median regret':>13} {'IQR':>21} {'budget to target':>16} {'reached':>7} {'s/run':>6}")
    for name, outcome in outcomes.items():
        regrets = [trace.regret for trace in outcome.traces]
        q1, q2, q3 = quartiles(regrets)
        fractions = [trace.budget_to(target) for trace in outcome.traces]
        reached = sum(not math.isinf(f) for f in fractions)
        figures.regret[name], figures.budget[name] = (q1, q2, q3), statistics.median_low(fractions)
        figures.reached[name], figures.seconds[name] = reached, outcome.seconds / len(seeds)
        iqr = f"[{fmt(q1)}, {fmt(q3)}]"
        print(
            f"  {name:<22} {fmt(q2):>13} {iqr:>21} {fmt_budget(figures.budget[name]):>16}"
            f" {reached:>4}/{len(seeds):<2} {figures.seconds[name]:>6.2f}"
        )
    return figures


def two_objective(methods: list[Method], seeds: list[int], budget: int, problem: Any = None) -> dict[str, Any]:
    """Run and print one two-objective problem's table (default ``digits-size``); the target is random search's
    median final hypervolume."""
    problem = problem or DigitsSizeProblem()
    outcomes = {method.name: run_all(method, problem, seeds, budget) for method in methods}
    baseline = outcomes.get(MO_BASELINE) or next(iter(outcomes.values()))
    target = statistics.median(trace.hypervolume for trace in baseline.traces)
    best = problem.best_hypervolume()
    print(
        f"\n{problem.name}: {problem.description}; reference point {problem.reference}; largest hypervolume"
        f" {best:.4f}; target (random search's median final hypervolume) {target:.4f}"
    )
    print(f"  {'method':<22} {'median HV':>10} {'IQR':>19} {'budget to target':>16} {'reached':>7} {'s/run':>6}")
    figures: dict[str, Any] = {"target": target, "best": best, "seeds": len(seeds)}
    for name, outcome in outcomes.items():
        q1, q2, q3 = quartiles([trace.hypervolume for trace in outcome.traces])
        fractions = [trace.budget_to(target) for trace in outcome.traces]
        reached = sum(not math.isinf(f) for f in fractions)
        figures[name] = {"hv": (q1, q2, q3), "budget": statistics.median_low(fractions), "reached": reached}
        print(
            f"  {name:<22} {q2:>10.4f} {f'[{q1:.4f}, {q3:.4f}]':>19} {fmt_budget(statistics.median_low(fractions)):>16}"
            f" {reached:>4}/{len(seeds):<2} {outcome.seconds / len(seeds):>6.2f}"
        )
    return figures


def summary(figures: dict[str, ProblemFigures], mo: dict[str, Any] | None, more: dict[str, Any] | None = None) -> None:
    """Print the targets of issue 18, met or missed, with the counts."""
    print("\ntargets (issue 18):")
    for rival in ("asha+random", "ray-asha+optuna", "asha+optuna", "optuna-tpe+hyperband"):
        pairs = [(name, f) for name, f in figures.items() if "hyperband+bohb" in f.regret and rival in f.regret]
        if not pairs:
            print(f"  bohb <= {rival}: not measured (one of them did not run)")
            continue
        wins = [name for name, f in pairs if f.regret["hyperband+bohb"][1] <= f.regret[rival][1]]
        verdict = "met" if len(wins) >= 4 and len(pairs) == 6 else ("missed" if len(pairs) == 6 else "partial run")
        if rival not in TARGET_RIVALS:
            verdict = "for information, not a target"
        detail = ", ".join(
            f"{name} {fmt(f.regret['hyperband+bohb'][1])} vs {fmt(f.regret[rival][1])}" for name, f in pairs
        )
        goal = " (>= 4 of 6)" if rival in TARGET_RIVALS else ""
        print(f"  bohb median regret <= {rival}'s on {len(wins)} of {len(pairs)} problems{goal}: {verdict}")
        print(f"    {detail}")
    if mo is None or "mo_asha+random" not in mo:
        print("  mo_asha: not measured (it did not run)")
    else:
        fraction, reached = mo["mo_asha+random"]["budget"], mo["mo_asha+random"]["reached"]
        verdict = "met" if fraction <= MO_TARGET else "missed"
        print(
            f"  mo_asha reaches random search's final hypervolume with {fmt_budget(fraction)} of its budget (lower"
            f" median; {reached} of {mo['seeds']} seeds within the whole budget) (<= {MO_TARGET:.3f}): {verdict}"
        )
        if verdict == "missed":
            print("    every schedule, and a perfect low-fidelity signal: benchmarks/mo_asha_schedules.py")
    infos = {**({DigitsSizeProblem.name: mo} if mo else {}), **(more or {})}
    for name, other in infos.items():  # the other rows and two-objective problems: for information
        rows = [key for key in other if key.startswith("mo_asha") and (other is not mo or key != "mo_asha+random")]
        for method in rows:
            fraction, reached = other[method]["budget"], other[method]["reached"]
            print(
                f"  {name} (for information, not the target): {method} reaches random search's final hypervolume"
                f" with {fmt_budget(fraction)} of its budget ({reached} of {other['seeds']} seeds)"
            )


def parse_list(value: str | None, known: list[str], what: str) -> list[str]:
    """A comma-separated selection, checked against ``known`` (all of them when None)."""
    if value is None:
        return known
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return chosen


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the libraries' warnings and log lines (Optuna's "new study" line, Ray's) while the runs go."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("ray").setLevel(logging.ERROR)
        with contextlib.suppress(ImportError):
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
        yield


def main(argv: list[str] | None = None) -> None:
    """Run the selected problems and methods and print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per method and problem (default 10)")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="the first seed (default 0; e.g. 10 for a second set of seeds)"
    )
    parser.add_argument("--problems", help="comma-separated problem names (default: all six, digits-size, zdt1-mf)")
    parser.add_argument("--methods", help="comma-separated method names (default: all that can run)")
    parser.add_argument("--full-trials", type=int, default=FULL_TRIALS, help="budget in full-fidelity trials")
    parser.add_argument("--list", action="store_true", help="list the problems and methods, and exit")
    args = parser.parse_args(argv)
    single = problems()
    names = [*single, DigitsSizeProblem.name, ZDT1Problem.name]
    if args.list:
        for problem in [*single.values(), DigitsSizeProblem, ZDT1Problem]:
            print(f"problem {problem.name:<22} {problem.description}")
        for method in METHODS:
            why = missing(method)
            print(f"method  {method.name:<22} {method.kind}" + (f"  (cannot run: {why})" if why else ""))
        return
    chosen_problems = parse_list(args.problems, names, "problems")
    chosen = parse_list(args.methods, [m.name for m in METHODS], "methods")
    methods = []
    for method in METHODS:
        if method.name not in chosen:
            continue
        why = missing(method)
        if why:
            print(f"skipping {method.name}: {why}", file=sys.stderr)
        else:
            methods.append(method)
    seeds, budget = list(range(args.first_seed, args.first_seed + args.seeds)), args.full_trials * MAX_T
    print(
        f"budget {budget} steps per run ({args.full_trials} full-fidelity trials of {MAX_T} steps),"
        f" {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}),"
        f" trials one at a time; regret of the best full-fidelity observation"
    )
    start = time.perf_counter()
    one = [m for m in methods if m.objectives == 1]
    two = [m for m in methods if m.objectives == 2]
    with quiet(), ray_cluster() if any(m.kind == "ray" for m in one) else contextlib.nullcontext():
        figures = {
            name: single_objective(single[name], one, seeds, budget)
            for name in chosen_problems
            if name in single and one
        }
        mo = two_objective(two, seeds, budget) if DigitsSizeProblem.name in chosen_problems and two else None
        zdt = ZDT1Problem.name in chosen_problems and two
        more = {ZDT1Problem.name: two_objective(two, seeds, budget, ZDT1Problem())} if zdt else {}
    summary(figures, mo, more)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
