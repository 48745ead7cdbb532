"""ASHA's STOP survives a crash right after it: the resume neither relaunches the trial (ASHA would let it pass
the rung it already judged it at) nor loses the rung's record of it (found in review of the replay fix)."""

from __future__ import annotations

import pytest

from tests.core.scripted_executor import ScriptedExecutor, final_statuses, result, run_controller, second_interrupt
from tests.core.test_controller_states import path_of, spec
from tune_asha.asha import AsyncHyperBandScheduler
from tunecore.controller import ResumeOptions
from tunecore.journal import replay
from tunecore.snapshots import Snapshots
from tunecore.storage import read_journal


def asha() -> AsyncHyperBandScheduler:
    return AsyncHyperBandScheduler(metric="loss", mode="min", grace_period=1, max_t=8, reduction_factor=2)


def test_an_asha_stop_right_before_a_crash_stands_on_resume(tmp_path, monkeypatch):
    script = [
        result("t00001", checkpoint=True, loss=1.0),
        result("t00002", checkpoint=True, loss=0.5),
        result("t00002", loss=0.1),
        result("t00001", loss=5.0),  # rung 2: worse than t00002's 0.1, ASHA STOPs it
        second_interrupt(),  # the run dies before the STOP takes effect
    ]
    with monkeypatch.context() as patch:
        patch.setattr(Snapshots, "take", lambda self, force=False: None)  # no snapshot: all is tail
        with pytest.raises(KeyboardInterrupt):
            run_controller(spec(scheduler=asha(), metric="loss", mode="min", tmp=tmp_path), path_of(tmp_path),
                           ScriptedExecutor(script))
    executor = ScriptedExecutor([result("t00002", loss=0.1)])
    resumed = run_controller(spec(scheduler=asha(), metric="loss", mode="min", tmp=tmp_path), path_of(tmp_path),
                             executor, ResumeOptions())
    assert [launch.trial_id for launch in executor.launches] == ["t00002"]
    assert final_statuses(path_of(tmp_path)) == {"t00001": "TERMINATED", "t00002": "TERMINATED"}
    assert replay(read_journal(path_of(tmp_path)))["t00001"].last_result["training_iteration"] == 2
    rung_two = next(rung for rung in resumed.scheduler.brackets[0].rungs if rung.level == 2)
    assert "t00001" in rung_two.trials  # the replayed STOP result is on the rung, as live
