"""Per-trial overhead, results per second and start-up time of tunecore's executors, next to baselines.

Run: ``.venv/bin/python benchmarks/overhead.py [--quick]``. Workloads use no-op trainables:

(a) 1,000 trials x 1 result     -> per-trial overhead (ms)
(b) 20 trials x 500 results     -> results per second
(c) time from ``fit()`` to the first trial running
(d) driver memory growth for 10,000 finished trials (inline executor, in a fresh process)

Rows: each executor with the loggers off (``loggers=[]``), with the default loggers (``+loggers``:
``json``, ``csv`` and ``console`` at ``verbose=0``, what users run), and with the ``json`` and ``csv``
loggers writing Ray Tune's per-trial files (``+per-trial files``: ``per_trial=True``; skipped on a core
that lacks the option). A short warm-up run comes first (imports and first-use costs). Workload (a) runs
``--repeat`` times (default 3) for tunecore and for Optuna, and the fastest run counts: the dev machine is a
shared VM whose speed varies from second to second. The ratio against Optuna is also measured in alternating
runs (``inline``, Optuna, ``inline``, ...), the same conditions for both. ``fit()`` returns a grid that parses
the journal at its first use; that cost is printed on its own line.

When Ray Tune or Optuna are importable, the same workloads run through them in the same process run and
the ratios are printed (Ray Tune with ``reuse_actors=True``, its fastest setting; Optuna in memory with
the random sampler). Otherwise the ratios use the reference figures measured on the 2-core dev machine:
Ray Tune 2.60 ~30 ms per trial, ~620 results/s, ~7 s to start; Optuna ~0.15 ms per trial.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

import tunecore

REFERENCE = {"ray_ms_per_trial": 30.0, "ray_results_per_s": 620.0, "ray_start_s": 7.0, "optuna_ms_per_trial": 0.15}


def one_result(config):
    tunecore.report({"loss": config["x"]})


def many_results(config):
    for i in range(config["n"]):
        tunecore.report({"loss": float(i)})


def stamp_start(config):
    with open(config["stamp"], "a") as file:
        file.write(f"{time.time()}\n")
    tunecore.report({"loss": 0.0})


PER_TRIAL_LOGGERS = [{"name": "json", "per_trial": True}, {"name": "csv", "per_trial": True}]


def run_tunecore(trainable, space, num_samples, executor, storage, loggers=None):
    tuner = tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(
            metric="loss",
            mode="min",
            num_samples=num_samples,
            seed=0,
            executor=executor,
            executor_options={"num_workers": 2} if executor == "local" else {},
        ),
        run_config=tunecore.RunConfig(storage_path=storage, loggers=loggers, verbose=0),
    )
    start = time.perf_counter()
    grid = tuner.fit()
    wall = time.perf_counter() - start
    LAST_GRID[:] = [grid]
    return wall


LAST_GRID: list = []
"""The grid the latest tunecore run returned (its journal is parsed at the first use: timed apart)."""


def tunecore_figures(executor, trials, results, storage, loggers, repeat=1):
    figures = {}
    walls = []
    for _ in range(repeat):
        walls.append(run_tunecore(one_result, {"x": tunecore.uniform(0, 1)}, trials, executor, storage, loggers))
    figures["ms_per_trial"] = 1000 * min(walls) / trials
    start = time.perf_counter()
    len(LAST_GRID[0])  # the first use parses the journal
    figures["grid_us_per_trial"] = 1e6 * (time.perf_counter() - start) / trials
    wall = run_tunecore(many_results, {"n": results}, 20, executor, storage, loggers)
    figures["results_per_s"] = 20 * results / wall
    stamp = tempfile.mktemp(prefix=f"stamp-{executor}-", dir=storage)
    begin = time.time()
    run_tunecore(stamp_start, {"stamp": stamp}, 1, executor, storage, [])
    with open(stamp) as file:
        figures["first_trial_s"] = float(file.readline()) - begin
    return figures


def optuna_figures(trials, results, repeat=1):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    walls = []
    for _ in range(repeat):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        start = time.perf_counter()
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=trials)
        walls.append(time.perf_counter() - start)
    ms_per_trial = 1000 * min(walls) / trials

    def objective(trial):
        for step in range(results):
            trial.report(float(step), step)
        return 0.0

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(objective, n_trials=20)
    return {"ms_per_trial": ms_per_trial, "results_per_s": 20 * results / (time.perf_counter() - start)}


def alternating_inline_and_optuna(trials, storage, runs):
    """ms per no-op trial of ``inline`` (loggers off) and of Optuna's in-memory loop, in alternating runs: the
    same machine conditions for both (a block of one then the other can land in a busier second)."""
    import optuna

    ours, theirs = [], []
    for _ in range(runs):
        wall = run_tunecore(one_result, {"x": tunecore.uniform(0, 1)}, trials, "inline", storage, [])
        ours.append(1000 * wall / trials)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        start = time.perf_counter()
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=trials)
        theirs.append(1000 * (time.perf_counter() - start) / trials)
    return ours, theirs


def ray_figures(trials, results):
    import ray
    from ray import tune

    def ray_one(config):
        tune.report({"loss": config["x"]})

    def ray_many(config):
        for i in range(config["n"]):
            tune.report({"loss": float(i)})

    def fit(trainable, space, num_samples):
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(num_samples=num_samples, reuse_actors=True),
            run_config=tune.RunConfig(verbose=0),
        )
        start = time.perf_counter()
        tuner.fit()
        return time.perf_counter() - start

    begin = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    fit(ray_one, {"x": tune.uniform(0, 1)}, 1)
    start_s = time.perf_counter() - begin
    figures = {"start_s": start_s}
    figures["ms_per_trial"] = 1000 * fit(ray_one, {"x": tune.uniform(0, 1)}, trials) / trials
    figures["results_per_s"] = 20 * results / fit(ray_many, {"n": results}, 20)
    ray.shutdown()
    return figures


def memory_growth(trials):
    """Driver RSS growth (MB) holding the ResultGrid of ``trials`` finished inline trials (fresh process)."""
    code = f"""
import gc, json, tempfile, tunecore
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
def f(config):
    tunecore.report({{"loss": config["x"]}})
def fit(n):
    return tunecore.Tuner(f, param_space={{"x": tunecore.uniform(0, 1)}},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=n, executor="inline"),
        run_config=tunecore.RunConfig(storage_path=tempfile.mkdtemp(), loggers=[], verbose=0)).fit()
fit(10)
gc.collect()
before = rss_mb()
grid = fit({trials})
count = len(grid)  # the first use parses the journal: the grid is held parsed
gc.collect()
print(json.dumps([rss_mb() - before, count]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth, count = json.loads(done.stdout.strip())
    assert count == trials
    return growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10x smaller workloads (a smoke run)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the per-trial workload, tunecore's and Optuna's (best counts)"
    )
    args = parser.parse_args()
    trials, results = (100, 50) if args.quick else (1000, 500)
    storage = tempfile.mkdtemp(prefix="tunecore-bench-")
    print(f"workloads: (a) {trials} trials x 1 result, (b) 20 trials x {results} results; no-op trainables")
    for executor in ("inline", "local"):  # warm-up: imports and first-use costs out of the first row
        run_tunecore(one_result, {"x": tunecore.uniform(0, 1)}, 20, executor, storage, None)
    rows = {}
    for executor in ("inline", "local"):
        rows[executor] = tunecore_figures(executor, trials, results, storage, [], args.repeat)
        rows[f"{executor} +loggers"] = tunecore_figures(executor, trials, results, storage, None, args.repeat)
    for executor in ("inline", "local"):
        try:
            figures = tunecore_figures(executor, trials, results, storage, PER_TRIAL_LOGGERS)
            rows[f"{executor} +per-trial files"] = figures
        except tunecore.TuneError as exc:  # a core without per_trial
            print(f"({executor} +per-trial files skipped: {exc})")
    baselines = {}
    try:
        baselines["optuna"] = optuna_figures(trials, results, args.repeat)
    except ImportError:
        pass
    try:
        baselines["ray"] = ray_figures(trials, results)
    except ImportError:
        pass
    print(f"{'':<24}{'ms/trial':>10}{'results/s':>12}{'first trial s':>15}")
    for name, figures in {**rows, **baselines}.items():
        first = figures.get("first_trial_s", figures.get("start_s"))
        print(
            f"{name:<24}{figures['ms_per_trial']:>10.3f}{figures['results_per_s']:>12,.0f}"
            f"{'' if first is None else f'{first:.3f}':>15}"
        )
    ray = baselines.get("ray", {})
    ray_ms = ray.get("ms_per_trial", REFERENCE["ray_ms_per_trial"])
    ray_rps = ray.get("results_per_s", REFERENCE["ray_results_per_s"])
    optuna_ms = baselines.get("optuna", {}).get("ms_per_trial", REFERENCE["optuna_ms_per_trial"])
    source = "measured" if ray else "reference"
    print(f"\nratios against Ray Tune ({source}: {ray_ms:.1f} ms/trial, {ray_rps:,.0f} results/s):")
    for name in ("local", "inline"):
        print(
            f"  {name:<7} {ray_ms / rows[name]['ms_per_trial']:6.1f}x lighter per trial,"
            f" {rows[name]['results_per_s'] / ray_rps:6.1f}x the results/s"
        )
    source = "measured" if "optuna" in baselines else "reference"
    print(f"inline vs Optuna ({source}: {optuna_ms:.3f} ms/trial): {rows['inline']['ms_per_trial'] / optuna_ms:.1f}x")
    if "optuna" in baselines:
        ours, theirs = alternating_inline_and_optuna(trials, storage, 2 * args.repeat + 4)
        print(
            f"inline vs Optuna, {len(ours)} alternating runs each: median {statistics.median(ours):.3f} vs"
            f" {statistics.median(theirs):.3f} ms/trial, {statistics.median(ours) / statistics.median(theirs):.1f}x"
            f" (best {min(ours):.3f} vs {min(theirs):.3f}, {min(ours) / min(theirs):.1f}x)"
        )
    for name in ("inline", "local"):
        added = 1000 * (rows[f"{name} +loggers"]["ms_per_trial"] - rows[name]["ms_per_trial"])
        print(f"default loggers add {added:.0f} us per trial on {name}")
    grid_us = rows["inline"]["grid_us_per_trial"]
    print(f"the grid fit() returns, parsed at its first use: {grid_us:.0f} us per trial (not in the figures above)")
    print("targets: local <= 1 ms/trial, >= 20,000 results/s, first trial <= 0.5 s; inline <= 0.3 ms/trial;")
    print("         with the default loggers, inline and local <= 0.3 ms/trial")
    if not args.quick:
        print(f"driver memory growth for 10,000 finished trials: {memory_growth(10_000):.1f} MB (target <= 100 MB)")


if __name__ == "__main__":
    main()
