"""PBT (`pbt`) through the real controller and executors, selected by name, on the toy of tests/pbt/support.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import tunecore
from tests.pbt.support import SEED, SPACE, STEPS, best_score, policy, run_toy

TARGET = 55.0
"""No fixed learning rate ever passes 50 (see support.py); PBT passes TARGET in STEPS iterations."""


def result_at(grid: tunecore.ResultGrid, trial_id: str, iteration: int) -> dict:
    """The result a trial reported at ``iteration``."""
    (result,) = [r for r in grid if r.trial_id == trial_id]
    (found,) = [m for m in result.metrics_history if m["training_iteration"] == iteration]
    return found


def assert_exploits_copied_the_donors(grid: tunecore.ResultGrid) -> list[dict]:
    """Every exploit: the restarted trial loaded exactly the state its donor saved, with the new config."""
    exploits = policy(grid.experiment_path)
    for line in exploits:
        first = result_at(grid, line["trial_id"], line["training_iteration"] + 1)  # its count goes on
        saved = result_at(grid, line["donor"], line["donor_iteration"])
        assert first["loaded"] == saved["saved"], line
        assert first["lr"] == line["new_config"]["lr"], line
        assert line["checkpoint"] == os.path.join(
            grid.experiment_path, line["donor"], f"checkpoint_{line['donor_iteration']:06d}"
        )
    return exploits


def test_pbt_beats_every_fixed_configuration(synch_run, tmp_path):
    fixed = run_toy(tmp_path, scheduler="fifo", options={}, steps=STEPS, space=SPACE, seed=SEED)
    assert [r.metrics_history[0]["lr"] for r in fixed] == [r.metrics_history[0]["lr"] for r in synch_run]  # same 4
    assert best_score(synch_run) >= TARGET > 50 > best_score(fixed)
    assert [r.metrics["training_iteration"] for r in synch_run] == [STEPS] * 4
    assert {r.status for r in synch_run} == {"TERMINATED"}


def test_synchronous_runs_are_the_same_with_the_local_executor(synch_run, tmp_path):
    grid = run_toy(tmp_path, steps=STEPS, space=SPACE, seed=SEED, executor="local", executor_options={"num_workers": 2})
    assert [r.metrics["score"] for r in grid] == [r.metrics["score"] for r in synch_run]
    assert [r.config for r in grid] == [r.config for r in synch_run]
    strip = [
        {k: v for k, v in line.items() if k not in ("timestamp", "checkpoint")} for line in policy(grid.experiment_path)
    ]
    expected = [
        {k: v for k, v in line.items() if k not in ("timestamp", "checkpoint")}
        for line in policy(synch_run.experiment_path)
    ]
    assert strip == expected


def test_an_exploit_restarts_from_the_donors_latest_checkpoint(synch_run):
    exploits = assert_exploits_copied_the_donors(synch_run)
    assert len(exploits) == STEPS // 4 - 1  # one member (a quarter of 4) at each point but the last
    for line in exploits:  # synchronous: everyone is exploited at the perturbation points, a donor there
        assert line["donor_iteration"] % 4 == 0 and line["training_iteration"] == line["donor_iteration"] + 1
        assert set(line["operations"]) == {"lr"}
        assert line["donor_config"]["lr"] == result_at(synch_run, line["donor"], line["donor_iteration"])["lr"]
    for result in synch_run:  # the config the trial ended with is the one of its last exploit
        mine = [line for line in exploits if line["trial_id"] == result.trial_id]
        if mine:
            assert result.config == mine[-1]["new_config"]


def test_policy_files_hold_each_trials_lineage(synch_run):
    path = Path(synch_run.experiment_path)
    lineages: dict[str, list[dict]] = {}
    for line in policy(path):  # the donor's lineage as it was then, and the exploit
        lineages[line["trial_id"]] = [*lineages.get(line["donor"], []), line]
        assert {"time", "donor", "old_config", "new_config"} <= set(line)
    for result in synch_run:
        assert policy(path, f"pbt_policy_{result.trial_id}.jsonl") == lineages.get(result.trial_id, [])
    for lineage in lineages.values():  # each change happens at a later training iteration of the lineage
        steps = [line["step"] for line in lineage]
        assert steps == sorted(set(steps))


def test_no_policy_files_without_log_config(tmp_path):
    options = {"time_attr": "training_iteration", "perturbation_interval": 4, "synch": True, "log_config": False}
    grid = run_toy(tmp_path, options={**options, "hyperparam_mutations": {"lr": [1e-3, 2e-3, 4e-3]}}, steps=12)
    assert not [name for name in os.listdir(grid.experiment_path) if name.startswith("pbt_")]
    assert {r.config["lr"] for r in grid} <= {1e-3, 2e-3, 4e-3} | {r.metrics_history[0]["lr"] for r in grid}


def test_synchronous_mode_with_uneven_speeds_a_failure_and_an_early_end(tmp_path):
    sleeps = {"t00001": 0.0, "t00002": 0.002, "t00003": 0.01, "t00004": 0.004}
    space = {**SPACE, "sleep": sleeps, "fail_trial": "t00002", "fail_at": 6, "stop_trial": "t00003", "stop_at": 10}
    grid = run_toy(tmp_path, steps=32, space=space, seed=SEED, executor="local", executor_options={"num_workers": 2})
    assert [r.status for r in grid] == ["TERMINATED", "ERROR", "TERMINATED", "TERMINATED"]
    assert [r.metrics["training_iteration"] for r in grid] == [32, 5, 10, 32]
    results = [m for r in grid for m in r.metrics_history]
    for point in range(4, 32, 4):  # nobody went past a perturbation point before all live members reached it
        reached = [m["timestamp"] for m in results if m["training_iteration"] == point]
        beyond = [m["timestamp"] for m in results if m["training_iteration"] == point + 1]
        assert max(reached) < min(beyond), point
    assert policy(grid.experiment_path) and assert_exploits_copied_the_donors(grid)


@pytest.mark.parametrize("synch", [True, False])
def test_num_to_keep_1_never_loses_a_donor_checkpoint(tmp_path, synch):
    options = {"time_attr": "training_iteration", "perturbation_interval": 2, "synch": synch, "seed": SEED}
    options["hyperparam_mutations"] = {"lr": tunecore.loguniform(1e-4, 1e-1)}
    grid = run_toy(
        tmp_path,
        options=options,
        steps=30,
        space={**SPACE, "sleep": {"t00002": 0.003, "t00004": 0.001}},
        executor="local",
        executor_options={"num_workers": 2},
        checkpoint_config=tunecore.CheckpointConfig(num_to_keep=1),
    )
    assert grid.num_errors == 0
    assert len(assert_exploits_copied_the_donors(grid)) >= 2  # how many depends on timing when asynchronous
    for result in grid:  # only the latest checkpoint is kept in the end
        assert [os.path.basename(c.path) for c, _ in result.best_checkpoints] == ["checkpoint_000030"]


def test_asynchronous_mode_time_multiplexes_the_population_inline(tmp_path):
    options = {"time_attr": "training_iteration", "perturbation_interval": 4, "seed": SEED}
    grid = run_toy(
        tmp_path,
        options={**options, "hyperparam_mutations": {"lr": tunecore.loguniform(1e-4, 1e-1)}},
        steps=40,
        space=SPACE,
        seed=SEED,
    )
    exploits = assert_exploits_copied_the_donors(grid)
    assert len(exploits) >= 4 and len({line["trial_id"] for line in exploits}) >= 2  # with one trial at a time
    first = sorted(
        (m["timestamp"], m["trial_id"]) for r in grid for m in r.metrics_history if m["training_iteration"] == 5
    )
    last = sorted(
        (m["timestamp"], m["trial_id"]) for r in grid for m in r.metrics_history if m["training_iteration"] == 4
    )
    assert first[0][0] > last[-1][0]  # members took turns: all reached the first point before anyone went on
    assert [r.metrics["training_iteration"] for r in grid] == [40] * 4


def test_resume_after_an_interruption_continues_the_population(tmp_path):
    # t00001 fails once at iteration 10, mid-interval. Retried at once, or interrupting the run (fail_fast) and
    # resumed, the population goes on the same way.
    def space(marker: Path) -> dict:
        return {**SPACE, "fail_trial": "t00001", "fail_at": 10, "fail_marker": str(marker)}

    straight = run_toy(
        tmp_path / "a",
        steps=40,
        space=space(tmp_path / "a.marker"),
        seed=SEED,
        failure_config=tunecore.FailureConfig(max_failures=1),
    )
    interrupted = run_toy(
        tmp_path / "b",
        steps=40,
        space=space(tmp_path / "b.marker"),
        seed=SEED,
        failure_config=tunecore.FailureConfig(fail_fast=True),
    )
    assert interrupted[0].status == "ERROR"
    assert max(r.metrics["training_iteration"] for r in interrupted) < 40
    before = len(policy(interrupted.experiment_path))
    resumed = tunecore.Tuner.restore(interrupted.experiment_path, resume_errored=True).fit()
    assert [r.status for r in resumed] == ["TERMINATED"] * 4
    assert [r.metrics["score"] for r in resumed] == [r.metrics["score"] for r in straight]
    assert [r.config["lr"] for r in resumed] == [r.config["lr"] for r in straight]

    def schedule(grid: tunecore.ResultGrid) -> list[tuple]:
        lines = policy(grid.experiment_path)
        return [(x["trial_id"], x["donor"], x["step"], x["training_iteration"], x["new_config"]["lr"]) for x in lines]

    assert schedule(resumed) == schedule(straight)
    assert 0 < before < len(policy(straight.experiment_path))  # exploits happened before and after the interruption
