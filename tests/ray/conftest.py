"""The tune-ray tests' environment: every Ray they start or join keeps its files (sessions, sockets, logs)
and the trials' scratch directories under this test session's temporary directories, not /tmp/ray and
/tmp/tune-ray. Set once per session, before any cluster starts (the Ray processes and actors inherit
it), and put back at the end. (RAY_USAGE_STATS_ENABLED and the loopback setting are read when ray is
imported: tests/ray/cluster.py sets them before that.)"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SOCKET_ROOM = 40
"""Ray's Unix sockets live under its temp dir and a path may be at most 107 bytes: a longer base is
replaced by a short directory of its own (removed at the end)."""


@pytest.fixture(scope="session", autouse=True)
def ray_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """RAY_TMPDIR and TUNE_RAY_SCRATCH_DIR under the session's temporary directory; the directory."""
    base = tmp_path_factory.mktemp("ray")
    short = None
    if len(str(base)) > _SOCKET_ROOM:
        short = base = Path(tempfile.mkdtemp(prefix="tr-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_TMPDIR", str(base))
        patch.setenv("TUNE_RAY_SCRATCH_DIR", str(base / "scratch"))
        patch.delenv("RAY_ADDRESS", raising=False)
        yield base
    if short is not None:
        shutil.rmtree(short, ignore_errors=True)
