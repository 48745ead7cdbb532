"""Restarts (PBT's exploit) survive interruptions; a decision never leaves an unreported checkpoint behind."""

from __future__ import annotations

import os
import time

import tunecore


def donor_train(config):
    context = tunecore.get_context()
    checkpoint = tunecore.get_checkpoint()
    state = checkpoint.to_dict() if checkpoint else {"owner": context.trial_id, "step": 0}
    loaded = state["owner"] if checkpoint else None
    for iteration in range(context.start_iteration + 1, 7):
        if config["x"] == 1 and iteration == 4:
            time.sleep(0.5)
            raise RuntimeError("t00001 fails at iteration 4: fail_fast interrupts the run")
        time.sleep(0.01 if config["x"] == 1 else 0.1)
        state = {"owner": context.trial_id, "step": state["step"] + 1}
        tunecore.report({"loaded": loaded, "x": config["x"]}, checkpoint=tunecore.Checkpoint.from_dict(state))


class Restarter(tunecore.Scheduler):
    """t00002 restarts from t00001's latest checkpoint at its iteration 3, relaunched only once t00001 ended."""

    def __init__(self):
        self.donor_trial, self.decided, self.donor_running = None, False, True

    def on_trial_result(self, trial, result):
        if trial.trial_id == "t00001":  # the latest view: a view shows the trial as it was when handed over
            self.donor_trial = trial
        if trial.trial_id == "t00002" and result["training_iteration"] == 3 and not self.decided:
            self.decided = True
            return tunecore.Decision.restart({**trial.config, "x": 99}, checkpoint=self.donor_trial.checkpoint)
        return tunecore.CONTINUE

    def on_trial_error(self, trial):
        self.donor_running = False

    def choose_trial_to_run(self, pending, paused):
        ready = [t for t in pending if not (t.trial_id == "t00002" and self.decided and self.donor_running)]
        return ready[0] if ready else None

    def save(self):
        return {"decided": self.decided}

    def restore(self, state):
        self.decided, self.donor_running = state["decided"], False


def test_a_restart_interrupted_before_its_relaunch_resumes_from_the_restart_checkpoint(tmp_path):
    grid = tunecore.Tuner(
        donor_train,
        param_space={"x": tunecore.grid_search([1, 2])},
        tune_config=tunecore.TuneConfig(scheduler=Restarter(), executor="local", executor_options={"num_workers": 2}),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            verbose=0,
            loggers=[],
            failure_config=tunecore.FailureConfig(fail_fast=True),
        ),
    ).fit()
    assert [(r.status, r.config["x"]) for r in grid] == [("ERROR", 1), ("PENDING", 99)]
    resumed = tunecore.Tuner.restore(grid.experiment_path).fit()
    history = resumed[1].metrics_history
    assert [(m["training_iteration"], m["x"], m["loaded"]) for m in history] == [
        (1, 2, None),
        (2, 2, None),
        (3, 2, None),
        (4, 99, "t00001"),
        (5, 99, "t00001"),
        (6, 99, "t00001"),
    ]


def test_a_stopped_trial_leaves_no_unreported_checkpoint(tmp_path):
    def train(config):
        for step in range(1, 100):
            tunecore.report({"step": step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))

    grid = tunecore.Tuner(
        train,
        tune_config=tunecore.TuneConfig(executor="local", executor_options={"num_workers": 1}),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            stop={"training_iteration": 5},
            verbose=0,
            loggers=[],
            checkpoint_config=tunecore.CheckpointConfig(num_to_keep=1),
        ),
    ).fit()
    result = grid[0]
    assert [os.path.basename(c.path) for c, _ in result.best_checkpoints] == ["checkpoint_000005"]
    assert sorted(p for p in os.listdir(result.path) if p.startswith("checkpoint_")) == ["checkpoint_000005"]
