"""A driver over Ray Client for the tune-ray tests: ``python -m tests.ray.client_driver ADDRESS STORAGE`` runs
one trial of :func:`flaky` with ``checkpoint_sync="driver"`` and one retry, and prints its results as JSON."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import tunecore


def flaky(config: dict[str, Any]) -> None:
    """Count to 4 from the launch's checkpoint, one checkpoint per step, printing each; the first launch's
    process exits at step 3 (defined here: pickled by value, as a Ray Client cluster cannot import the tests)."""
    checkpoint = tunecore.get_checkpoint()
    count = checkpoint.to_dict()["count"] if checkpoint else 0
    for step in range(tunecore.get_context().start_iteration + 1, 5):
        if step == 3 and not os.path.exists(config["once"]):
            open(config["once"], "w").close()
            os._exit(1)
        count += 1
        print(f"step {step} count {count}")
        tunecore.report(
            {"count": count, "restored": checkpoint is not None, "workdir": tunecore.get_context().trial_dir},
            checkpoint=tunecore.Checkpoint.from_dict({"count": count}),
        )


def main(address: str, storage: str) -> None:
    grid = tunecore.Tuner(
        flaky,
        param_space={"once": os.path.join(storage, "once")},
        tune_config=tunecore.TuneConfig(
            executor="ray", executor_options={"address": address, "checkpoint_sync": "driver"}, seed=0
        ),
        run_config=tunecore.RunConfig(
            name="client", storage_path=storage, verbose=0, failure_config=tunecore.FailureConfig(max_failures=1)
        ),
    ).fit()
    (trial,) = grid
    print(
        json.dumps(
            {
                "status": trial.status,
                "error": trial.error,
                "history": trial.metrics_history,
                "checkpoint": trial.checkpoint.path if trial.checkpoint else None,
                "path": trial.path,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
