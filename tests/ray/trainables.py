"""Trainables of the tune-ray tests; Ray actors import them by reference (the driver's sys.path)."""

from __future__ import annotations

import hashlib
import os
import random
import socket
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


def big_checkpoint(config: dict[str, Any]) -> None:
    """Report one checkpoint holding ``size`` random bytes (from ``seed``) and their hash; launched from a
    checkpoint, report the hash of the bytes it restored instead."""
    checkpoint = tunecore.get_checkpoint()
    if checkpoint is not None:
        restored = Path(checkpoint.path, "weights").read_bytes()
        tunecore.report({"restored": hashlib.sha256(restored).hexdigest(), "path": checkpoint.path, **where()})
        return
    directory = Path(tunecore.get_context().trial_dir, "weights-out")
    directory.mkdir(parents=True, exist_ok=True)
    data = random.Random(config["seed"]).randbytes(config["size"])
    (directory / "weights").write_bytes(data)
    tunecore.report(
        {"sent": hashlib.sha256(data).hexdigest(), **where()}, checkpoint=tunecore.Checkpoint.from_directory(directory)
    )


def prints_then_dies(config: dict[str, Any]) -> None:
    """Print a line, report, print another; with ``die``, wait ``linger`` s and end the actor's process."""
    print(f"printed before the first report by {tunecore.get_context().trial_id}")
    tunecore.report({"x": 1})
    print(f"printed after the report by {tunecore.get_context().trial_id}")
    if config.get("die"):
        time.sleep(config.get("linger", 2.0))
        os._exit(3)


def dies_or_cuts_its_connection(config: dict[str, Any]) -> None:
    """After one report: ``how="exit"`` ends the actor's process; ``how="cut"`` cuts the actor's connection
    to the driver and lives on for ``linger`` s (an actor whose death Ray does not know of yet)."""
    from tunecore.session import _current_session

    tunecore.report({"x": 1})
    session = _current_session()
    assert session is not None
    time.sleep(0.3)  # the answer to the report has arrived
    if config["how"] == "exit":
        os._exit(7)
    conn = session.channel.conn  # type: ignore[attr-defined]
    cut = socket.socket(fileno=os.dup(conn.fileno()))
    cut.shutdown(socket.SHUT_RDWR)
    cut.close()
    time.sleep(config.get("linger", 4.0))
