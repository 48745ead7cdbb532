"""Ray's names (OptunaSearch, HyperOptSearch, SkOptSearch) in real experiments: warm start from evaluated
points (``evaluated_rewards``), their own ``space``, and Ray's arguments mapped onto the searchers' options."""

from __future__ import annotations

from typing import Any

import pytest

import tunecore
from tune_bayesopt import HyperOptSearch, OptunaSearch, SkOptSearch

SPACE = {"x": tunecore.uniform(-1, 1), "n": tunecore.randint(0, 10)}
POINTS = [{"x": 0.3, "n": 6}, {"x": -0.5, "n": 1}]
REWARDS = [0.0, 2.64]  # the losses of POINTS: (x - 0.3) ** 2 + (n - 6) ** 2 / 10


def quadratic(config: dict[str, Any]) -> None:
    tunecore.report({"loss": (config["x"] - 0.3) ** 2 + (config["n"] - 6) ** 2 / 10, "n": config["n"]})


def fit(
    tmp_path: Any, searcher: Any, space: dict[str, Any] = SPACE, num_samples: int = 4, name: str = "exp", **tune: Any
) -> Any:
    tuner = tunecore.Tuner(
        quadratic,
        param_space=space,
        tune_config=tunecore.TuneConfig(num_samples=num_samples, executor="inline", seed=0, searcher=searcher, **tune),
        run_config=tunecore.RunConfig(name=name, storage_path=str(tmp_path), loggers=[], verbose=0),
    )
    return tuner.fit()


def told(searcher: Any) -> list[tuple[dict[str, Any], float]]:
    """Every (point, loss) the library holds, in the order it was told them."""
    if isinstance(searcher, OptunaSearch):
        return [(t.params, t.value) for t in searcher.study.trials]
    if isinstance(searcher, HyperOptSearch):
        return [({k: v[0] for k, v in t["misc"]["vals"].items()}, t["result"]["loss"]) for t in searcher.trials.trials]
    names = [m.name for m in searcher.searched]
    return [
        (dict(zip(names, x, strict=True)), y) for x, y in zip(searcher.optimizer.Xi, searcher.optimizer.yi, strict=True)
    ]


WARM = {
    "OptunaSearch": lambda **kw: OptunaSearch(
        metric="loss", mode="min", seed=0, sampler_options={"n_startup_trials": 2}, **kw
    ),
    "HyperOptSearch": lambda **kw: HyperOptSearch(
        metric="loss", mode="min", n_initial_points=2, random_state_seed=0, **kw
    ),
    "SkOptSearch": lambda **kw: SkOptSearch(metric="loss", mode="min", n_initial_points=2, base_estimator="ET", **kw),
}


@pytest.mark.parametrize("name", list(WARM))
def test_evaluated_points_are_told_to_the_model_and_not_run(tmp_path, name):
    searcher = WARM[name](points_to_evaluate=POINTS, evaluated_rewards=REWARDS)
    grid = fit(tmp_path, searcher)
    run = [result.config for result in grid]
    assert len(run) == 4 and not any(point in run for point in POINTS)  # num_samples trials, none re-run
    known = told(searcher)
    assert known[:2] == list(zip(POINTS, REWARDS, strict=True))  # told first, before any suggestion
    assert [loss for _, loss in known[2:]] == [result.metrics["loss"] for result in grid]


@pytest.mark.parametrize("name", list(WARM))
def test_without_rewards_the_points_run_first(tmp_path, name):
    searcher = WARM[name](points_to_evaluate=POINTS)
    grid = fit(tmp_path, searcher)
    assert [result.config for result in grid][:2] == POINTS
    assert len(told(searcher)) == 4


def test_the_evaluated_points_feed_the_model_at_once():
    # scikit-optimize fits its model once it has n_initial_points observations: the evaluated ones count.
    warm = SkOptSearch(
        metric="loss", mode="min", points_to_evaluate=POINTS, evaluated_rewards=REWARDS, n_initial_points=2
    )
    cold = SkOptSearch(metric="loss", mode="min", n_initial_points=2)
    for searcher in (warm, cold):
        searcher.setup(SPACE, None, None, 0, 4)
    assert (len(warm.optimizer.models), len(cold.optimizer.models)) == (1, 0)


def test_by_name_too(tmp_path):
    options = {"points_to_evaluate": POINTS, "evaluated_rewards": REWARDS, "sampler_options": {"n_startup_trials": 2}}
    grid = fit(tmp_path, "optuna", searcher_options=options, metric="loss", mode="min")
    assert len(grid) == 4 and not any(point in [r.config for r in grid] for point in POINTS)


def test_several_metrics_take_a_list_per_point(tmp_path):
    searcher = OptunaSearch(
        metric=["loss", "n"], mode=["min", "max"], points_to_evaluate=POINTS, evaluated_rewards=[[0.0, 6], [2.64, 1]]
    )
    grid = fit(tmp_path, searcher)
    assert [t.values for t in searcher.study.trials[:2]] == [[0.0, 6.0], [2.64, 1.0]]
    assert len(searcher.study.trials) == 2 + len(grid) == 6
    with pytest.raises(ValueError, match=r"evaluated_rewards\[0\] must be a list of 2 finite numbers"):
        fit(
            tmp_path / "bad",
            OptunaSearch(
                metric=["loss", "n"], mode=["min", "max"], points_to_evaluate=POINTS[:1], evaluated_rewards=[1.0]
            ),
        )


@pytest.mark.parametrize("name", list(WARM))
def test_rewards_and_points_must_match(name):
    with pytest.raises(ValueError, match="evaluated_rewards has 1 values for 2 points_to_evaluate"):
        WARM[name](points_to_evaluate=POINTS, evaluated_rewards=REWARDS[:1])
    with pytest.raises(ValueError, match="evaluated_rewards needs points_to_evaluate"):
        WARM[name](evaluated_rewards=REWARDS)


@pytest.mark.parametrize("name", list(WARM))
def test_own_space_with_the_param_spaces_constants(tmp_path, name):
    searcher = WARM[name](space={"opt": {"lr": tunecore.loguniform(1e-4, 1e-1)}, **SPACE})
    grid = fit(tmp_path, searcher, space={"opt": {"name": "sgd"}, "epochs": 3})
    for config in (result.config for result in grid):
        assert set(config) == {"opt", "x", "n", "epochs"} and config["epochs"] == 3
        assert config["opt"]["name"] == "sgd" and 1e-4 <= config["opt"]["lr"] <= 1e-1
    assert len(told(searcher)) == 4


@pytest.mark.parametrize("name", list(WARM))
def test_a_resumed_warm_started_experiment_continues_like_an_uninterrupted_one(tmp_path, name):
    def searcher() -> Any:
        return WARM[name](space=SPACE, points_to_evaluate=POINTS, evaluated_rewards=REWARDS)

    whole = fit(tmp_path, searcher(), space={}, num_samples=6, name="whole")
    fit(tmp_path, searcher(), space={}, num_samples=3, name="part")
    resumed = tunecore.Tuner.restore(tmp_path / "part", num_samples=6).fit()
    assert [r.config for r in resumed] == [r.config for r in whole]
