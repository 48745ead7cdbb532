"""A crash restores PBT exactly as it was: right after a trial's end (whose snapshot is taken at once: it
once was deferred, to save ~13 us per trial) and in the middle of trials (the results since the last
snapshot are replayed, each with a view of the trial as it was then: its checkpoint, its config)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import cloudpickle
import pytest

import tunecore
from tunecore import resume as resuming

SCRIPT = textwrap.dedent(
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


@pytest.mark.parametrize(
    ("method", "calls"),
    [
        ("on_trial_end", 8),  # the end's snapshot is taken: nothing to replay
        ("on_result", 40),  # results since the last snapshot are replayed, with the trial as it was at each
    ],
)
def test_a_crash_restores_pbt_exactly(tmp_path, monkeypatch, method, calls):
    path = str(tmp_path / "exp")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    command = [sys.executable, str(script), path, method, str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    restored = {}
    original = resuming.restore

    def restore(storage, table, components, checkpoints, snapshots, options, **keywords):
        def capture(force=False):  # the resume's own snapshot comes right after restore and replay
            restored["state"] = cloudpickle.dumps(components.save())
            raise SystemExit(0)

        snapshots.take = capture
        original(storage, table, components, checkpoints, snapshots, options, **keywords)

    monkeypatch.setattr(resuming, "restore", restore)
    try:
        tunecore.Tuner.restore(path).fit()
    except SystemExit:
        pass
    with open(path + ".live", "rb") as file:
        live = pickle.loads(file.read())
    assert pickle.loads(restored["state"]) == live
