"""The PBT scheduler driven by hand: ranking, NaN, donors without checkpoints, burn-in, custom_explore_fn."""

from __future__ import annotations

import math

import attrs
import pytest

import tunecore
from tune_pbt import PopulationBasedTraining


class Population:
    """Trials of one scheduler, each with a checkpoint directory per result when ``checkpoints``."""

    def __init__(self, tmp_path, size: int = 4, mode: str = "max", **options) -> None:
        options = {"time_attr": "training_iteration", "perturbation_interval": 1, "seed": 0, **options}
        options.setdefault("hyperparam_mutations", {"lr": [0.1, 0.2, 0.3]})
        self.scheduler = PopulationBasedTraining(**options)
        self.scheduler.setup("score", mode)
        self.tmp_path = tmp_path
        self.trials = {}
        for i in range(1, size + 1):
            trial = tunecore.Trial(trial_id=f"t{i}", config={"lr": 0.2}, path=str(tmp_path / f"t{i}"))
            self.trials[trial.trial_id] = trial
            self.scheduler.on_trial_add(trial)

    def report(self, trial_id: str, iteration: int, score: float, checkpoint: bool = True) -> tunecore.Decision:
        """One result of ``trial_id`` (with a new checkpoint directory when ``checkpoint``)."""
        trial = self.trials[trial_id]
        if checkpoint:
            directory = self.tmp_path / trial_id / f"checkpoint_{iteration:06d}"
            directory.mkdir(parents=True)
            trial = self.trials[trial_id] = attrs.evolve(trial, checkpoint=str(directory))  # a view per change
        return self.scheduler.on_trial_result(trial, {"score": score, "training_iteration": iteration})


@pytest.mark.parametrize(("mode", "bad"), [("max", math.nan), ("min", math.nan), ("max", math.inf), ("min", -math.inf)])
def test_nan_and_infinite_scores_rank_worst(tmp_path, mode, bad):
    population = Population(tmp_path, mode=mode, quantile_fraction=0.25)
    sign = 1 if mode == "max" else -1
    for trial_id, score in (("t1", 5), ("t2", 7), ("t4", 1)):
        population.report(trial_id, 1, sign * score)
    decision = population.report("t3", 1, bad)
    assert decision.action == "RESTART" and decision.checkpoint == population.trials["t2"].checkpoint
    assert population.scheduler.members["t3"].config == decision.config


def test_a_donor_without_a_checkpoint_does_not_donate(tmp_path):
    population = Population(tmp_path, size=2, quantile_fraction=0.5)
    population.report("t2", 1, 10.0, checkpoint=False)
    decision = population.report("t1", 1, 0.0)
    assert decision.action != "RESTART" and population.scheduler.skipped_exploits == 1
    population.report("t2", 2, 10.0)  # now it has one
    assert population.report("t1", 2, 0.0).action == "RESTART"


def test_perturbation_points_follow_burn_in_and_interval(tmp_path):
    population = Population(tmp_path, size=2, quantile_fraction=0.5, perturbation_interval=3, burn_in_period=5)
    population.report("t2", 6, 10.0)
    actions = [population.report("t1", i, 0.0).action for i in range(1, 12)]
    # not before the burn-in (5), then 3 after the last perturbation point (or restart): 5, 8, 11
    assert [i for i, action in enumerate(actions, 1) if action == "RESTART"] == [5, 8, 11]


def test_custom_explore_fn_has_the_last_word(tmp_path):
    def explore(config):
        return {**config, "lr": min(config["lr"], 0.15), "note": "explored"}

    population = Population(tmp_path, size=2, quantile_fraction=0.5, custom_explore_fn=explore)
    population.report("t2", 1, 10.0)
    decision = population.report("t1", 1, 0.0)
    assert decision.config["note"] == "explored" and decision.config["lr"] <= 0.15
    only = Population(
        tmp_path / "only", size=2, quantile_fraction=0.5, custom_explore_fn=explore, hyperparam_mutations=None
    )
    only.report("t2", 1, 10.0)
    assert only.report("t1", 1, 0.0).config == {"lr": 0.15, "note": "explored"}


def test_quantile_fraction_zero_never_exploits(tmp_path):
    population = Population(tmp_path, quantile_fraction=0.0)
    actions = {population.report(trial_id, 1, float(i)).action for i, trial_id in enumerate(population.trials)}
    assert "RESTART" not in actions


def test_a_synchronous_point_waits_for_the_population_and_the_searcher(tmp_path):
    population = Population(tmp_path, size=3, quantile_fraction=0.34, synch=True, perturbation_interval=2)
    scheduler, trials = population.scheduler, population.trials
    assert population.report("t1", 1, 0.0).action == "CONTINUE"
    assert population.report("t1", 2, 0.0).action == "PAUSE"
    assert population.report("t2", 2, 5.0).action == "PAUSE"
    assert population.report("t3", 2, 9.0).action == "PAUSE"  # more members may still come
    paused = [trials["t1"], trials["t2"], trials["t3"]]
    assert scheduler.choose_trial_to_run([], paused) is trials["t1"]  # none more: t1 is exploited first
    assert scheduler.choose_trial_to_run([], [trials["t2"], trials["t3"]]) is trials["t2"]  # t3 is t1's donor
    restart = population.report("t1", 3, 0.0)
    assert restart.action == "RESTART" and restart.checkpoint == trials["t3"].checkpoint
    assert scheduler.choose_trial_to_run([], [trials["t3"]]) is trials["t3"]  # free to go on now


def test_metric_and_mode_come_from_the_options_or_the_experiment():
    mutations = {"lr": [0.1, 0.2]}
    scheduler = PopulationBasedTraining(hyperparam_mutations=mutations, metric="acc", mode="min")
    scheduler.setup("score", "max")
    assert (scheduler.metric, scheduler.mode) == ("acc", "min")
    with pytest.raises(ValueError, match="the pbt scheduler needs one metric"):
        PopulationBasedTraining(hyperparam_mutations=mutations).setup(None, "max")
    with pytest.raises(ValueError, match='the pbt scheduler needs mode "min" or "max"'):
        PopulationBasedTraining(hyperparam_mutations=mutations).setup("score", None)
