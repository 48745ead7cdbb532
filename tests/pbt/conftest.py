"""A synchronous PBT run on the toy, shared by the tests that read what it left."""

from __future__ import annotations

import pytest

import tunecore
from tests.pbt.support import SEED, STEPS, run_toy


@pytest.fixture(scope="session")
def synch_run(tmp_path_factory: pytest.TempPathFactory) -> tunecore.ResultGrid:
    """Synchronous PBT on the toy (population 4, every 4 iterations), inline."""
    return run_toy(tmp_path_factory.mktemp("synch"), steps=STEPS, seed=SEED)
