"""Warm start: ``points_to_evaluate`` with ``evaluated_rewards`` join the population at setup and are not run."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import tunecore
from tune_evolution import EvolutionSearcher, RegularizedEvolutionSearcher

SPACE = {"a": tunecore.uniform(0, 1), "b": tunecore.uniform(0, 1), "c": tunecore.uniform(0, 1)}
POINTS = [{"a": 0.1, "b": 0.2, "c": 0.3}, {"a": 0.9, "b": 0.8, "c": 0.7}]
REWARDS = [5.0, 1.0]  # losses: the second point is the better one


def loss(config: dict[str, Any]) -> float:
    return sum(config.values())


def genes_differing(config: dict[str, Any], point: dict[str, Any]) -> int:
    return sum(config[key] != point[key] for key in point)


def made(cls: Any, **options: Any) -> Any:
    searcher = cls(points_to_evaluate=POINTS, evaluated_rewards=REWARDS, **options)
    searcher.setup(SPACE, "loss", "min", 0, -1)
    return searcher


@pytest.mark.parametrize("cls", [EvolutionSearcher, RegularizedEvolutionSearcher])
def test_the_points_are_members_before_anything_runs(cls):
    searcher = made(cls, population_size=5)
    assert [(m.trial_id, m.genome, m.score) for m in searcher.population] == [
        ("evaluated_rewards[0]", POINTS[0], 5.0),
        ("evaluated_rewards[1]", POINTS[1], 1.0),
    ]
    first = searcher.suggest("t0")
    assert all(genes_differing(first, point) == 3 for point in POINTS)  # not proposed again: a random config
    mode_max = cls(points_to_evaluate=POINTS, evaluated_rewards=REWARDS, population_size=5)
    mode_max.setup(SPACE, "acc", "max", 0, -1)
    assert [m.score for m in mode_max.population] == [-5.0, -1.0]  # lower is better inside


def test_a_full_population_breeds_from_the_best_at_once():
    searcher = made(RegularizedEvolutionSearcher, population_size=2, sample_size=10)
    for index in range(5):  # the best of 10 draws from two members is the better one (seed 0)
        child = searcher.suggest(f"t{index}")
        assert genes_differing(child, POINTS[1]) == 1  # one gene of the better point mutated


def test_evaluated_points_take_the_place_of_initial_random_configs():
    def third(searcher: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        for trial_id in ("t0", "t1"):
            config = searcher.suggest(trial_id)
            assert all(genes_differing(config, member.genome) == 3 for member in searcher.population)  # random
            searcher.on_trial_complete(trial_id, {"loss": loss(config)})
        return searcher.suggest("t2"), [member.genome for member in searcher.population]

    # population 4: two evaluated points and two random configs fill it, then the third config is a child
    child, members = third(made(RegularizedEvolutionSearcher, population_size=4, sample_size=10))
    assert len(members) == 4 and any(genes_differing(child, genome) == 1 for genome in members)
    cold = RegularizedEvolutionSearcher(population_size=4, sample_size=10)  # without them: still random
    cold.setup(SPACE, "loss", "min", 0, -1)
    config, members = third(cold)
    assert len(members) == 2 and all(genes_differing(config, genome) == 3 for genome in members)


@pytest.mark.parametrize("cls", [EvolutionSearcher, RegularizedEvolutionSearcher])
def test_in_an_experiment_the_points_are_not_run(tmp_path, cls):
    def train(config: dict[str, Any]) -> None:
        tunecore.report({"loss": loss(config)})

    searcher = cls(population_size=4, points_to_evaluate=POINTS, evaluated_rewards=REWARDS)
    grid = tunecore.Tuner(
        train,
        param_space={**SPACE, "fixed": 1},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=6, seed=0, executor="inline", searcher=searcher
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    run = [{key: result.config[key] for key in "abc"} for result in grid]
    assert len(run) == 6 and not any(point in run for point in POINTS)  # without the rewards, they would run first


@pytest.mark.parametrize("cls", [EvolutionSearcher, RegularizedEvolutionSearcher])
def test_save_and_restore_keep_the_evaluated_members(cls):
    def fresh() -> Any:
        return made(cls, population_size=3)

    original = fresh()
    for index in range(2):
        config = original.suggest(f"t{index}")
        original.on_trial_complete(f"t{index}", {"loss": loss(config)})
    restored = fresh()
    restored.restore(pickle.loads(pickle.dumps(original.save())))
    assert [original.suggest(f"n{i}") for i in range(3)] == [restored.suggest(f"n{i}") for i in range(3)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"points_to_evaluate": POINTS, "evaluated_rewards": [1.0]}, "evaluated_rewards has 1 values for 2 points"),
        ({"evaluated_rewards": [1.0]}, "evaluated_rewards needs points_to_evaluate"),
        (
            {"points_to_evaluate": POINTS, "evaluated_rewards": 1.0},
            "evaluated_rewards must be a list, one reward per point",
        ),
    ],
)
def test_bad_rewards_fail_when_built(options, message):
    with pytest.raises(ValueError, match=message):
        EvolutionSearcher(**options)


@pytest.mark.parametrize(
    ("points", "rewards", "message"),
    [
        ([{"a": 0.1, "b": 0.2}], [1.0], r"points_to_evaluate\[0\] misses \['c'\]: a point with an evaluated reward"),
        (POINTS, [1.0, float("nan")], r"evaluated_rewards\[1\] must be a finite number"),
        (POINTS, [1.0, [1.0, 2.0]], r"evaluated_rewards\[1\] must be a finite number"),
    ],
)
def test_bad_points_or_rewards_fail_at_setup(points, rewards, message):
    searcher = RegularizedEvolutionSearcher(points_to_evaluate=points, evaluated_rewards=rewards)
    with pytest.raises(ValueError, match=message):
        searcher.setup(SPACE, "loss", "min", 0, -1)
