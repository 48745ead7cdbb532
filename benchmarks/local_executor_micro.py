"""Micro-benchmark of the ``local`` executor's transport, with a handler that always answers CONTINUE.

Run: ``python benchmarks/local_executor_micro.py [--workers 2] [--repeat 3]``. Prints

* results/s: 20 trials x 500 results each on 2 workers (every result is answered, pipelined);
* per-trial overhead: 1,000 trials x 1 result, wall time per trial amortized over the pool;
* start latency: from ``start()`` to the first trial's first line of code.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from tunecore.builtin.local_executor import LocalExecutor
from tunecore.protocols import CONTINUE, Decision
from tunecore.runner import TrialLaunch
from tunecore.session import report


def train(config: dict[str, Any]) -> dict[str, Any] | None:
    """Report ``config["n"]`` tiny results; the last one as the returned dict."""
    if config.get("started_at"):
        return {"started": time.time()}
    for i in range(config["n"] - 1):
        report({"loss": 1.0 / (i + 1)})
    return {"loss": 0.0}


class NoopHandler:
    """Counts results and ends; answers CONTINUE."""

    def __init__(self) -> None:
        self.results = 0
        self.ended = 0
        self.last: dict[str, Any] | None = None

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        """Count the result."""
        self.results += 1
        self.last = result
        return CONTINUE

    def on_trial_end(self, trial_id: str, outcome: str, error: str | None) -> None:
        """Count the end; fail loudly on errors."""
        if outcome != "completed":
            raise RuntimeError(f"trial {trial_id} ended {outcome}: {error}")
        self.ended += 1


def drive(workers: int, trials: int, results_per_trial: int, trial_dir: str) -> tuple[float, NoopHandler]:
    """Run ``trials`` trials through a started executor; return the seconds from first launch to last end."""
    handler = NoopHandler()
    executor = LocalExecutor(num_workers=workers, num_cpus=workers)
    executor.start(train, handler)
    try:
        # warm up: every worker has imported and unpickled the trainable
        for i in range(workers):
            executor.launch(TrialLaunch(f"warm{i}", {"n": 1}, trial_dir))
        while executor.running():
            executor.process(1.0)
        handler.results = handler.ended = 0
        resources = {"cpu": 1.0, "gpu": 0.0}
        launched = 0
        start = time.perf_counter()
        while handler.ended < trials:
            for _ in range(min(executor.capacity(resources), trials - launched)):
                executor.launch(TrialLaunch(f"t{launched}", {"n": results_per_trial}, trial_dir))
                launched += 1
            executor.process(1.0)
        elapsed = time.perf_counter() - start
    finally:
        executor.shutdown()
    assert handler.results == trials * results_per_trial, handler.results
    return elapsed, handler


def start_latency(trial_dir: str) -> float:
    """Seconds from ``start()`` to the first trial's code running in a fresh worker."""
    handler = NoopHandler()
    executor = LocalExecutor(num_workers=2, num_cpus=2)
    began = time.time()
    executor.start(train, handler)
    executor.launch(TrialLaunch("first", {"n": 1, "started_at": True}, trial_dir))
    try:
        while executor.running():
            executor.process(1.0)
    finally:
        executor.shutdown()
    assert handler.last is not None
    return handler.last["started"] - began


def main() -> None:
    """Run the benchmarks and print the figures (best of ``--repeat``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tunecore-bench-") as trial_dir:
        throughput = []
        for _ in range(args.repeat):
            elapsed, _ = drive(args.workers, 20, 500, trial_dir)
            throughput.append(20 * 500 / elapsed)
        per_trial = []
        for _ in range(args.repeat):
            elapsed, _ = drive(args.workers, 1000, 1, trial_dir)
            per_trial.append(elapsed / 1000)
        latency = [start_latency(trial_dir) for _ in range(args.repeat)]
    print(
        f"results/s, {args.workers} workers, 20 trials x 500 results: {max(throughput):,.0f} (runs: "
        + ", ".join(f"{t:,.0f}" for t in throughput)
        + ")"
    )
    print(
        f"per-trial overhead, {args.workers} workers, 1000 trials x 1 result: {min(per_trial) * 1e3:.3f} ms (runs: "
        + ", ".join(f"{t * 1e3:.3f}" for t in per_trial)
        + ")"
    )
    print(
        f"start() to first trial running: {min(latency) * 1e3:.0f} ms (runs: "
        + ", ".join(f"{t * 1e3:.0f}" for t in latency)
        + ")"
    )


if __name__ == "__main__":
    main()
