"""A node's scratch directory (checkpoint_sync="driver") holds only what live launches need: a checkpoint
the driver has received is not kept once a newer one is sent, and a new actor removes the directories of
launches whose actor was killed, never those of live actors. No Ray cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)
from tune_ray import actor as module


class Capture:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


def a_checkpoint(scratch: Path, index: int) -> str:
    path = scratch / f"checkpoint_{index:06d}"
    path.mkdir(parents=True)
    (path / "state").write_text(str(index))
    return str(path)


def test_only_the_latest_sent_checkpoint_stays_in_scratch(tmp_path: Path) -> None:
    scratch = tmp_path / "node" / "t1-7"
    channel = module.ActorChannel(Capture())  # type: ignore[arg-type]
    channel.begin(7, str(scratch))
    outside = tmp_path / "users-own"
    outside.mkdir()
    for index in range(1, 4):
        channel.send("t1", {"done": False}, a_checkpoint(scratch, index))
    channel.send("t1", {"done": False}, str(outside))  # not the actor's to remove
    channel.send("t1", {"done": False}, a_checkpoint(scratch, 4))
    assert sorted(p.name for p in scratch.iterdir()) == ["checkpoint_000004"]
    assert outside.is_dir()
    assert len(channel.conn.sent) == 5  # type: ignore[attr-defined]


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_new_actor_removes_only_the_directories_of_dead_launches(tmp_path: Path) -> None:
    root = tmp_path / "node-id"
    live, dead, unlocked = root / "t1-1", root / "t2-2", root / "t3-3"
    for path in (live, dead, unlocked):
        path.mkdir(parents=True)
        (path / "checkpoint_000001").mkdir()
    (dead / module.LOCK_NAME).touch()  # its actor was killed: nobody holds the lock
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(live / module.LOCK_NAME)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert module.clean_stale(str(root)) == [str(dead)]
        assert live.is_dir() and unlocked.is_dir() and not dead.exists()
    finally:
        holder.kill()
        holder.wait()
    assert module.clean_stale(str(root)) == [str(live)]  # once its owner is gone


def test_a_launch_owns_its_scratch_directory_while_it_runs(tmp_path: Path) -> None:
    scratch = tmp_path / "node-id" / "t1-1"
    fd = module._own(str(scratch))
    try:
        assert module.clean_stale(str(tmp_path / "node-id")) == []
        assert [p.name for p in scratch.iterdir()] == [module.LOCK_NAME]
    finally:
        module.os.close(fd)
    assert module.clean_stale(str(tmp_path / "node-id")) == [str(scratch)]
