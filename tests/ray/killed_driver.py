"""A driver for the SIGKILL test: ``python -m tests.ray.killed_driver ADDRESS STORAGE HOLD`` runs one trial of
``counter`` on the cluster at ADDRESS that waits at step 3 while the file HOLD exists."""

from __future__ import annotations

import sys

import tunecore
from tests.ray.trainables import counter


def main(address: str, storage: str, hold: str) -> None:
    """Run the experiment ``killed`` in ``storage`` (the test kills this process while it runs)."""
    tunecore.Tuner(
        counter,
        param_space={"steps": 5, "hold": hold, "hold_at": 3},
        tune_config=tunecore.TuneConfig(executor="ray", executor_options={"address": address}, seed=0),
        run_config=tunecore.RunConfig(name="killed", storage_path=storage, verbose=0),
    ).fit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
