"""The components' state is pickled fast when it is plain data, and by value when another process needs it;
expensive snapshots are spaced out, by CPU time, not by the clock."""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
import textwrap
import time

import cloudpickle

from tunecore.snapshots import Components, Snapshots, dumps_state
from tunecore.storage import ExperimentStorage


def test_plain_state_is_pickled_by_the_standard_pickle():
    state = {"searcher": {"count": 3, "rng": {"state": 12}}, "scheduler": None, "stoppers": [], "journal_records": 7}
    data = dumps_state(state)
    assert data == pickle.dumps(state, protocol=5)
    assert pickle.loads(data) == state


def test_what_only_cloudpickle_carries_goes_by_cloudpickle_and_loads_in_another_process(tmp_path):
    """A class of the running script (``__main__``), which a resume in a new process cannot import: the
    snapshot must carry it by value."""
    script = tmp_path / "save.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from tunecore.snapshots import dumps_state

            class Custom:  # a user's scheduler state class, defined in the script
                def __init__(self):
                    self.value = 41

            state = {"scheduler": Custom(), "stoppers": []}  # the standard pickle would take it, by reference
            with open(sys.argv[1], "wb") as file:
                file.write(dumps_state(state))
            """
        )
    )
    out = tmp_path / "state.bin"
    subprocess.run([sys.executable, str(script), str(out)], check=True, timeout=60)
    loaded = pickle.loads(out.read_bytes())  # here __main__ is pytest: only a by-value pickle loads
    assert loaded["scheduler"].value == 41


def test_a_lambda_in_the_state_goes_by_cloudpickle():
    assert cloudpickle.loads(dumps_state({"f": lambda: 2}))["f"]() == 2


class _Costly:
    """A component whose save() takes ``seconds``: of CPU (``busy``) or only of the clock (sleeping)."""

    def __init__(self, seconds: float, busy: bool) -> None:
        self.seconds, self.busy, self.saves = seconds, busy, 0

    def save(self) -> dict:
        self.saves += 1
        end = time.monotonic() + self.seconds
        if self.busy:
            while time.monotonic() < end:
                pass
        else:
            time.sleep(self.seconds)
        return {"saves": self.saves}


def _snapshots(tmp_path, component):
    storage = ExperimentStorage(str(tmp_path / "exp"))
    return storage, Snapshots(storage, Components(component, component, []))


def test_snapshots_of_a_component_expensive_in_cpu_time_are_spaced_out(tmp_path):
    component = _Costly(0.02, busy=True)  # CPU time >> 1 ms even on a busy machine
    storage, snapshots = _snapshots(tmp_path, component)
    try:
        for _ in range(6):
            snapshots.take()
        # the first is slow by the clock, the second confirms it in CPU time: then they wait (~5% of the run)
        assert component.saves == 2 * 2 and snapshots.due  # (searcher and scheduler: two saves a snapshot)
        snapshots.take(force=True)
        assert component.saves == 3 * 2 and not snapshots.due
    finally:
        storage.close()


def test_snapshots_slow_only_by_the_clock_are_never_spaced_out(tmp_path):
    """A busy machine (here: a sleep) makes a cheap snapshot look slow; how often snapshots are taken, and so
    what a resume replays, must not depend on the machine's load."""
    component = _Costly(0.005, busy=False)
    storage, snapshots = _snapshots(tmp_path, component)
    try:
        for _ in range(6):
            snapshots.take()
        assert component.saves == 6 * 2 and not snapshots.due
    finally:
        storage.close()


def test_a_garbage_collection_during_a_snapshot_is_not_its_cost(tmp_path):
    """A collection of the whole process's heap may start during any allocation, also a cheap snapshot's: its CPU
    time is the process's, not the snapshot's, and must not space the snapshots out (seen in a full test run)."""
    component = _Costly(0.005, busy=False)  # slow by the clock: every snapshot is then timed in CPU time too

    def expensive_collection(phase: str, info: dict) -> None:
        if phase == "start":  # what a full collection of a large heap costs, in CPU time
            end = time.thread_time() + 0.005
            while time.thread_time() < end:
                pass

    storage, snapshots = _snapshots(tmp_path, component)
    thresholds = gc.get_threshold()
    gc.callbacks.append(expensive_collection)
    gc.set_threshold(1)  # a collection at (nearly) every allocation
    try:
        for _ in range(6):
            snapshots.take()
        saves, due = component.saves, snapshots.due
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(expensive_collection)
        storage.close()
    assert saves == 6 * 2 and not due
