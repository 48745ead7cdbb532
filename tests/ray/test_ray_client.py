"""``address = "ray://..."`` (Ray Client) with ``checkpoint_sync="driver"``: the driver has no object store
of its own, and checkpoints still travel through the cluster's, both ways. A one-node cluster with a Ray
Client server on loopback; the driver is another process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ray.cluster import local_cluster, ray  # noqa: F401  (skips this module without Ray)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def client_address() -> Iterator[str]:
    port = free_port()
    with local_cluster({"num_cpus": 2, "ray_client_server_port": port}):
        yield f"ray://127.0.0.1:{port}"


ATTEMPTS = 3


def proxier_failed(stderr: str) -> bool:
    """Whether the driver failed because Ray Client's proxier could not start its server (not tunecore)."""
    return "Starting Ray client server failed" in stderr or (
        "Initialization failure from server" in stderr and "proxier.py" in stderr
    )


def test_over_ray_client_checkpoints_go_up_and_back_and_the_log_survives_a_death(
    client_address: str, tmp_path: Path
) -> None:
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    for attempt in range(ATTEMPTS):
        storage = tmp_path / f"attempt{attempt}"
        done = subprocess.run(
            [sys.executable, "-m", "tests.ray.client_driver", client_address, str(storage)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
        # Ray Client's proxier now and then fails to start its server for a new client (its process exits at
        # once, or is a zombie when the proxier looks at it; about 1 run in 10 on a busy machine), before the
        # driver did anything: retried, and said plainly when it never came up.
        if not proxier_failed(done.stderr):
            break
    else:
        pytest.skip(f"Ray Client's proxier could not start a server for the driver in {ATTEMPTS} attempts (Ray)")
    assert done.returncode == 0, done.stderr[-3000:]
    trial: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert trial["status"] == "TERMINATED", trial["error"]
    history = trial["history"]
    assert [(r["count"], r["restored"]) for r in history] == [(1, False), (2, False), (3, True), (4, True)]
    assert all(not r["workdir"].startswith(str(storage)) for r in history), "worked in the driver's storage"
    assert trial["checkpoint"].startswith(trial["path"])
    log = Path(trial["path"], "stdout.log").read_text()
    assert [f"step {step} count {step}" for step in range(1, 5)] == log.splitlines(), log
