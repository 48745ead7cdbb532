"""Ray Tune's class names, with Ray's constructor arguments, each run in a short real experiment.

``RAY`` lists the arguments of Ray Tune 2.x's constructors (read from Ray's source: ``SkOptSearch`` from the last
release that had it), in Ray's order with Ray's defaults: a Ray user's call, positional or by keyword, means
the same here. Each name then runs a short experiment through ``tunecore.Tuner`` with the inline executor,
configured as in Ray (the metric and mode on the component, not on the TuneConfig).
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import optuna
import pytest
from hyperopt import hp

import tune_asha
import tune_bayesopt
import tune_pbt
import tunecore
from tests.asha.support import hyperbolic, iterations
from tests.pbt.support import policy, run_toy
from tune_asha import ASHAScheduler, AsyncHyperBandScheduler, HyperBandScheduler, MedianStoppingRule
from tune_bayesopt import HyperOptSearch, OptunaSearch, SkOptSearch
from tune_pbt import PB2, PopulationBasedTraining, PopulationBasedTrainingReplay
from tunecore.builtin.searchers import RandomSearcher

REQUIRED = inspect.Parameter.empty

RAY: dict[Any, list[tuple[str, Any]]] = {
    AsyncHyperBandScheduler: [
        ("time_attr", "training_iteration"),
        ("metric", None),
        ("mode", None),
        ("max_t", 100),
        ("grace_period", 1),
        ("reduction_factor", 4),
        ("brackets", 1),
        ("stop_last_trials", True),
    ],
    HyperBandScheduler: [
        ("time_attr", "training_iteration"),
        ("metric", None),
        ("mode", None),
        ("max_t", 81),
        ("reduction_factor", 3),
        ("stop_last_trials", True),
    ],
    MedianStoppingRule: [
        ("time_attr", "time_total_s"),
        ("metric", None),
        ("mode", None),
        ("grace_period", 60.0),
        ("min_samples_required", 3),
        ("min_time_slice", 0),
        ("hard_stop", True),
    ],
    PopulationBasedTraining: [
        ("time_attr", "time_total_s"),
        ("metric", None),
        ("mode", None),
        ("perturbation_interval", 60.0),
        ("burn_in_period", 0.0),
        ("hyperparam_mutations", None),
        ("quantile_fraction", 0.25),
        ("resample_probability", 0.25),
        ("perturbation_factors", (1.2, 0.8)),
        ("custom_explore_fn", None),
        ("log_config", True),
        ("require_attrs", True),
        ("synch", False),
    ],
    PB2: [
        ("time_attr", "time_total_s"),
        ("metric", None),
        ("mode", None),
        ("perturbation_interval", 60.0),
        ("hyperparam_bounds", None),
        ("quantile_fraction", 0.25),
        ("log_config", True),
        ("require_attrs", True),
        ("synch", False),
        ("custom_explore_fn", None),
    ],
    PopulationBasedTrainingReplay: [("policy_file", REQUIRED)],
    OptunaSearch: [
        ("space", None),
        ("metric", None),
        ("mode", None),
        ("points_to_evaluate", None),
        ("sampler", None),
        ("study_name", None),
        ("storage", None),
        ("seed", None),
        ("evaluated_rewards", None),
    ],
    HyperOptSearch: [
        ("space", None),
        ("metric", None),
        ("mode", None),
        ("points_to_evaluate", None),
        ("n_initial_points", 20),
        ("random_state_seed", None),
        ("gamma", 0.25),
    ],
    SkOptSearch: [
        ("optimizer", None),
        ("space", None),
        ("metric", None),
        ("mode", None),
        ("points_to_evaluate", None),
        ("evaluated_rewards", None),
        ("convert_to_python", True),
    ],
    tunecore.ConcurrencyLimiter: [("searcher", REQUIRED), ("max_concurrent", REQUIRED), ("batch", False)],
    tunecore.Repeater: [("searcher", REQUIRED), ("repeat", 1), ("set_index", True)],
}

SPACE = {"x": tunecore.uniform(-1, 1), "n": tunecore.randint(0, 10)}
POINT = {"x": 0.3, "n": 6}


def quadratic(config: dict[str, Any]) -> None:
    tunecore.report({"loss": (config["x"] - 0.3) ** 2 + (config["n"] - 6) ** 2 / 10})


def fit(tmp_path: Any, trainable: Any, space: dict[str, Any], num_samples: int = 1, **tune: Any) -> Any:
    """Run with the inline executor; ``tune`` goes to TuneConfig (no metric there unless given, as in Ray)."""
    tuner = tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(**{"num_samples": num_samples, "executor": "inline", "seed": 0, **tune}),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    )
    return tuner.fit()


def configs(grid: Any) -> list[dict[str, Any]]:
    return [result.config for result in grid]


# --- the names and their arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(RAY), ids=lambda cls: cls.__name__)
def test_rays_arguments_in_rays_order_with_rays_defaults(cls):
    parameters = list(inspect.signature(cls).parameters.values())
    ours = [(p.name, p.default) for p in parameters[: len(RAY[cls])]]
    assert ours == RAY[cls]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters[: len(RAY[cls])])
    assert all(p.default is not REQUIRED for p in parameters[len(RAY[cls]) :])  # our extras never get in the way


def test_every_name_is_exported():
    assert ASHAScheduler is AsyncHyperBandScheduler  # one class under two names, as in Ray
    expected = {
        tune_asha: ["ASHAScheduler", "AsyncHyperBandScheduler", "HyperBandScheduler", "MedianStoppingRule"],
        tune_pbt: ["PopulationBasedTraining", "PB2", "PopulationBasedTrainingReplay"],
        tune_bayesopt: ["OptunaSearch", "HyperOptSearch", "SkOptSearch"],
        tunecore: ["ConcurrencyLimiter", "Repeater"],
    }
    for module, names in expected.items():
        assert set(names) <= set(module.__all__), module.__name__
        assert all(inspect.isclass(getattr(module, name)) for name in names)


# --- schedulers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ASHAScheduler, AsyncHyperBandScheduler])
def test_asha_scheduler(tmp_path, cls):
    # One trial at a time, loss = q + 1/t. .5 is first at every rung and runs to max_t; .1 beats it at each
    # rung and runs to max_t; .9 is below the 2/3 percentile of [-1.5, -1.1] at rung 1 and stops there.
    scheduler = cls(
        time_attr="training_iteration", metric="loss", mode="min", max_t=9, grace_period=1, reduction_factor=3
    )
    space = {"case": tunecore.grid_search([{"q": 0.5}, {"q": 0.1}, {"q": 0.9}])}
    assert iterations(fit(tmp_path, hyperbolic, space, scheduler=scheduler)) == [9, 9, 1]


def test_hyperband_scheduler(tmp_path):
    # max_t=9, eta=3: one bracket of 9 trials at budget 1, the best 3 go on to 3, the best one to 9.
    scheduler = HyperBandScheduler("training_iteration", "loss", "min", max_t=9, reduction_factor=3)
    qs = [0.9, 0.2, 0.5, 0.1, 0.7, 0.3, 0.8, 0.4, 0.6]
    grid = fit(tmp_path, hyperbolic, {"case": tunecore.grid_search([{"q": q} for q in qs])}, scheduler=scheduler)
    reached = dict(zip(qs, iterations(grid), strict=True))
    assert reached == {0.1: 9, 0.2: 3, 0.3: 3, **{q: 1 for q in qs if q > 0.3}}


def test_median_stopping_rule(tmp_path):
    # Constant curves, one trial at a time (tests/asha/test_median.py explains each decision).
    scheduler = MedianStoppingRule(time_attr="training_iteration", metric="loss", mode="min", grace_period=2)
    qs = [0.5, 0.2, 0.8, 0.6, 0.1, 0.7, 0.4]
    space = {"case": tunecore.grid_search([{"q": q, "steps": 6, "constant": True} for q in qs])}
    assert iterations(fit(tmp_path, hyperbolic, space, scheduler=scheduler)) == [6, 6, 6, 2, 6, 2, 3]


def pbt(**options: Any) -> PopulationBasedTraining:
    return PopulationBasedTraining(
        time_attr="training_iteration",
        metric="score",
        mode="max",
        perturbation_interval=4,
        hyperparam_mutations={"lr": tunecore.loguniform(1e-4, 1e-1)},
        quantile_fraction=0.25,
        resample_probability=0.25,
        perturbation_factors=(1.2, 0.8),
        synch=True,
        seed=3,
        **options,
    )


def test_population_based_training_and_its_replay(tmp_path):
    grid = run_toy(tmp_path / "pbt", pbt(), {}, steps=24, seed=3, metric=None, mode=None)
    exploits = policy(grid.experiment_path)
    assert len(exploits) >= 3  # a round every 4 iterations, one member exploited in each
    assert all(line["new_config"]["lr"] != line["old_config"]["lr"] for line in exploits)
    trial_id = exploits[-1]["trial_id"]
    policy_file = os.path.join(grid.experiment_path, f"pbt_policy_{trial_id}.jsonl")
    with open(policy_file, encoding="utf-8") as handle:
        lineage = [json.loads(line) for line in handle]
    replayed = run_toy(
        tmp_path / "replay",
        PopulationBasedTrainingReplay(policy_file),
        {},
        population=1,
        space=tune_pbt.replay_config(policy_file),
        steps=24,
        metric=None,
        mode=None,
    )
    history = replayed[0].metrics_history
    assert replayed[0].config == lineage[-1]["new_config"]
    assert history[0]["lr"] == lineage[0]["donor_config"]["lr"] != history[-1]["lr"]


def test_pb2(tmp_path):
    scheduler = PB2(
        "training_iteration",
        "score",
        "max",
        perturbation_interval=4,
        hyperparam_bounds={"lr": [1e-4, 1e-2]},
        quantile_fraction=0.25,
        synch=True,
        seed=3,
    )
    grid = run_toy(tmp_path, scheduler, {}, steps=24, seed=3, metric=None, mode=None)
    exploits = policy(grid.experiment_path, "pb2_global.jsonl")
    assert len(exploits) >= 3
    assert all(1e-4 <= line["new_config"]["lr"] <= 1e-2 for line in exploits)


# --- searchers --------------------------------------------------------------------------------------------------


def test_optuna_search(tmp_path):
    searcher = OptunaSearch(metric="loss", mode="min", points_to_evaluate=[POINT], seed=0)
    grid = fit(tmp_path, quadratic, SPACE, num_samples=6, searcher=searcher)
    assert configs(grid)[0] == POINT and len(grid) == 6
    assert [t.state.name for t in searcher.study.trials] == ["COMPLETE"] * 6
    assert sorted(t.value for t in searcher.study.trials) == sorted(r.metrics["loss"] for r in grid)


def test_optuna_search_with_its_own_space_and_a_sampler_instance(tmp_path):
    def run(path: Any) -> list[dict[str, Any]]:
        sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=2)
        searcher = OptunaSearch(SPACE, "loss", "min", sampler=sampler)
        found = configs(fit(path, quadratic, {"fixed": 7}, num_samples=5, searcher=searcher))
        assert searcher.study.sampler is not sampler  # a copy: each setup starts from the sampler as given
        return found

    first = run(tmp_path / "a")
    assert all(config["fixed"] == 7 and -1 <= config["x"] < 1 and 0 <= config["n"] < 10 for config in first)
    assert len({config["x"] for config in first}) == 5
    assert run(tmp_path / "b") == first  # the sampler's own seed makes the run reproducible


def test_hyperopt_search(tmp_path):
    def run(path: Any, seed: int) -> tuple[Any, HyperOptSearch]:
        searcher = HyperOptSearch(
            metric="loss",
            mode="min",
            points_to_evaluate=[POINT],
            n_initial_points=3,
            random_state_seed=seed,
            gamma=0.25,
        )
        return fit(path, quadratic, SPACE, num_samples=6, searcher=searcher, seed=None), searcher

    grid, searcher = run(tmp_path / "a", 1)
    assert configs(grid)[0] == POINT and len(grid) == 6
    assert [doc["result"]["loss"] for doc in searcher.trials.trials] == [r.metrics["loss"] for r in grid]
    assert configs(run(tmp_path / "b", 1)[0]) == configs(grid)  # random_state_seed is the seed
    assert configs(run(tmp_path / "c", 2)[0])[1:] != configs(grid)[1:]
    defaults = HyperOptSearch(n_initial_points=None, gamma=None)  # None: Hyperopt's own defaults, as in Ray
    assert (defaults.algo, defaults.n_initial_points, defaults.gamma) == ("tpe", 20, 0.25)


def test_skopt_search(tmp_path):
    searcher = SkOptSearch(None, SPACE, "loss", "min", [POINT], [0.0], True)  # Ray's positional order
    grid = fit(tmp_path, quadratic, {}, num_samples=4, searcher=searcher)
    assert len(grid) == 4 and POINT not in configs(grid)  # told, not run again (else it would run first)
    assert searcher.optimizer.Xi[0] == [0.3, 6] and searcher.optimizer.yi[0] == 0.0
    assert searcher.optimizer.yi[1:] == [r.metrics["loss"] for r in grid]
    assert all(type(config["n"]) is int and type(config["x"]) is float for config in configs(grid))


def test_searcher_wrappers_around_familiar_searchers(tmp_path):
    inner = HyperOptSearch(metric="loss", mode="min", n_initial_points=2, random_state_seed=0)
    grid = fit(tmp_path / "repeat", quadratic, SPACE, num_samples=6, searcher=tunecore.Repeater(inner, 2))
    found = configs(grid)
    assert [config["__trial_index__"] for config in found] == [0, 1] * 3
    assert [{k: v for k, v in c.items() if k != "__trial_index__"} for c in found[::2]] == [
        {k: v for k, v in c.items() if k != "__trial_index__"} for c in found[1::2]
    ]
    assert len(inner.trials.trials) == 3  # one per config, told the mean of its repeats
    limited = OptunaSearch(metric="loss", mode="min", seed=0)
    grid = fit(tmp_path / "limit", quadratic, SPACE, num_samples=4, searcher=tunecore.ConcurrencyLimiter(limited, 2))
    assert len(grid) == 4 and len(limited.study.trials) == 4


# --- what is not supported is an error naming it ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OptunaSearch(study_name="s"), "OptunaSearch: study_name is not supported"),
        (lambda: OptunaSearch(storage=optuna.storages.InMemoryStorage()), "OptunaSearch: storage is not supported"),
        (lambda: OptunaSearch(sampler=optuna.samplers.RandomSampler(), seed=1), "seed is for a sampler given by name"),
        (lambda: OptunaSearch(sampler=object()), "sampler must be one of tpe, .* or an optuna.samplers.BaseSampler"),
        (lambda: OptunaSearch(space={"x": optuna.distributions.FloatDistribution(0, 1)}), "space\\['x'\\] is optuna's"),
        (lambda: OptunaSearch(space=lambda trial: None), "OptunaSearch: space must be a dict of tunecore domains"),
        (lambda: HyperOptSearch(space={"x": hp.uniform("x", 0, 1)}), "HyperOptSearch: space\\['x'\\] is hyperopt's"),
        (lambda: SkOptSearch(optimizer=object()), "SkOptSearch: optimizer is not supported"),
        (lambda: SkOptSearch(space={"width": (0, 20)}), "SkOptSearch: space has no tunecore domain"),
        (lambda: SkOptSearch(convert_to_python=False), "convert_to_python=False is not supported"),
        (lambda: SkOptSearch(points_to_evaluate=[POINT], evaluated_rewards=[1.0, 2.0]), "one reward per point"),
        (lambda: RandomSearcher([POINT], evaluated_rewards=[1.0]), "random searcher does not take evaluated_rewards"),
    ],
)
def test_unsupported_arguments_are_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_own_space_and_param_space_parameters_are_an_error(tmp_path):
    searcher = OptunaSearch(SPACE, "loss", "min")
    with pytest.raises(ValueError, match=r"given its own space, but the experiment's param_space has parameters too"):
        fit(tmp_path, quadratic, {"y": tunecore.uniform(0, 1)}, searcher=searcher)


def test_random_search_by_name_refuses_evaluated_rewards(tmp_path):
    options = {"points_to_evaluate": [POINT], "evaluated_rewards": [0.0]}
    with pytest.raises(ValueError, match="no model to warm-start"):
        fit(tmp_path, quadratic, SPACE, searcher="random", searcher_options=options)


def test_tune_config_takes_search_alg_as_ray_names_it(tmp_path):
    searcher = tunecore.ConcurrencyLimiter(RandomSearcher(), max_concurrent=1)
    config = tunecore.TuneConfig(metric="loss", mode="min", search_alg=searcher, num_samples=2, executor="inline")
    assert config.searcher.instance is searcher and config.search_alg is None
    grid = tunecore.Tuner(
        lambda c: tunecore.report({"loss": c["x"]}),
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=config,
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", loggers=[], verbose=0),
    ).fit()
    assert len(grid) == 2 and grid.num_errors == 0
    with pytest.raises(tunecore.ConfigError, match="both searcher and search_alg"):
        tunecore.TuneConfig(searcher="random", searcher_options={"seed": 1}, search_alg=searcher)
