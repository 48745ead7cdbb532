"""The cost of durability: state persistence, checkpoint writes, and restoring a large experiment.

Run: ``.venv/bin/python benchmarks/durability.py [--quick]``. Prints every figure in one run. Only the core's
components are loaded (``TUNECORE_DISABLE_PLUGIN_AUTOLOAD=1``), whatever plugins are installed.

(a) Persistence overhead. No-op trainables on the ``inline`` executor, loggers off, seeded random searcher,
    FIFO scheduler: 2,000 trials x 1 result and 20 trials x 500 results, each under four settings:

    ``usual``    tunecore as shipped: one journal line per trial creation, status change and result, flushed
                 at every status change, every result with a checkpoint, every snapshot and at least every
                 second; a component snapshot (searcher/scheduler/stoppers ``save()``, pickle, one
                 ``pwrite`` into snapshot.0/.1) at most once a second (the random searcher and the fifo
                 scheduler are ``replayable``: the journal replays them exactly).
    ``every-trial`` usual, but a snapshot after every trial creation and every trial end, as components
                 get unless they all say they are replayable (``snapshots.REPLAYABLE_SNAPSHOT_S`` set to 0).
    ``no-snap``  ``Snapshots.take`` monkeypatched to a no-op: no ``save()``, no pickling, no snapshot
                 write, and not the journal flush that each snapshot did.
    ``lowest``   no-snap, and ``ExperimentStorage.journal`` / ``.flush`` monkeypatched so that the journal is
                 never flushed on purpose: records go into the file object's 64 KiB buffer and reach the
                 operating system only when it fills and at the end.

    What ``lowest`` still does (it cannot be turned off without editing tunecore, and ``fit()`` reads its
    results back from the journal): encode every record as a JSON line, write experiment.json and spec.pkl
    once and state.json at the end. Figures are the best of several repeats, settings interleaved.

(b) A 10 MB checkpoint written from inside a trial (``local`` executor, one worker; the checkpoint is
    stored by the worker inside ``tunecore.report``): ``Checkpoint.from_dict({"blob": 10 MB})`` (pickled
    into a temporary directory, then moved into the trial's directory: a rename, the experiment being on
    the same file system as ``$TMPDIR``) against ``Checkpoint.from_directory(dir)`` (a 10 MB file, copied
    into the trial's directory at each report); ``num_to_keep=2``. Both kinds alternate in one trial, with
    the baselines (writing the 10 MB file, copying it) measured in the same rounds: disk write-back makes
    single figures vary a lot, the median and the minimum are printed.

(c) Restore of an experiment of 10,000 finished trials (created with the ``inline`` executor, no-op
    trainable, loggers off): ``Tuner.restore(path).fit()`` with nothing left to run, in this process and
    in a fresh one (imports and plugin discovery included). Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator

import tunecore
from tunecore import snapshots
from tunecore.plugins import PluginLoadWarning
from tunecore.snapshots import Snapshots
from tunecore.storage import ExperimentStorage, dumps

CHECKPOINT_BYTES = 10 * 2**20


def one_result(config):
    tunecore.report({"loss": config["x"]})


def many_results(config):
    for i in range(config["n"]):
        tunecore.report({"loss": float(i)})


def fit(trainable, space, num_samples, storage, executor="inline", name=None, **run_kwargs):
    return tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(
            metric="loss",
            mode="min",
            num_samples=num_samples,
            seed=0,
            executor=executor,
            executor_options={"num_workers": 1} if executor == "local" else {},
        ),
        run_config=tunecore.RunConfig(name=name, storage_path=storage, loggers=[], verbose=0, **run_kwargs),
    ).fit()


# --- (a) persistence overhead --------------------------------------------------------------------------


def _journal_buffered(self, record, *, flush=False):
    """ExperimentStorage.journal without any flush: the record stays in the file object's buffer."""
    self._open_journal().write(dumps(record) + "\n")
    self.journal_records += 1


@contextlib.contextmanager
def persistence(setting: str) -> Iterator[None]:
    """Apply one setting of (a) by monkeypatching tunecore's classes for the duration."""
    saved = (Snapshots.take, ExperimentStorage.journal, ExperimentStorage.flush)
    interval = snapshots.REPLAYABLE_SNAPSHOT_S
    try:
        if setting == "every-trial":
            snapshots.REPLAYABLE_SNAPSHOT_S = 0.0
        if setting in ("no-snap", "lowest"):
            Snapshots.take = lambda self, force=False: None
        if setting == "lowest":
            ExperimentStorage.journal = _journal_buffered
            ExperimentStorage.flush = lambda self: None
        yield
    finally:
        Snapshots.take, ExperimentStorage.journal, ExperimentStorage.flush = saved
        snapshots.REPLAYABLE_SNAPSHOT_S = interval


def persistence_overhead(trials: int, results: int, repeats: int, storage: str) -> None:
    settings = ("usual", "every-trial", "no-snap", "lowest")
    workloads = {
        f"{trials:,} x 1": (one_result, {"x": tunecore.uniform(0, 1)}, trials),
        f"20 x {results}": (many_results, {"n": results}, 20),
    }
    best = {(w, s): float("inf") for w in workloads for s in settings}
    fit(one_result, {"x": tunecore.uniform(0, 1)}, 20, storage)  # warm up
    for _ in range(repeats):
        for workload, (trainable, space, count) in workloads.items():
            for setting in settings:
                with persistence(setting):
                    start = time.perf_counter()
                    grid = fit(trainable, space, count, storage)
                    wall = time.perf_counter() - start
                assert len(grid) == count and grid.num_terminated == count
                best[workload, setting] = min(best[workload, setting], wall)
    print(f"(a) persistence overhead, inline executor, no-op trainable (best of {repeats})")
    print(f"    {'workload':<12}{'setting':<13}{'ms/trial':>10}{'us/result':>11}{'vs lowest':>11}")
    for workload, (_, space, count) in workloads.items():
        per_trial_results = space.get("n", 1)
        for setting in settings:
            wall = best[workload, setting]
            print(
                f"    {workload:<12}{setting:<13}{1000 * wall / count:>10.3f}"
                f"{1e6 * wall / (count * per_trial_results):>11.1f}"
                f"{wall / best[workload, 'lowest']:>10.2f}x"
            )


# --- (b) a 10 MB checkpoint ------------------------------------------------------------------------------


def checkpoint_writer(config):
    """Each round: the two baselines, then a report with each kind of checkpoint; timings go to ``config["out"]``.

    Interleaved, in turn first and second, so that both kinds meet the same state of the disk's write-back.
    """
    blob = os.urandom(CHECKPOINT_BYTES)
    scratch, source = config["scratch"], config["source"]
    timings: dict[str, list[float]] = {key: [] for key in ("write", "copy", "dict+", "dict", "directory+", "directory")}
    for i in range(config["rounds"]):
        start = time.perf_counter()
        with open(os.path.join(scratch, "weights.bin"), "wb") as file:
            file.write(blob)
        timings["write"].append(time.perf_counter() - start)
        start = time.perf_counter()
        shutil.copytree(source, os.path.join(scratch, f"copy-{i}"))
        timings["copy"].append(time.perf_counter() - start)
        shutil.rmtree(os.path.join(scratch, f"copy-{i}"))
        for how in ("dict", "directory") if i % 2 == 0 else ("directory", "dict"):  # each goes first in turn
            start = time.perf_counter()
            if how == "dict":
                checkpoint = tunecore.Checkpoint.from_dict({"blob": blob})
            else:
                checkpoint = tunecore.Checkpoint.from_directory(source)
            created = time.perf_counter()
            tunecore.report({"loss": float(i)}, checkpoint=checkpoint)
            timings[f"{how}+"].append(created - start)
            timings[how].append(time.perf_counter() - created)
    with open(config["out"], "w") as file:
        json.dump(timings, file)


def checkpoint_writes(rounds: int, storage: str) -> None:
    source = tempfile.mkdtemp(prefix="ckpt-source-", dir=storage)
    with open(os.path.join(source, "weights.bin"), "wb") as file:
        file.write(os.urandom(CHECKPOINT_BYTES))
    out = os.path.join(storage, "checkpoint-timings.json")
    space = {
        "source": source,
        "scratch": tempfile.mkdtemp(prefix="scratch-", dir=storage),
        "out": out,
        "rounds": rounds,
    }
    keep = tunecore.CheckpointConfig(num_to_keep=2)  # older 10 MB checkpoints are deleted as the trial goes
    grid = fit(checkpoint_writer, space, 1, storage, executor="local", checkpoint_config=keep)
    assert grid[0].status == "TERMINATED", grid[0].error
    assert len(grid[0].best_checkpoints) == 2 and len(grid[0].metrics_history) == 2 * rounds
    for checkpoint, _ in grid[0].best_checkpoints:  # the last of each kind: 10 MB each, as reported
        files = [entry.path for entry in os.scandir(checkpoint.path)]
        assert sum(os.path.getsize(f) for f in files) >= CHECKPOINT_BYTES, files
    shutil.rmtree(grid.experiment_path)
    with open(out) as file:
        timings = json.load(file)

    def ms(key: str) -> str:
        values = timings[key]
        return f"{1000 * statistics.median(values):6.1f} ms (min {1000 * min(values):5.1f})"

    print(f"\n(b) a 10 MB checkpoint from inside a trial (local executor; median of {rounds} interleaved rounds)")
    print(f"    Checkpoint.from_dict:       create {ms('dict+')}, report(checkpoint=) {ms('dict')}")
    print(f"    Checkpoint.from_directory:  create {ms('directory+')}, report(checkpoint=) {ms('directory')}")
    dict_total = statistics.median(a + b for a, b in zip(timings["dict+"], timings["dict"], strict=True))
    directory_total = statistics.median(a + b for a, b in zip(timings["directory+"], timings["directory"], strict=True))
    print(
        f"    median total per checkpoint: from_dict {1000 * dict_total:.1f} ms,"
        f" from_directory {1000 * directory_total:.1f} ms"
    )
    print(f"    baselines in the same worker: writing the 10 MB file {ms('write')}, shutil.copytree of it {ms('copy')}")


# --- (c) restore of 10,000 finished trials ----------------------------------------------------------------

_COLD_RESTORE = """
import json, sys, time, warnings
start = time.perf_counter()
import tunecore
from tunecore.plugins import PluginLoadWarning
warnings.simplefilter("ignore", PluginLoadWarning)
grid = tunecore.Tuner.restore(sys.argv[1]).fit()
print(json.dumps([time.perf_counter() - start, len(grid), grid.num_terminated]))
"""


def restore_large(trials: int, storage: str) -> None:
    start = time.perf_counter()
    grid = fit(one_result, {"x": tunecore.uniform(0, 1)}, trials, storage, name="large")
    created = time.perf_counter() - start
    path = grid.experiment_path
    with open(os.path.join(path, "journal.jsonl"), "rb") as file:
        journal_lines = file.read().count(b"\n")
    start = time.perf_counter()
    tuner = tunecore.Tuner.restore(path)
    loaded = time.perf_counter() - start
    grid = tuner.fit()
    warm = time.perf_counter() - start
    assert len(grid) == trials and grid.num_terminated == trials
    with open(os.path.join(path, "journal.jsonl"), "rb") as file:
        assert file.read().count(b"\n") == journal_lines, "the restore ran something"
    done = subprocess.run([sys.executable, "-c", _COLD_RESTORE, path], capture_output=True, text=True, check=True)
    cold, count, terminated = json.loads(done.stdout.strip().splitlines()[-1])
    assert count == terminated == trials
    size = os.path.getsize(os.path.join(path, "journal.jsonl")) / 2**20
    print(f"\n(c) restore of {trials:,} finished trials ({journal_lines:,} journal lines, {size:.1f} MB)")
    print(f"    created in {created:.2f} s (inline, no-op, loggers off)")
    print(f"    Tuner.restore(path).fit(), nothing to run: {warm:.3f} s in this process (Tuner.restore {loaded:.3f} s)")
    print(f"    the same in a fresh process, imports and plugin discovery included: {cold:.3f} s")
    print(f"    target <= 2 s: {'met' if max(warm, cold) <= 2.0 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10x smaller workloads (a smoke run)")
    args = parser.parse_args()
    os.environ["TUNECORE_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the core alone, whatever plugins are installed
    warnings.simplefilter("ignore", PluginLoadWarning)
    storage = tempfile.mkdtemp(prefix="tunecore-durability-")
    try:
        if args.quick:
            persistence_overhead(200, 50, 1, storage)
            checkpoint_writes(3, storage)
            restore_large(1_000, storage)
        else:
            persistence_overhead(2_000, 500, 7, storage)
            checkpoint_writes(16, storage)
            restore_large(10_000, storage)
    finally:
        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
