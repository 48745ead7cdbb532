"""The components' state is pickled fast when it is plain data, and by value when another process needs it."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import cloudpickle

from tunecore.snapshots import dumps_state


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
