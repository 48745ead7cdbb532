"""A node's scratch directory (checkpoint_sync="driver") holds only what live launches need: a new actor
removes the directories of launches whose actor was killed, never those of live actors. No Ray cluster.
(Checkpoints sent are not kept in scratch: tests/ray/test_object_store.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)
from tune_ray import actor as module

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
