"""An experiment that tests/core/test_durability.py runs, kills and resumes in a subprocess.

Usage::

    python crash_experiment.py run STORAGE NAME SIDE_FILE [--executor local|inline] [--trials N]
        [--iterations N] [--sleep S] [--workers N] [--kill-driver-at TRIAL:ITERATION] [--slow-flag FILE]
        [--snapshot-every-trial]
    python crash_experiment.py resume EXPERIMENT_DIR [--num-samples N]

``run`` starts a seeded experiment of ``--trials`` trials (``x`` uniform in [0, 1], seed ``SEED``) on the
local executor with 2 workers (or inline); its function trainable reports ``--iterations`` results,
sleeping ``--sleep`` seconds before each, checkpoints every ``CHECKPOINT_EVERY`` iterations with
``Checkpoint.from_dict``, continues from ``tunecore.get_checkpoint()`` and appends
``trial_id start_iteration context_start_iteration pid`` to ``SIDE_FILE`` at each start.
With ``--kill-driver-at t00003:5`` (inline executor) the trainable SIGKILLs the driver once, before that
iteration: a crash at a known moment. With ``--slow-flag FILE`` iterations last ``SLOW_FACTOR`` times
longer while FILE exists (slow trials to interrupt, fast ones to resume). With ``--snapshot-every-trial`` the
searcher is a subclass of ``random`` that does not say it is replayable: the components are snapshotted at
every trial creation and end (both snapshot files exist early), not at most once a second. ``resume`` continues the
experiment with ``Tuner.restore``. Both print ``DONE <number of trials>`` when ``fit()`` returned.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

import tunecore
import tunecore.builtin.searchers

CHECKPOINT_EVERY = 3
SEED = 1234
DRIVER_ENV = "CRASH_EXPERIMENT_DRIVER_PID"
SLOW_FACTOR = 10


def train(config):
    """Counts to ``config["iterations"]`` with a checkpoint every CHECKPOINT_EVERY iterations."""
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["iteration"] if checkpoint is not None else 0
    context = tunecore.get_context()
    line = f"{context.trial_id} {start} {context.start_iteration} {os.getpid()}\n".encode()
    fd = os.open(config["side"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one O_APPEND write: whole lines even with several writers
    finally:
        os.close(fd)
    for iteration in range(start + 1, config["iterations"] + 1):
        slow = config["slow_flag"] is not None and os.path.exists(config["slow_flag"])
        time.sleep(config["sleep"] * (SLOW_FACTOR if slow else 1))
        if f"{context.trial_id}:{iteration}" == config["kill_at"] and _kill_driver_once(config["kill_flag"]):
            os.kill(os.getpid(), signal.SIGKILL)  # the inline executor: this process is the driver
        saved = None
        if iteration % CHECKPOINT_EVERY == 0:
            saved = tunecore.Checkpoint.from_dict({"iteration": iteration, "x": config["x"]})
        tunecore.report({"loss": (config["x"] - 0.5) ** 2 + 1.0 / iteration, "step": iteration}, checkpoint=saved)


class UnsaidRandom(tunecore.builtin.searchers.RandomSearcher):
    """The random searcher, not saying it is ``replayable`` (a subclass must say it itself)."""


def _kill_driver_once(flag: str | None) -> bool:
    """True the first time only, and only in the driver process of this script (never in a test's process)."""
    if flag is None or os.environ.get(DRIVER_ENV) != str(os.getpid()):
        return False
    try:
        os.close(os.open(flag, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run")
    run.add_argument("storage")
    run.add_argument("name")
    run.add_argument("side")
    run.add_argument("--executor", default="local", choices=("local", "inline"))
    run.add_argument("--trials", type=int, default=8)
    run.add_argument("--iterations", type=int, default=12)
    run.add_argument("--sleep", type=float, default=0.015)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--kill-driver-at", metavar="TRIAL:ITERATION", help="inline executor: SIGKILL the driver once")
    run.add_argument("--slow-flag", metavar="FILE", help="iterations last SLOW_FACTOR times longer while FILE exists")
    run.add_argument("--snapshot-every-trial", action="store_true", help="a searcher that is not replayable")
    resume = verbs.add_parser("resume")
    resume.add_argument("path")
    resume.add_argument("--num-samples", type=int)
    args = parser.parse_args(argv)
    os.environ[DRIVER_ENV] = str(os.getpid())
    if args.verb == "run":
        kill_at, kill_flag = None, None
        if args.kill_driver_at:
            kill_at, kill_flag = args.kill_driver_at, os.path.abspath(args.side) + ".killed"
        options = {"num_workers": args.workers} if args.executor == "local" else {}
        tuner = tunecore.Tuner(
            train,
            param_space={
                "x": tunecore.uniform(0, 1),
                "side": os.path.abspath(args.side),
                "iterations": args.iterations,
                "sleep": args.sleep,
                "kill_at": kill_at,
                "kill_flag": kill_flag,
                "slow_flag": os.path.abspath(args.slow_flag) if args.slow_flag else None,
            },
            tune_config=tunecore.TuneConfig(
                metric="loss",
                mode="min",
                num_samples=args.trials,
                seed=SEED,
                executor=args.executor,
                executor_options=options,
                searcher=UnsaidRandom() if args.snapshot_every_trial else "random",
            ),
            run_config=tunecore.RunConfig(name=args.name, storage_path=args.storage, loggers=[], verbose=0),
        )
    else:
        tuner = tunecore.Tuner.restore(args.path, num_samples=args.num_samples)
    grid = tuner.fit()
    print(f"DONE {len(grid)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
