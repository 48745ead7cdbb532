"""Components whose journal replay is exact (``replayable``: the ``random`` searcher, the ``fifo`` scheduler) are
snapshotted at most once a second; a crash anywhere still restores them exactly, and the resumed run proposes
what an uninterrupted one would have."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import tunecore
from tests.core.crash_harness import CRASH_AT_CALL, live_and_restored
from tunecore.builtin.searchers import RandomSearcher
from tunecore.storage import ExperimentStorage

SCRIPT = CRASH_AT_CALL + textwrap.dedent(
    """
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from experiment import tuner

    tuner(os.path.dirname(path), os.path.basename(path)).fit()
    """
)

EXPERIMENT = textwrap.dedent(
    """
    import tunecore

    def train(config):
        for step in range(3):
            tunecore.report({"loss": config["x"] * config["g"] + step})

    def tuner(storage, name):
        return tunecore.Tuner(
            train,
            param_space={"x": tunecore.uniform(0, 1), "g": tunecore.grid_search([1, 2])},
            tune_config=tunecore.TuneConfig(
                metric="loss", mode="min", num_samples=4, seed=3, executor="inline",
                searcher_options={"points_to_evaluate": [{"x": 0.5}]},
            ),
            run_config=tunecore.RunConfig(storage_path=storage, name=name, verbose=0, loggers=[]),
        )
    """
)


@pytest.fixture(autouse=True)
def _experiment_module(tmp_path):
    """The experiment's module (as the script imports it) importable here too, for the resume."""
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("experiment", None)


def crash(tmp_path, method, calls):
    (tmp_path / "experiment.py").write_text(EXPERIMENT)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    path = str(tmp_path / "exp")
    done = subprocess.run([sys.executable, str(script), path, method, str(calls)], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    return path


CRASHES = [("_ask_searcher", 4), ("on_result", 7), ("on_trial_end", 3), ("on_trial_end", 6)]


@pytest.mark.parametrize(("method", "calls"), CRASHES)
def test_a_crash_restores_replayable_components_exactly(tmp_path, monkeypatch, method, calls):
    path = crash(tmp_path, method, calls)
    live, restored = live_and_restored(path, monkeypatch)
    assert restored == live


@pytest.mark.parametrize(("method", "calls"), CRASHES)
def test_the_resumed_run_proposes_what_an_uninterrupted_one_would(tmp_path, method, calls):
    path = crash(tmp_path, method, calls)
    from experiment import tuner  # type: ignore[import-not-found]

    expected = [r.config for r in tuner(str(tmp_path), "whole").fit()]
    resumed = tunecore.Tuner.restore(path).fit()
    assert [r.config for r in resumed] == expected
    assert {r.status for r in resumed} == {"TERMINATED"} and all(len(r.metrics_history) == 3 for r in resumed)


def run_counting_snapshots(tmp_path, monkeypatch, searcher):
    written = []
    original = ExperimentStorage.write_snapshot
    monkeypatch.setattr(
        ExperimentStorage, "write_snapshot", lambda self, payload: written.append(1) or original(self, payload)
    )
    tunecore.Tuner(
        lambda config: tunecore.report({"loss": config["x"]}),
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(num_samples=20, executor="inline", searcher=searcher),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[]),
    ).fit()
    return len(written)


class OwnSearcher(RandomSearcher):
    """A subclass may hold more state: it is not replayable unless it says so itself."""


def test_replayable_components_are_snapshotted_at_most_once_a_second_others_at_every_trial(tmp_path, monkeypatch):
    assert run_counting_snapshots(tmp_path / "a", monkeypatch, "random") <= 3  # the first, maybe one more, the last
    assert run_counting_snapshots(tmp_path / "b", monkeypatch, OwnSearcher()) >= 2 * 20  # each creation and end
