"""tunecore's ``ray`` executor against Ray Tune, on the same local Ray, in one run.

Run: ``.venv/bin/python benchmarks/ray_executor.py [--quick]``. Workloads use no-op trainables, one CPU per
trial, on a local Ray of 2 CPUs (bound to 127.0.0.1, no dashboard, output not sent to the driver):

(a) 1,000 trials x 1 result   -> per-trial overhead (ms per trial)
(b) 20 trials x 500 results   -> results per second
(c) with ``--checkpoints MB``: 8 trials x 4 results, each with a checkpoint of MB megabytes, under
    ``checkpoint_sync="driver"`` (through Ray's object store) -> checkpoint megabytes per second to the driver

tunecore runs with the loggers off (``loggers=[]``) and with its default loggers; Ray Tune 2.60 with
``reuse_actors=True`` (its fastest setting) when ``ray[tune]`` is importable (``pip install -c
constraints-dev.txt "ray[tune]==2.60.0"``; not a dependency of tune-ray). A warm-up run of each comes first
(actors started, imports done). Targets: 5x lighter per trial and 5x the results per second.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from typing import Any

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # every address Ray resolves stays on loopback

import tunecore


def one_result(config: dict[str, Any]) -> None:
    """One result."""
    tunecore.report({"loss": config["x"]})


def many_results(config: dict[str, Any]) -> None:
    """``n`` results."""
    for i in range(config["n"]):
        tunecore.report({"loss": float(i)})


def checkpoints(config: dict[str, Any]) -> None:
    """``n`` results, each with a checkpoint of ``mb`` megabytes."""
    directory = os.path.join(tunecore.get_context().trial_dir, "out")
    os.makedirs(directory, exist_ok=True)
    data = random.Random(0).randbytes(config["mb"] * 1_000_000)
    for i in range(config["n"]):
        with open(os.path.join(directory, "weights"), "wb") as file:
            file.write(data)
        tunecore.report({"loss": float(i)}, checkpoint=tunecore.Checkpoint.from_directory(directory))


def run_tunecore(
    trainable: Any, space: dict[str, Any], num_samples: int, storage: str, loggers: Any, **options: Any
) -> float:
    """Seconds for one tunecore experiment on the ``ray`` executor."""
    extra = {} if loggers is None else {"loggers": loggers}
    tuner = tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=num_samples, executor="ray", executor_options=options, seed=0
        ),
        run_config=tunecore.RunConfig(storage_path=storage, verbose=0, **extra),
    )
    start = time.perf_counter()
    tuner.fit()
    return time.perf_counter() - start


def tunecore_figures(trials: int, results: int, loggers: Any) -> dict[str, float]:
    """ms per trial and results per second of tunecore + ray."""
    with tempfile.TemporaryDirectory() as storage:
        run_tunecore(one_result, {"x": tunecore.uniform(0, 1)}, 4, storage, loggers)  # warm-up
        one = run_tunecore(one_result, {"x": tunecore.uniform(0, 1)}, trials, storage, loggers)
        many = run_tunecore(many_results, {"n": results}, 20, storage, loggers)
    return {"ms_per_trial": 1000 * one / trials, "results_per_s": 20 * results / many}


def checkpoint_figures(megabytes: int) -> float:
    """Checkpoint megabytes per second from the trials to the driver's storage (checkpoint_sync="driver")."""
    with tempfile.TemporaryDirectory() as storage:
        space = {"mb": megabytes, "n": 4}
        seconds = run_tunecore(checkpoints, space, 8, storage, [], checkpoint_sync="driver")
    return 8 * 4 * megabytes / seconds


def ray_tune_figures(trials: int, results: int) -> dict[str, float] | None:
    """The same workloads through Ray Tune (None when ``ray[tune]`` is not importable)."""
    try:
        from ray import tune
    except ImportError:
        return None

    def ray_one(config: dict[str, Any]) -> None:
        tune.report({"loss": config["x"]})

    def ray_many(config: dict[str, Any]) -> None:
        for i in range(config["n"]):
            tune.report({"loss": float(i)})

    def fit(trainable: Any, space: dict[str, Any], num_samples: int, storage: str) -> float:
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(num_samples=num_samples, reuse_actors=True),
            run_config=tune.RunConfig(verbose=0, storage_path=storage),
        )
        start = time.perf_counter()
        tuner.fit()
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory() as storage:
        fit(ray_one, {"x": tune.uniform(0, 1)}, 4, storage)  # warm-up
        one = fit(ray_one, {"x": tune.uniform(0, 1)}, trials, storage)
        many = fit(ray_many, {"n": results}, 20, storage)
    return {"ms_per_trial": 1000 * one / trials, "results_per_s": 20 * results / many}


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 x 1 and 20 x 100 (a smoke run)")
    parser.add_argument("--checkpoints", type=int, metavar="MB", help="also (c): checkpoints of MB megabytes")
    args = parser.parse_args()
    trials, results = (200, 100) if args.quick else (1000, 500)

    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        rows = {
            "tunecore+ray (loggers=[])": tunecore_figures(trials, results, []),
            "tunecore+ray (default loggers)": tunecore_figures(trials, results, None),
        }
        baseline = ray_tune_figures(trials, results)
        transfer = checkpoint_figures(args.checkpoints) if args.checkpoints else None
    finally:
        ray.shutdown()
    print(f"{trials} trials x 1 result, 20 trials x {results} results, local Ray of 2 CPUs, {os.cpu_count()} cores")
    print(f"{'':34} {'ms/trial':>10} {'results/s':>10} {'lighter':>8} {'faster':>8}")
    if baseline is not None:
        label = "Ray Tune 2.60 (reuse_actors=True)"
        print(f"{label:34} {baseline['ms_per_trial']:10.2f} {baseline['results_per_s']:10.0f}")
    for name, row in rows.items():
        ratios = ("", "")
        if baseline is not None:
            ratios = (
                f"{baseline['ms_per_trial'] / row['ms_per_trial']:7.1f}x",
                f"{row['results_per_s'] / baseline['results_per_s']:7.1f}x",
            )
        print(f"{name:34} {row['ms_per_trial']:10.2f} {row['results_per_s']:10.0f} {ratios[0]:>8} {ratios[1]:>8}")
    if baseline is None:
        print("Ray Tune is not importable: pip install -c constraints-dev.txt 'ray[tune]==2.60.0' for the ratios")
    if transfer is not None:
        print(f"checkpoints of {args.checkpoints} MB, checkpoint_sync='driver': {transfer:.0f} MB/s to the driver")


if __name__ == "__main__":
    main()
