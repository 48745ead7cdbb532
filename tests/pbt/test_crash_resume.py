"""A crash right after a trial's end restores PBT exactly as it was: the end's snapshot is taken at once.

The journal tail after a snapshot is replayed into the components, but a replay cannot give PBT everything
it saw live (which checkpoint each member could donate, its waiting list), so the snapshot that follows a
trial's end must not be deferred (it once was, to save ~13 us per trial).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import cloudpickle

import tunecore
from tunecore import resume as resuming

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import cloudpickle
    import tunecore
    from tunecore.controller import Controller

    path, ends = sys.argv[1], int(sys.argv[2])
    seen = {"ends": 0}
    original = Controller.on_trial_end

    def on_trial_end(self, trial_id, outcome, error):
        original(self, trial_id, outcome, error)
        seen["ends"] += 1
        if seen["ends"] == ends:  # the components as they are now, then a crash before anything else
            with open(path + ".live", "wb") as file:
                file.write(cloudpickle.dumps(self.components.save()))
            os._exit(3)

    Controller.on_trial_end = on_trial_end

    def train(config):
        checkpoint = tunecore.get_checkpoint()
        score = checkpoint.to_dict()["score"] if checkpoint else 0.0
        for _ in range(tunecore.get_context().start_iteration, 12):
            score += config["lr"] * 1000 % 7
            tunecore.report({"score": score}, checkpoint=tunecore.Checkpoint.from_dict({"score": score}))

    tunecore.Tuner(
        train,
        param_space={"lr": tunecore.loguniform(3e-4, 3e-3)},
        tune_config=tunecore.TuneConfig(
            metric="score", mode="max", num_samples=5, seed=3, executor="inline", scheduler="pbt",
            scheduler_options={
                "time_attr": "training_iteration", "perturbation_interval": 3, "seed": 1,
                "hyperparam_mutations": {"lr": tunecore.loguniform(1e-4, 1e-1)},
            },
        ),
        run_config=tunecore.RunConfig(
            storage_path=os.path.dirname(path), name=os.path.basename(path), verbose=0, loggers=[]
        ),
    ).fit()
    """
)


def test_a_crash_right_after_a_trial_end_restores_pbt_exactly(tmp_path, monkeypatch):
    path = str(tmp_path / "exp")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), path, "8"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    restored = {}
    original = resuming.restore

    def restore(storage, table, components, checkpoints, snapshots, options):
        def capture(force=False):  # the resume's own snapshot comes right after restore and replay
            restored["state"] = cloudpickle.dumps(components.save())
            raise SystemExit(0)

        snapshots.take = capture
        original(storage, table, components, checkpoints, snapshots, options)

    monkeypatch.setattr(resuming, "restore", restore)
    try:
        tunecore.Tuner.restore(path).fit()
    except SystemExit:
        pass
    with open(path + ".live", "rb") as file:
        live = pickle.loads(file.read())
    assert pickle.loads(restored["state"]) == live
