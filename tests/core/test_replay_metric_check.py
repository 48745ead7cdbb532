"""Live, a result without the metric is never shown to the components (the trial ends with an error); a
resume's replay must not show it to them either: it crashed the resume of a stopper that reads the metric
(found in review; formatting.missing_metrics is the one rule)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import tunecore

EXPERIMENT = textwrap.dedent("""
    import tunecore
    from tunecore.protocols import Stopper

    class Strict(Stopper):
        def __init__(self):
            self.seen = []
        def should_stop(self, trial_id, result):
            self.seen.append(result["training_iteration"])
            return result["loss"] > 100          # a metric stopper: the metric is always there live
        def save(self):
            return list(self.seen)
        def restore(self, state):
            self.seen = list(state)

    def train(config):
        if config["g"] == 1:
            tunecore.report({"other": 1})         # no metric: stopped with an error
        else:
            for i in range(2):
                tunecore.report({"loss": i})

    def tuner(storage, name):
        return tunecore.Tuner(train, param_space={"g": tunecore.grid_search([1, 2])},
            tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
            run_config=tunecore.RunConfig(storage_path=storage, name=name, verbose=0, loggers=[], stoppers=[Strict()]))
""")

SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tunecore.controller import Controller
    from tunecore import snapshots
    path = sys.argv[1]
    original_take = snapshots.Snapshots.take
    calls = {"n": 0}
    def take(self, force=False):   # an expensive component: snapshots spaced out (only the first is taken)
        calls["n"] += 1
        if calls["n"] == 1:
            return original_take(self, force)
        self.due = True
    snapshots.Snapshots.take = take
    original_end = Controller.on_trial_end
    ends = {"n": 0}
    def on_trial_end(self, *a, **k):
        r = original_end(self, *a, **k)
        ends["n"] += 1
        if ends["n"] == 1:
            self.storage.flush(); os._exit(3)
        return r
    Controller.on_trial_end = on_trial_end
    from experiment import tuner
    tuner(os.path.dirname(path), os.path.basename(path)).fit()
""")


@pytest.fixture(autouse=True)
def _mod(tmp_path):
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("experiment", None)


def test_resume_replays_a_metricless_result_into_the_stoppers(tmp_path):
    (tmp_path / "experiment.py").write_text(EXPERIMENT)
    (tmp_path / "run.py").write_text(SCRIPT)
    path = str(tmp_path / "exp")
    done = subprocess.run([sys.executable, str(tmp_path / "run.py"), path], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    grid = tunecore.Tuner.restore(path).fit()  # KeyError 'loss' from the replay into Strict.should_stop?
    assert sorted(r.status for r in grid) == ["ERROR", "TERMINATED"]
