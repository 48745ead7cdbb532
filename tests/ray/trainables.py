"""Trainables of the tune-ray tests; Ray actors import them by reference (the driver's sys.path)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import tunecore


def where() -> dict[str, Any]:
    """Which node and devices this trial runs on, and where it writes."""
    import ray

    context = tunecore.get_context()
    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "pid": os.getpid(),
        "workdir": context.trial_dir,
    }


def quadratic(config: dict[str, Any]) -> None:
    """Loss (x - 3)^2 + 1/iteration, reported ``steps`` times; prints a line per step."""
    for i in range(1, config.get("steps", 4) + 1):
        print(f"step {i} of {tunecore.get_context().trial_id}")
        tunecore.report({"loss": (config["x"] - 3) ** 2 + 1 / i, **where()})


def meet(config: dict[str, Any]) -> dict[str, Any]:
    """Announce this trial in ``config["dir"]`` and wait until ``config["count"]`` trials have: ran at once?"""
    directory = Path(config["dir"])
    (directory / tunecore.get_context().trial_id).touch()
    deadline = time.monotonic() + 30
    while len(list(directory.iterdir())) < config["count"] and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"met": len(list(directory.iterdir())) >= config["count"], **where()}


def counter(config: dict[str, Any]) -> None:
    """Count to ``steps`` from the launch's checkpoint, checkpointing each step; records where it ran.

    ``hold``: while that file exists, wait at step ``hold_at`` (a test kills or removes something then).
    ``lr`` changes the increment (for PBT: exploited trials continue from another's count).
    """
    checkpoint = tunecore.get_checkpoint()
    state: dict[str, Any] = checkpoint.to_dict() if checkpoint else {"count": 0.0, "nodes": []}
    context = tunecore.get_context()
    here = where()
    restored_from = list(state["nodes"])
    restored_path = checkpoint.path if checkpoint else None
    for step in range(context.start_iteration + 1, config.get("steps", 6) + 1):
        hold = config.get("hold")
        if hold and step == config.get("hold_at"):
            Path(hold + ".reached").write_text(here["node_id"])
            deadline = time.monotonic() + 60
            while os.path.exists(hold) and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(config.get("sleep", 0.0))
        state = {"count": state["count"] + config.get("lr", 1.0), "nodes": [*state["nodes"], here["node_id"]][-20:]}
        tunecore.report(
            {"count": state["count"], "restored_from": restored_from, "restored_path": restored_path, **here},
            checkpoint=tunecore.Checkpoint.from_dict(state),
        )
