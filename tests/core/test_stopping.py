"""tunecore.stopping: RunConfig.stop's dict and function forms, in the core (the controller needs no builtin)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tunecore
from tunecore.protocols import Stopper


def test_dict_and_function_stoppers_live_in_the_core_and_builtin_re_exports_them():
    from tunecore import stopping
    from tunecore.builtin import stoppers

    assert stoppers.DictStopper is stopping.DictStopper
    assert stoppers.FunctionStopper is stopping.FunctionStopper
    assert stopping.DictStopper.__module__ == stopping.FunctionStopper.__module__ == "tunecore.stopping"


def test_the_stopping_module_imports_nothing_from_builtin():
    import tunecore.stopping

    tree = ast.parse(Path(tunecore.stopping.__file__).read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name.startswith("tunecore.builtin")]
    code = "import sys, tunecore.stopping; print(sorted(m for m in sys.modules if m.startswith('tunecore.builtin')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_as_stopper_turns_each_form_of_run_config_stop_into_a_stopper():
    from tunecore.stopping import DictStopper, FunctionStopper, as_stopper

    by_dict = as_stopper({"training_iteration": 3})
    assert isinstance(by_dict, DictStopper) and by_dict.should_stop("t1", {"training_iteration": 3})

    def stop(trial_id, result):
        return result["loss"] < 0.1

    by_function = as_stopper(stop)
    assert isinstance(by_function, FunctionStopper) and by_function.should_stop("t1", {"loss": 0.05})

    class Custom(Stopper):
        pass

    custom = Custom()
    assert as_stopper(custom) is custom

    class DuckTyped:  # a stopper by shape (Ray's Stopper subclasses): itself, though callable too
        def should_stop(self, trial_id, result):
            return False

        def stop_all(self):
            return False

        def __call__(self, trial_id, result):
            return True

    duck = DuckTyped()
    assert as_stopper(duck) is duck


@pytest.mark.parametrize("stop, kind", [(10, "int"), ("loss", "str"), ([("loss", 1.0)], "list")])
def test_as_stopper_refuses_anything_else_with_the_forms_it_takes(stop, kind):
    from tunecore.stopping import as_stopper

    message = rf"^RunConfig.stop must be a dict, a function or a stopper, got {kind}$"
    with pytest.raises(tunecore.TuneError, match=message):
        as_stopper(stop)
