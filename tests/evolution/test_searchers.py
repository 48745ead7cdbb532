"""The searchers driven directly: proposals inside the space, seeds, selection, failures, save/restore."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunecore
from tune_evolution import EvolutionSearcher, RegularizedEvolutionSearcher
from tunecore.space import get_path

from .spaces import check_config, spaces

PROPERTY = settings(max_examples=150, derandomize=True, deadline=None, database=None)
SEARCHERS = (EvolutionSearcher, RegularizedEvolutionSearcher)
SPACE = {
    "lr": tunecore.loguniform(1e-5, 1e-1),
    "layers": tunecore.randint(1, 8),
    "units": tunecore.qrandint(16, 256, 16),
    "act": tunecore.choice(["relu", "tanh", "gelu"]),
    "opt": {"momentum": tunecore.quniform(0.5, 0.99, 0.01), "name": "sgd"},
    "noise": tunecore.randn(0, 1),
}


def loss(config):
    return (math.log10(config["lr"]) + 3) ** 2 + (config["layers"] - 4) ** 2 + (config["act"] != "gelu")


def drive(searcher, steps, objective=loss, start=0, pending=0):
    """Suggest ``steps`` configs, completing each one once ``pending`` newer ones were suggested."""
    configs, waiting = [], []
    for i in range(start, start + steps):
        trial_id = f"t{i:05d}"
        configs.append(searcher.suggest(trial_id))
        waiting.append((trial_id, configs[-1]))
        if len(waiting) > pending:
            trial_id, config = waiting.pop(0)
            searcher.on_trial_complete(trial_id, {"loss": objective(config)})
    return configs


def made(cls, space=SPACE, seed=0, mode="min", **options):
    searcher = cls(**options)
    searcher.setup(space, "loss", mode, seed, 100)
    return searcher


@PROPERTY
@given(
    space=spaces(),
    seed=st.integers(0, 2**32 - 1),
    cls=st.sampled_from(SEARCHERS),
    population_size=st.integers(2, 6),
    pending=st.integers(0, 3),
)
def test_every_proposal_lies_inside_random_spaces(space, seed, cls, population_size, pending):
    searcher = made(cls, space, seed, population_size=population_size)
    rng = np.random.default_rng(seed)
    scores = iter(rng.choice([0.0, 1.0, -3.5, math.nan, math.inf], size=1000) * rng.random(1000))
    for config in drive(searcher, 25, lambda config: next(scores), pending=pending):
        check_config(space, config)
        if "derived" in space:
            assert config["derived"] == len(space)  # sample_from resolved by the core after mutation
    assert len(searcher.population) <= population_size


@pytest.mark.parametrize("cls", SEARCHERS)
def test_same_seed_same_configs_other_seed_other_configs(cls):
    first = drive(made(cls, seed=7, population_size=5), 40, pending=2)
    assert first == drive(made(cls, seed=7, population_size=5), 40, pending=2)
    assert first != drive(made(cls, seed=8, population_size=5), 40, pending=2)


@pytest.mark.parametrize("cls", SEARCHERS)
def test_seed_option_overrides_the_experiment_seed(cls):
    searcher = cls(seed=3)
    searcher.setup(SPACE, "loss", "min", 99, 1)
    assert drive(searcher, 5) == drive(made(cls, seed=3), 5)


@pytest.mark.parametrize("cls", SEARCHERS)
@pytest.mark.parametrize("pending", [0, 3])
def test_restore_continues_the_same_population_and_random_stream(cls, pending):
    original = made(cls, seed=1, population_size=6)
    drive(original, 20, pending=pending)  # mid-run: `pending` trials still running
    state = pickle.loads(pickle.dumps(original.save()))
    resumed = cls(population_size=6)
    resumed.setup(SPACE, "loss", "min", 1, 100)
    resumed.restore(state)
    assert resumed.population == original.population
    for trial_id in [f"t{i:05d}" for i in range(20 - pending, 20)]:  # the running ones finish after the resume
        original.on_trial_complete(trial_id, {"loss": 1.0})
        resumed.on_trial_complete(trial_id, {"loss": 1.0})
    assert drive(resumed, 15, start=20) == drive(original, 15, start=20)
    assert resumed.population == original.population


@pytest.mark.parametrize("cls", SEARCHERS)
def test_evolution_improves_on_its_random_start(cls):
    searcher = made(cls, seed=0, population_size=10)
    configs = drive(searcher, 150)
    assert min(map(loss, configs[10:])) < min(map(loss, configs[:10]))
    assert np.median([loss(c) for c in configs[-40:]]) < np.median([loss(c) for c in configs[:10]])


def test_parents_are_chosen_by_tournament():
    """With copies that barely move, a child's x is its parent's: selection pressure shows in the children."""
    searcher = made(EvolutionSearcher, {"x": tunecore.uniform(0, 1)}, population_size=20, crossover_rate=0.0,
                    mutation_rate=0.0, mutation_scale=1e-9)  # fmt: skip
    drive(searcher, 20, objective=lambda config: config["x"])  # the population: 20 random members
    ranked = sorted(member.genome["x"] for member in searcher.population)
    children = [searcher.suggest(f"c{i}")["x"] for i in range(4000)]  # none completes: the population stays
    ranks = np.array([np.argmin(np.abs(np.array(ranked) - x)) for x in children])
    wins = np.bincount(ranks, minlength=20) / len(children)
    expected = ((20 - np.arange(20)) ** 3 - (19 - np.arange(20)) ** 3) / 20**3  # tournament of 3 of 20
    assert np.abs(wins - expected).max() < 0.02
    assert wins[:5].sum() > 0.55 and wins[-5:].sum() < 0.03  # uniform selection would give 0.25 and 0.25


def test_regularized_evolution_removes_the_oldest_even_the_best():
    searcher = made(RegularizedEvolutionSearcher, {"x": tunecore.uniform(0, 1)}, population_size=3, sample_size=2)
    for i, value in enumerate([0.0, 5.0, 6.0, 7.0]):
        searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": value})
    assert [m.trial_id for m in searcher.population] == ["t1", "t2", "t3"]  # t0 was the best, and the oldest


def test_evolution_keeps_its_elite():
    searcher = made(EvolutionSearcher, {"x": tunecore.uniform(0, 1)}, population_size=4, elitism=1)
    for i in range(60):
        searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": 0.0 if i == 2 else 10.0 - i / 10})
        if i >= 2:
            assert "t2" in [m.trial_id for m in searcher.population]
    assert len(searcher.population) == 4


@pytest.mark.parametrize("cls", SEARCHERS)
def test_errored_and_empty_trials_are_ignored_nan_and_inf_count_as_worst(cls):
    searcher = made(cls, {"x": tunecore.uniform(0, 1)}, mode="max", population_size=5)
    for i in range(5):
        searcher.suggest(f"t{i}")
    searcher.on_trial_complete("t0", {"loss": 100.0}, error=True)
    searcher.on_trial_complete("t1", None)
    searcher.on_trial_complete("t2", {"loss": math.nan})
    searcher.on_trial_complete("t3", {"loss": math.inf})  # in mode max, +inf would otherwise be the best
    searcher.on_trial_complete("t4", {"loss": -2.0})
    searcher.on_trial_complete("unknown", {"loss": 1.0})
    assert {m.trial_id: m.score for m in searcher.population} == {"t2": math.inf, "t3": math.inf, "t4": 2.0}
    assert searcher.score({"loss": "n/a"}) == searcher.score({}) == math.inf


@pytest.mark.parametrize("cls", SEARCHERS)
def test_keeps_proposing_while_trials_run_and_never_finishes(cls):
    searcher = made(cls, {"x": tunecore.uniform(0, 1)}, population_size=3)
    configs = [searcher.suggest(f"t{i}") for i in range(10)]  # nothing completed: random configs, no waiting
    searcher.on_trial_complete("t0", {"loss": 0.5})
    configs += [searcher.suggest(f"u{i}") for i in range(300)]  # children of a one-member population
    assert all(isinstance(config, dict) and 0 <= config["x"] < 1 for config in configs)


@pytest.mark.parametrize("cls", SEARCHERS)
def test_points_to_evaluate_come_first_partial_ones_filled(cls):
    points = [
        {"lr": 0.01, "layers": 2, "act": "tanh", "units": 32, "opt": {"momentum": 0.9}, "noise": 0.0},
        {"lr": 0.001},
    ]
    searcher = made(cls, population_size=4, points_to_evaluate=points)
    first, second, *_ = drive(searcher, 6)
    assert first == {**points[0], "opt": {"momentum": 0.9, "name": "sgd"}}
    assert second["lr"] == 0.001 and second["opt"]["name"] == "sgd"
    with pytest.raises(tunecore.SpaceError, match=r"points_to_evaluate\[0\] has \['nope'\], which are not parameters"):
        made(cls, points_to_evaluate=[{"nope": 1}])


@pytest.mark.parametrize("cls", SEARCHERS)
def test_conditional_space_resolved_after_mutation(cls):
    space = {
        "model": tunecore.choice(["small", "large"]),
        "width": tunecore.randint(1, 5),
        "params": tunecore.sample_from(lambda spec: spec.config["width"] * (10 if spec.config.model == "large" else 1)),
    }
    searcher = made(cls, space, population_size=4)
    for config in drive(searcher, 60, objective=lambda config: -config["params"]):
        assert config["params"] == config["width"] * (10 if config["model"] == "large" else 1)


@pytest.mark.parametrize("cls", SEARCHERS)
def test_metric_and_mode_from_options_or_setup_else_a_clear_error(cls):
    searcher = cls(metric="acc", mode="max")
    searcher.setup(SPACE, None, None, 0, 1)
    assert (searcher.metric, searcher.mode) == ("acc", "max")
    with pytest.raises(ValueError, match=f"the {cls.name} searcher needs one metric to rank trials and its mode"):
        cls().setup(SPACE, None, None, 0, 1)
    with pytest.raises(ValueError, match='needs mode "min" or "max", got None'):
        cls(metric="acc").setup(SPACE, None, None, 0, 1)
    with pytest.raises(ValueError, match=f"the {cls.name} searcher takes one metric.*'optuna'"):
        cls().setup(SPACE, ["a", "b"], ["min", "max"], 0, 1)
    searcher = cls(metric="b")  # its own metric picks one of the experiment's, and that metric's mode
    searcher.setup(SPACE, ["a", "b"], ["min", "max"], 0, 1)
    assert (searcher.metric, searcher.mode) == ("b", "max")


@pytest.mark.parametrize(
    ("cls", "options", "message"),
    [
        (EvolutionSearcher, {"population_size": 1}, "population_size must be an integer >= 2, got 1"),
        (EvolutionSearcher, {"tournament_size": 0}, "tournament_size must be a positive integer, got 0"),
        (EvolutionSearcher, {"crossover_rate": 1.5}, "crossover_rate must be a number between 0 and 1"),
        (EvolutionSearcher, {"mutation_rate": -0.1}, "mutation_rate must be a number between 0 and 1"),
        (EvolutionSearcher, {"elitism": 20}, "elitism must be an integer between 0 and 19"),
        (EvolutionSearcher, {"mutation_scale": 0}, "mutation_scale must be > 0, got 0"),
        (RegularizedEvolutionSearcher, {"sample_size": 0}, "sample_size must be a positive integer, got 0"),
        (RegularizedEvolutionSearcher, {"mode": "maximise"}, 'mode must be "min" or "max"'),
        (RegularizedEvolutionSearcher, {"points_to_evaluate": {"lr": 1}}, "points_to_evaluate must be a list"),
    ],
)
def test_bad_options_are_named(cls, options, message):
    with pytest.raises(ValueError, match=message):
        cls(**options)


def test_gene_values_are_copies_independent_of_the_returned_config():
    searcher = made(EvolutionSearcher, {"c": tunecore.choice([{"k": [1]}, {"k": [2]}])}, population_size=2)
    config = searcher.suggest("t0")
    config["c"]["k"].append(99)  # a trainable changing its config does not change the population
    searcher.on_trial_complete("t0", {"loss": 0.0})
    assert get_path(searcher.population[0].genome, ("c",)) in ({"k": [1]}, {"k": [2]})


# --- issue 12, item 5: the shared option checks, the seed rule and the metric resolution ----------------------


@pytest.mark.parametrize("cls", SEARCHERS)
@pytest.mark.parametrize("seed", [-1, 2**32, True, 1.5])
def test_a_seed_outside_the_one_rule_is_refused_when_built(cls, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer between 0 and 2\*\*32 - 1 \(or None\)"):
        cls(seed=seed)


@pytest.mark.parametrize("cls", SEARCHERS)
def test_numpy_integers_are_integers_and_an_infinite_scale_is_refused(cls):
    searcher = cls(population_size=np.int64(4), seed=np.int64(3))
    assert searcher.population_size == 4 and type(searcher.population_size) is int
    with pytest.raises(ValueError, match=r"mutation_scale must be a finite number, got inf"):
        cls(mutation_scale=math.inf)
    with pytest.raises(ValueError, match=r"metric must be a result field name \(a non-empty string\), got 3"):
        cls(metric=3)
    with pytest.raises(ValueError, match=r"metric must be one result field name, got \['a', 'b'\].*'optuna'"):
        cls(metric=["a", "b"])


@pytest.mark.parametrize("cls", SEARCHERS)
def test_a_missing_metric_says_where_to_set_it(cls):
    message = rf"^the {cls.name} searcher needs one metric to rank trials and its mode, got neither: set TuneConfig"
    with pytest.raises(ValueError, match=message):
        cls().setup(SPACE, None, None, 0, 1)
