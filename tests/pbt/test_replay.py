"""`pbt_replay` replays the schedule of a PBT policy file on one trial."""

from __future__ import annotations

import json
import os

import pytest

import tune_pbt
import tunecore
from tests.pbt.support import STEPS, policy, run_toy


def best_lineage(grid: tunecore.ResultGrid) -> tuple[tunecore.Result, str]:
    """The best trial and its policy file."""
    best = max(grid, key=lambda result: result.metrics["score"])
    return best, os.path.join(grid.experiment_path, f"pbt_policy_{best.trial_id}.jsonl")


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_replay_reproduces_the_recorded_schedule(synch_run, tmp_path, executor):
    best, policy_file = best_lineage(synch_run)
    lineage = policy(synch_run.experiment_path, os.path.basename(policy_file))
    assert len(lineage) >= 2  # the best trial's state went through several exploits
    replayed = run_toy(
        tmp_path,
        "pbt_replay",
        {"policy_file": policy_file},
        population=1,
        space=tune_pbt.replay_config(policy_file),
        steps=STEPS,
        executor=executor,
    )
    history = replayed[0].metrics_history
    assert [r["training_iteration"] for r in history] == list(range(1, STEPS + 1))

    def lr_at(iteration: int) -> float:  # each recorded config takes over after its step
        lr = lineage[0]["donor_config"]["lr"]
        for line in lineage:
            if line["step"] < iteration:
                lr = line["new_config"]["lr"]
        return lr

    assert [r["lr"] for r in history] == [lr_at(r["training_iteration"]) for r in history]
    # The best trial's state is as old as its lineage (each exploit may have skipped iterations): the replay
    # computes exactly the same state at that age.
    age = best.metrics["training_iteration"] - lineage[-1]["training_iteration"] + lineage[-1]["step"]
    assert history[age - 1]["score"] == best.metrics["score"]
    assert replayed[0].config == lineage[-1]["new_config"]


def test_the_trial_must_start_with_the_policys_config(synch_run, tmp_path):
    _, policy_file = best_lineage(synch_run)
    with pytest.raises(ValueError, match=r"use param_space=tune_pbt.replay_config\("):
        run_toy(tmp_path / "a", "pbt_replay", {"policy_file": policy_file}, population=1, space={"lr": 0.5}, steps=2)
    start = tune_pbt.replay_config(policy_file)
    with pytest.raises(ValueError, match="replays a policy on one trial, but a second trial"):
        run_toy(tmp_path / "b", "pbt_replay", {"policy_file": policy_file}, population=2, space=start, steps=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("not json\n", "line 1: not JSON"),
        ('{"trial_id": "t1"}\n', "line 1: no donor, step, new_config"),
        ('{"trial_id": "t1", "donor": "t2", "step": 3, "new_config": {}}\n', "no donor_config"),
    ],
)
def test_a_bad_policy_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "policy.jsonl"
    path.write_text(content)
    with pytest.raises(tunecore.ComponentError, match=message):
        tunecore.load_plugins({}).create("scheduler", "pbt_replay", {"policy_file": str(path)})


def test_state_saves_and_restores(tmp_path):
    path = tmp_path / "policy.jsonl"
    lines = [
        {"trial_id": "t1", "donor": "t2", "step": s, "donor_config": {"lr": 1}, "new_config": {"lr": s}} for s in (2, 4)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    replay = tune_pbt.PopulationBasedTrainingReplay(str(path))
    trial = tunecore.Trial(trial_id="t1", config={"lr": 1}, checkpoint="/ckpt")
    replay.on_trial_add(trial)
    actions = [replay.on_trial_result(trial, {"training_iteration": i}) for i in (1, 2, 3)]
    assert [a.action for a in actions] == ["CONTINUE", "RESTART", "CONTINUE"]
    assert (actions[1].config, actions[1].checkpoint) == ({"lr": 2}, "/ckpt")
    again = tune_pbt.PopulationBasedTrainingReplay(str(path))
    again.restore(replay.save())
    assert again.on_trial_result(trial, {"training_iteration": 5}).config == {"lr": 4}
