"""Crash an experiment right after the N-th call of a controller method, then compare the components a resume
restores with those the crashed run had (tests/core/test_replayable.py, tests/pbt/test_crash_resume.py)."""

from __future__ import annotations

import pickle
import textwrap
from typing import Any

import cloudpickle
import pytest

import tunecore
from tunecore import resume as resuming

CRASH_AT_CALL = textwrap.dedent(
    """
    import os, sys
    import cloudpickle
    import tunecore
    from tunecore.controller import Controller

    path, method, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seen = {"calls": 0}
    original = getattr(Controller, method)

    def patched(self, *args):
        returned = original(self, *args)
        seen["calls"] += 1
        if seen["calls"] == calls:  # the components as they are now, then a crash before anything else
            with open(path + ".live", "wb") as file:
                file.write(cloudpickle.dumps(self.components.save()))
            os._exit(3)
        return returned

    setattr(Controller, method, patched)
    """
)
"""The start of a script run as ``python script.py PATH METHOD CALLS``: it exits with 3 right after the
CALLS-th call of ``Controller.METHOD``, the components' state then saved in ``PATH.live``."""


def live_and_restored(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The components' state the crashed run had, and the one a resume restores (after its replay)."""
    restored = {}
    original = resuming.restore

    def restore(storage, table, components, checkpoints, snapshots, options, **keywords):
        def capture(force: bool = False) -> None:  # the resume's own snapshot comes right after restore and replay
            restored["state"] = cloudpickle.dumps(components.save())
            raise SystemExit(0)

        snapshots.take = capture
        original(storage, table, components, checkpoints, snapshots, options, **keywords)

    monkeypatch.setattr(resuming, "restore", restore)
    with pytest.raises(SystemExit):
        tunecore.Tuner.restore(path).fit()
    with open(path + ".live", "rb") as file:
        return pickle.loads(file.read()), pickle.loads(restored["state"])
