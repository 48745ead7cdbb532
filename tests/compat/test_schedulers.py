"""Ray Tune compatibility: the decisions of ASHA, HyperBand, the median stopping rule and PBT.

Each test names the Ray Tune behaviour it checks (from Ray's documentation and source), using tunecore's real
schedulers, created by name as a user would. Where tunecore differs on purpose, the test pins tunecore's
behaviour and docs/ray-tune-differences.md says why.
"""

from __future__ import annotations

import json
import os
from typing import Any

import tunecore
from tests.asha.support import iterations, run
from tune_asha.hyperband import hyperband_brackets


def scheduler(name: str, trial_ids: str, **options: Any) -> Any:
    created = tunecore.load_plugins({}).create("scheduler", name, options)
    created.setup("loss", "min")
    for trial_id in trial_ids:
        created.on_trial_add(tunecore.Trial(trial_id=trial_id, config={}))
    return created


def decide(sched: Any, trial_id: str, iteration: int, loss: float) -> str:
    trial = tunecore.Trial(trial_id=trial_id, config={})
    result = {"training_iteration": iteration, "time_total_s": float(iteration), "loss": loss}
    return sched.on_trial_result(trial, result).action.value


def test_asha_keeps_the_top_fraction_at_each_rung_and_the_first_always_goes_on():
    """Ray: AsyncHyperBandScheduler stops a trial at a rung when its score is below the (1 - 1/reduction_factor)
    percentile (numpy's linear interpolation) of the scores recorded there before it; the first trial at a rung
    has nothing to compare with and continues."""
    asha = scheduler("asha", "abcd", max_t=9, grace_period=1, reduction_factor=3)
    assert decide(asha, "a", 1, 0.5) == "CONTINUE"  # first at rung 1
    assert decide(asha, "b", 1, 0.9) == "STOP"  # worse than 0.5
    assert decide(asha, "c", 1, 0.6) == "CONTINUE"  # the 2/3 percentile of losses [0.5, 0.9] is 0.633...
    assert decide(asha, "d", 1, 0.7) == "STOP"  # that of [0.5, 0.6, 0.9] is 0.566...
    assert decide(asha, "a", 2, 0.4) == "CONTINUE"  # between rungs: no decision
    assert decide(asha, "a", 3, 0.3) == "CONTINUE"  # first at rung 3


def test_asha_stops_trials_at_max_t():
    """Ray: AsyncHyperBandScheduler stops a trial whose time_attr reaches max_t (stop_last_trials=True)."""
    asha = scheduler("asha", "a", max_t=4, grace_period=1, reduction_factor=2)
    assert [decide(asha, "a", i, 1.0 / i) for i in (1, 2, 3, 4)] == ["CONTINUE", "CONTINUE", "CONTINUE", "STOP"]


def test_asha_defaults_are_rays():
    """Ray: AsyncHyperBandScheduler(time_attr="training_iteration", max_t=100, grace_period=1,
    reduction_factor=4, brackets=1, stop_last_trials=True)."""
    asha = scheduler("asha", "")
    assert (asha.time_attr, asha.max_t, asha.grace_period, asha.reduction_factor, len(asha.brackets)) == (
        "training_iteration",
        100,
        1,
        4,
        1,
    )
    assert asha.stop_last_trials is True


def test_hyperband_runs_the_best_of_each_rung_to_max_t(tmp_path):
    """Ray: HyperBandScheduler pauses trials at a rung until the rung is complete, then continues the best
    1/eta and stops the others; max_t 3, eta 3: the first bracket of 3 trials keeps one for budget 3."""
    grid = run(tmp_path, "hyperband", {"max_t": 3}, [0.5, 0.1, 0.3])
    assert iterations(grid) == [1, 3, 1]


def test_hyperband_never_runs_a_trial_past_the_first_result_at_or_past_max_t(tmp_path):
    """Ray: HyperBandScheduler compares result[time_attr] >= the rung's budget; a promoted trial already at or
    past the next budget is not continued ("too far ahead"), and no trial continues past max_t."""
    # samples = 10 * step: the first result of every trial is past the budgets 1, 3 and max_t 9
    grid = run(tmp_path, "hyperband", {"time_attr": "samples", "max_t": 9}, [0.5, 0.1, 0.3, 0.2, 0.4])
    assert iterations(grid) == [1, 1, 1, 1, 1]
    assert {r.status for r in grid} == {"TERMINATED"}


def test_hyperband_rung_sizes_follow_the_paper():
    """Ray: HyperBandScheduler keeps ceil(n / eta) trials at each halving and computes budgets in integers.

    tunecore differs on purpose: it follows Algorithm 1 of Li et al. (2018) exactly, floor(n / eta**i) trials
    and budgets R / eta**(s - i) (ray-tune-differences.md)."""
    assert hyperband_brackets(81, 3)[1] == [(34, 3), (11, 9), (3, 27), (1, 81)]  # Ray would keep 12 of 34
    assert hyperband_brackets(100, 3)[0][0] == (81, 100 / 81)


def test_median_stops_a_trial_whose_best_is_worse_than_the_median_of_running_means():
    """Ray: MedianStoppingRule stops a trial whose best result by time t is strictly worse than the median of the
    other trials' running means up to t, once min_samples_required trials reached t (after grace_period)."""
    median = scheduler("median", "abcd", time_attr="training_iteration", grace_period=1, min_samples_required=2)
    for iteration in (1, 2, 3):
        decide(median, "a", iteration, 1.0)
        decide(median, "b", iteration, 2.0)
    assert decide(median, "c", 1, 1.4) == "CONTINUE"  # median of the means 1 and 2 is 1.5: not worse
    assert decide(median, "d", 1, 1.6) == "STOP"  # worse than 1.5 (the median of 1, 1.4, 2 is 1.4)


def pbt_trainable(config: dict[str, Any]) -> None:
    """score grows by ``rate`` per step, from the checkpoint it is given."""
    checkpoint = tunecore.get_checkpoint()
    score = checkpoint.to_dict()["score"] if checkpoint else 0.0
    start = tunecore.get_context().start_iteration
    for _ in range(start, 6):
        score += config["rate"]
        tunecore.report({"score": score}, checkpoint=tunecore.Checkpoint.from_dict({"score": score}))


def test_pbt_bottom_quantile_exploits_a_top_member_and_explores_its_config(tmp_path):
    """Ray: PopulationBasedTraining, at a perturbation point, restarts a trial of the bottom quantile_fraction
    from the latest checkpoint of a trial of the top quantile, with that trial's config perturbed."""
    grid = tunecore.Tuner(
        pbt_trainable,
        param_space={"rate": tunecore.grid_search([1.0, 2.0, 3.0, 4.0])},
        tune_config=tunecore.TuneConfig(
            metric="score",
            mode="max",
            executor="inline",
            seed=0,
            scheduler="pbt",
            scheduler_options={
                "time_attr": "training_iteration",
                "perturbation_interval": 3,
                "synch": True,
                "seed": 0,
                "hyperparam_mutations": {"rate": [1.0, 2.0, 3.0, 4.0]},
            },
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    with open(os.path.join(grid.experiment_path, "pbt_global.jsonl")) as file:
        exploits = [json.loads(line) for line in file]
    assert [(e["trial_id"], e["donor"]) for e in exploits] == [("t00001", "t00004")]  # worst takes from best
    assert exploits[0]["old_config"]["rate"] == 1.0 and exploits[0]["new_config"]["rate"] in (3.0, 4.0)
    worst = grid[0].metrics_history
    # synch mode trains one more step with the old config (tunecore restarts a trial at one of its results), then
    # the trial goes on from the best member's checkpoint ranked at step 3 (score 12) with the explored rate
    assert worst[3]["score"] == 4.0
    assert worst[4]["score"] == 12.0 + exploits[0]["new_config"]["rate"]
