"""tune-bayesopt: suggestion latency next to the raw libraries, and search quality next to random search.

Run: ``.venv/bin/python benchmarks/bayesopt.py [--quick]``.

(a) Latency: with N finished trials (100, 500, 1,000), the time of one trial cycle — suggest, then tell its
    result — through each searcher and through the library used directly for the same work (Optuna
    ask/tell on an in-memory study, Hyperopt's ``tpe.suggest`` on a ``Trials``, scikit-optimize's
    ``Optimizer.ask``/``tell``), interleaved, median over the cycles. The searchers are told the N trials as
    ``evaluated_rewards``; the libraries get the same points their own way. Also the time to pickle the
    searcher's ``save()`` state (what tunecore snapshots after every suggestion and trial end).
    scikit-optimize's GP refits and re-optimises on every tell (O(N^3)): a few cycles at 100 and 500, none at
    1,000 (one fit takes over a minute there). The full run takes about 10 minutes on the 2-core machine.
(b) Quality: median simple regret (best value found - global minimum) over 10 seeds after 50 evaluations
    on Branin (2-d) and Hartmann-6 (6-d), each searcher next to tunecore's ``random`` searcher.

BLAS is limited to one thread: on the 2-core machine a second thread only waits on these small matrices.
"""

from __future__ import annotations

import argparse
import math
import pickle
import statistics
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

import tunecore
from tunecore.space import flatten

BRANIN_MIN = 0.397887357729738
HARTMANN6_MIN = -3.322368011391339
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def branin(x1: float, x2: float) -> float:
    """The Branin function on [-5, 10] x [0, 15]; its minimum is 0.397887."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(x: list[float]) -> float:
    """The Hartmann-6 function on [0, 1]^6; its minimum is -3.32237."""
    inner = np.sum(_H_A * (np.asarray(x) - _H_P) ** 2, axis=1)
    return float(-np.sum(_H_ALPHA * np.exp(-inner)))


PROBLEMS = {
    "Branin": (
        {"x1": tunecore.uniform(-5, 10), "x2": tunecore.uniform(0, 15)},
        lambda c: branin(c["x1"], c["x2"]),
        BRANIN_MIN,
    ),
    "Hartmann-6": (
        {f"x{i}": tunecore.uniform(0, 1) for i in range(6)},
        lambda c: hartmann6([c[f"x{i}"] for i in range(6)]),
        HARTMANN6_MIN,
    ),
}

# --- (a) latency -----------------------------------------------------------------------------------------

LATENCY_SPACE = {
    "x": tunecore.uniform(-5, 10),
    "y": tunecore.uniform(0, 15),
    "lr": tunecore.loguniform(1e-4, 1e-1),
    "n": tunecore.randint(1, 10),
    "act": tunecore.choice(["relu", "tanh", "gelu"]),
}
ACTS = ["relu", "tanh", "gelu"]


def latency_loss(c: dict[str, Any]) -> float:
    """The loss of a LATENCY_SPACE config: Branin plus small terms for the other parameters."""
    return branin(c["x"], c["y"]) + math.log10(c["lr"]) ** 2 / 10 + c["n"] / 10 + ACTS.index(c["act"]) / 10


def finished_points(count: int, seed: int) -> tuple[list[dict[str, Any]], list[float]]:
    """``count`` random configs of LATENCY_SPACE and their losses: the finished trials."""
    rng = np.random.default_rng(seed)
    points = [tunecore.space.sample_config(LATENCY_SPACE, rng) for _ in range(count)]
    return points, [latency_loss(p) for p in points]


class Ours:
    """A tune-bayesopt searcher, warm-started with the finished trials."""

    def __init__(self, name: str, options: dict[str, Any], points: list[dict[str, Any]], losses: list[float]):
        plugins = tunecore.load_plugins({})
        options = {**options, "points_to_evaluate": points, "evaluated_rewards": losses}
        self.searcher = plugins.create("searcher", name, options)
        self.searcher.setup(LATENCY_SPACE, "loss", "min", 0, -1)
        self.count = 0

    def cycle(self) -> None:
        """Suggest one config and tell its loss."""
        self.count += 1
        trial_id = f"t{self.count:05d}"
        config = self.searcher.suggest(trial_id)
        self.searcher.on_trial_complete(trial_id, {"loss": latency_loss(config)})

    def save_ms(self) -> float:
        """Milliseconds to pickle the searcher's save() state."""
        start = time.perf_counter()
        pickle.dumps(self.searcher.save())
        return (time.perf_counter() - start) * 1000


class RawOptuna:
    """Optuna's ask/tell on an in-memory study with TPE (constant liar), as a user would write it."""

    def __init__(self, points: list[dict[str, Any]], losses: list[float]):
        import optuna
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.dists = {
            "x": FloatDistribution(-5, 10),
            "y": FloatDistribution(0, 15),
            "lr": FloatDistribution(1e-4, 1e-1, log=True),
            "n": IntDistribution(1, 9),
            "act": CategoricalDistribution(ACTS),
        }
        sampler = optuna.samplers.TPESampler(seed=0, constant_liar=True)
        self.study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=sampler)
        self.study.add_trials(
            [
                optuna.trial.create_trial(params=p, distributions=self.dists, value=v)
                for p, v in zip(points, losses, strict=True)
            ]
        )

    def cycle(self) -> None:
        """Ask one trial and tell its loss."""
        trial = self.study.ask(self.dists)
        self.study.tell(trial, latency_loss(trial.params))


class RawHyperopt:
    """Hyperopt's tpe.suggest on a Trials object, one trial at a time (as Ray Tune drives it)."""

    def __init__(self, points: list[dict[str, Any]], losses: list[float]):
        import hyperopt
        from hyperopt import hp

        self.hyperopt = hyperopt
        space = {
            "x": hp.uniform("x", -5, 10),
            "y": hp.uniform("y", 0, 15),
            "lr": hp.loguniform("lr", math.log(1e-4), math.log(1e-1)),
            "n": hp.quniform("n", 0.5, 9.5, 1),
            "act": hp.choice("act", ACTS),
        }
        self.domain = hyperopt.Domain(lambda config: config, space)
        self.trials = hyperopt.Trials()
        self.rng = np.random.default_rng(0)
        docs = []
        for point, loss in zip(points, losses, strict=True):
            (tid,) = self.trials.new_trial_ids(1)
            vals = {**point, "act": ACTS.index(point["act"])}
            misc = {"tid": tid, "cmd": self.domain.cmd, "workdir": None, "idxs": {k: [tid] for k in vals}}
            misc["vals"] = {k: [v] for k, v in vals.items()}
            (doc,) = self.trials.new_trial_docs([tid], [None], [{"loss": loss, "status": "ok"}], [misc])
            doc["state"] = hyperopt.JOB_STATE_DONE
            docs.append(doc)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()

    def cycle(self) -> None:
        """Suggest one trial document with TPE, insert it, and mark it done with its loss."""
        from hyperopt import tpe

        (tid,) = self.trials.new_trial_ids(1)
        self.trials.refresh()
        docs = tpe.suggest([tid], self.domain, self.trials, int(self.rng.integers(2**31 - 1)), verbose=False)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        config = self.hyperopt.space_eval(self.domain.expr, {k: v[0] for k, v in docs[0]["misc"]["vals"].items()})
        doc = self.trials.trials[-1]
        doc["result"] = {"loss": latency_loss({**config, "n": round(config["n"])}), "status": "ok"}
        doc["state"] = self.hyperopt.JOB_STATE_DONE
        self.trials.refresh()


class RawSkopt:
    """scikit-optimize's Optimizer (GP, gp_hedge), ask then tell."""

    def __init__(self, points: list[dict[str, Any]], losses: list[float]):
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        dims = [Real(-5, 10), Real(0, 15), Real(1e-4, 1e-1, prior="log-uniform"), Integer(1, 9), Categorical(ACTS)]
        self.optimizer = Optimizer(dims, base_estimator="GP", n_initial_points=10, random_state=0, model_queue_size=1)
        self.names = ["x", "y", "lr", "n", "act"]
        self.optimizer.tell([[p[k] for k in self.names] for p in points], losses)

    def cycle(self) -> None:
        """Ask one point and tell its loss."""
        x = self.optimizer.ask()
        self.optimizer.tell(x, latency_loss(dict(zip(self.names, x, strict=True))))


SKIPPED = {"skopt": "one GP fit takes 75-90 s at N=1,000 on the 2-core machine (23 s at 500)"}
LATENCY_CASES = [
    ("optuna (tpe)", "optuna", {}, RawOptuna),
    ("hyperopt (tpe)", "hyperopt", {}, RawHyperopt),
    ("skopt (GP)", "skopt", {}, RawSkopt),
]


def latency(sizes: list[int], cycles: dict[str, dict[int, int]]) -> None:
    """Print table (a): ``cycles[name][size]`` interleaved cycles per searcher and size."""
    print("(a) one trial cycle (suggest + tell), median ms, with N finished trials")
    print(f"{'searcher':<16} {'N':>6} {'cycles':>6} {'searcher':>10} {'library':>10} {'ratio':>7} {'save()':>8}")
    for label, name, options, raw_class in LATENCY_CASES:
        for size in sizes:
            count = cycles[name].get(size, 0)
            if not count:
                print(f"{label:<16} {size:>6}   not measured: {SKIPPED.get(name, 'too slow for this run')}")
                continue
            points, losses = finished_points(size, seed=size)
            ours, raw = Ours(name, options, points, losses), raw_class(points, losses)
            if name != "skopt":  # warm up (skopt's first cycle costs the same as the others: one fit)
                ours.cycle(), raw.cycle()
            ours_ms, raw_ms = [], []
            pairs = [(ours, ours_ms), (raw, raw_ms)]
            for index in range(count):  # interleaved, alternating which goes first (the second runs warmer)
                for runner, times in pairs if index % 2 == 0 else pairs[::-1]:
                    start = time.perf_counter()
                    runner.cycle()
                    times.append((time.perf_counter() - start) * 1000)
            a, b = statistics.median(ours_ms), statistics.median(raw_ms)
            print(f"{label:<16} {size:>6} {count:>6} {a:>10.2f} {b:>10.2f} {a / b:>7.2f} {ours.save_ms():>8.2f}")


# --- (b) quality -----------------------------------------------------------------------------------------

QUALITY_CASES = [
    ("random", "random", {}),
    ("optuna (tpe)", "optuna", {}),
    ("optuna (cmaes)", "optuna", {"sampler": "cmaes"}),
    ("hyperopt (tpe)", "hyperopt", {}),
    ("skopt (GP)", "skopt", {}),
]


def best_found(name: str, options: dict[str, Any], problem: str, evals: int, seed: int) -> float:
    """The best value a searcher finds on ``problem`` in ``evals`` sequential evaluations."""
    space, function, _ = PROBLEMS[problem]
    searcher = tunecore.load_plugins({}).create("searcher", name, options)
    searcher.setup(space, "value", "min", seed, evals)
    best = math.inf
    for index in range(evals):
        trial_id = f"t{index:05d}"
        config = searcher.suggest(trial_id)
        value = function(flatten(config))
        searcher.on_trial_complete(trial_id, {"value": value})
        best = min(best, value)
    return best


def quality(seeds: int, evals: int) -> None:
    """Print table (b): median regret per searcher and problem, and its ratio to random search."""
    print(f"\n(b) median simple regret after {evals} evaluations over {seeds} seeds (lower is better)")
    print(f"{'searcher':<16} {'problem':<11} {'regret':>10} {'vs random':>10} {'s/run':>7}")
    for problem, (_, _, minimum) in PROBLEMS.items():
        baseline = None
        for label, name, options in QUALITY_CASES:
            start = time.perf_counter()
            regrets = [best_found(name, options, problem, evals, seed) - minimum for seed in range(seeds)]
            seconds = (time.perf_counter() - start) / seeds
            regret = statistics.median(regrets)
            baseline = regret if baseline is None else baseline
            print(f"{label:<16} {problem:<11} {regret:>10.4f} {regret / baseline:>10.2f} {seconds:>7.2f}")


def main() -> None:
    """Run both parts (small ones with --quick)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few cycles and seeds")
    args = parser.parse_args()
    import scipy.linalg  # noqa: F401  load every BLAS before limiting them
    import skopt  # noqa: F401

    with threadpool_limits(limits=1, user_api="blas"):
        if args.quick:
            cycles = {"optuna": {100: 5}, "hyperopt": {100: 5}, "skopt": {100: 2}}
            latency([100], cycles)
            quality(seeds=2, evals=15)
        else:
            cycles = {
                "optuna": {100: 40, 500: 30, 1000: 30},
                "hyperopt": {100: 40, 500: 30, 1000: 30},
                "skopt": {100: 5, 500: 2},
            }
            latency([100, 500, 1000], cycles)
            quality(seeds=10, evals=50)


if __name__ == "__main__":
    main()
