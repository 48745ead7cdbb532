"""Parameter importance (issue 15): fANOVA over a random forest ranks the parameters that matter first."""

from __future__ import annotations

import io
import math
import sys

import pytest

import tunecore
from tunecore.errors import TuneError
from tunecore.plot.cli import importance_command
from tunecore.plot.observations import observations
from tunecore.plot.requires import MissingDependencyError
from tunecore.results import Result, ResultGrid

pytest.importorskip("sklearn", reason="parameter importance needs scikit-learn: pip install scikit-learn")


def run(tmp_path, trainable, space, num_samples, metric="y", mode="min", name="exp"):
    return tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(metric=metric, mode=mode, executor="inline", num_samples=num_samples, seed=0),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), name=name, verbose=0, loggers=[]),
    ).fit()


def linear(config):
    tunecore.report({"y": 10 * config["x0"] + 1 * config["x1"] + 0 * config["x2"]})


def test_a_linear_function_ranks_its_parameters_by_their_weight(tmp_path):
    grid = run(tmp_path, linear, {k: tunecore.uniform(0, 1) for k in ("x0", "x1", "x2")}, 200)
    shares = grid.importance()
    assert list(shares) == ["x0", "x1", "x2"]
    assert math.isclose(sum(shares.values()), 1.0)
    assert shares["x0"] > 0.9
    assert shares["x1"] > 10 * shares["x2"]


def mixed(config):
    penalty = {"relu": 0.0, "tanh": 3.0, "gelu": 0.2}[config["act"]]
    lr = config["optimizer"]["lr"]
    tunecore.report({"y": penalty + 0.5 * abs(math.log10(lr) + 2) + 0 * config["depth"] + 0 * config["rep"]})


MIXED_SPACE = {
    "act": tunecore.choice(["relu", "tanh", "gelu"]),
    "optimizer": {"lr": tunecore.loguniform(1e-4, 1e-1), "momentum": 0.9},
    "depth": tunecore.randint(1, 8),
    "rep": tunecore.grid_search([0, 1]),
}


def test_a_categorical_that_matters_comes_first_and_nested_parameters_are_named_by_path(tmp_path):
    grid = run(tmp_path, mixed, MIXED_SPACE, 60)  # x2 for the grid: 120 trials
    shares = grid.importance()
    assert set(shares) == {"act", "optimizer/lr", "depth", "rep"}  # the constant momentum is no parameter
    assert list(shares)[:2] == ["act", "optimizer/lr"]
    assert shares["act"] > 0.5
    assert math.isclose(sum(shares.values()), 1.0)


def test_parameters_are_described_from_the_stored_space(tmp_path):
    grid = run(tmp_path, mixed, MIXED_SPACE, 3)
    params = {p.name: p for p in observations(grid).params}
    assert params["act"].kind == "categorical" and params["act"].categories == ("relu", "tanh", "gelu")
    assert params["optimizer/lr"].kind == "float" and params["optimizer/lr"].log
    assert (params["optimizer/lr"].low, params["optimizer/lr"].high) == (1e-4, 1e-1)
    assert (params["depth"].kind, params["depth"].low, params["depth"].high) == ("int", 1, 7)
    assert params["rep"].kind == "categorical" and params["rep"].categories == (0, 1)


def test_the_same_results_and_seed_give_the_same_importance(tmp_path):
    grid = run(tmp_path, linear, {k: tunecore.uniform(0, 1) for k in ("x0", "x1", "x2")}, 50)
    again = ResultGrid.from_path(grid.experiment_path)
    assert grid.importance(seed=3) == again.importance(seed=3)
    assert math.isclose(sum(grid.importance(seed=4).values()), 1.0)


def first_x2_then_x0(config):
    tunecore.report({"y": 20 + 10 * config["x2"]})
    tunecore.report({"y": 10 * config["x0"] + config["x1"]})


def test_each_trial_counts_with_its_last_result_unless_the_scope_says_otherwise(tmp_path):
    grid = run(tmp_path, first_x2_then_x0, {k: tunecore.uniform(0, 1) for k in ("x0", "x1", "x2")}, 80)
    assert next(iter(grid.importance())) == "x0"
    assert next(iter(grid.importance(scope="all", mode="max"))) == "x2"  # the best (max) is the first result


def sometimes_nan(config):
    tunecore.report({"y": math.nan if config["x1"] > 0.7 else 10 * config["x0"]})


def test_trials_without_a_finite_value_are_left_out(tmp_path):
    with pytest.warns(tunecore.MetricWarning):
        grid = run(tmp_path, sometimes_nan, {k: tunecore.uniform(0, 1) for k in ("x0", "x1")}, 60)
    table = observations(grid)
    assert 0 < len(table.scores) < 60 and all(math.isfinite(s) for s in table.scores)
    assert next(iter(grid.importance())) == "x0"


def result(i, config, value):
    history = [{"y": value, "training_iteration": 1}] if value is not None else []
    return Result(f"t{i:05d}", config, history[-1] if history else {}, history, "TERMINATED", "")


def test_without_a_stored_space_parameters_are_inferred_from_the_configs(tmp_path):
    configs = [{"a": {"b": i % 7 / 7}, "k": ["p", "q"][i % 2], "const": 1} for i in range(40)]
    grid = ResultGrid(
        [result(i, c, 5 * (c["k"] == "q") + c["a"]["b"]) for i, c in enumerate(configs)], str(tmp_path), "y", "min"
    )
    params = {p.name: p.kind for p in observations(grid).params}
    assert params == {"a/b": "float", "k": "categorical"}
    assert list(grid.importance()) == ["k", "a/b"]


def brute_force_shares(estimator, d):
    """Var(marginal in j) / Var(tree) of one fitted tree, from its predictions at the centre of every cell of
    the grid its thresholds make of the unit box (exact: the tree is constant on each cell); None if constant."""
    import numpy as np

    tree = estimator.tree_
    edges = [np.unique(np.r_[0.0, 1.0, np.clip(tree.threshold[tree.feature == j], 0, 1)]) for j in range(d)]
    centres = np.meshgrid(*[(e[1:] + e[:-1]) / 2 for e in edges], indexing="ij")
    f = estimator.predict(np.stack([c.ravel() for c in centres], axis=1)).reshape(centres[0].shape)
    weight = np.ones_like(f)
    for j, e in enumerate(edges):
        weight = weight * np.diff(e).reshape([-1 if i == j else 1 for i in range(d)])
    mean = np.sum(weight * f)
    variance = np.sum(weight * (f - mean) ** 2)
    if variance <= 1e-12:
        return None
    shares = []
    for j, e in enumerate(edges):
        others = tuple(i for i in range(d) if i != j)
        marginal = np.sum(weight * f, axis=others) / np.diff(e)
        shares.append(np.sum(np.diff(e) * (marginal - mean) ** 2) / variance)
    return np.array(shares)


def forest(n, d, seed):
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    x[:, 0] = (rng.integers(0, 3, n) + 0.5) / 3  # a categorical: repeated values
    y = 3 * x[:, 0] + np.sin(5 * x[:, 1]) + x[:, 1] * x[:, 2] + 0.1 * rng.normal(size=n)
    return RandomForestRegressor(n_estimators=8, max_depth=64, random_state=seed).fit(x, y)


def test_each_trees_shares_are_the_exact_variances_of_its_marginals():
    import numpy as np

    from tunecore.importance import forest_shares

    fitted = forest(40, 3, seed=1)
    expected = [s for e in fitted.estimators_ if (s := brute_force_shares(e, 3)) is not None]
    got = forest_shares([e.tree_ for e in fitted.estimators_], 3)
    assert got.shape == (len(expected), 3)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-9, atol=1e-12)


def test_trees_worked_on_in_smaller_groups_give_the_same_shares(monkeypatch):
    import numpy as np

    from tunecore import importance

    trees = [e.tree_ for e in forest(200, 4, seed=2).estimators_]
    together = importance.forest_shares(trees, 4)
    for limit in (1, 4 * trees[0].node_count + 1):  # one tree at a time, a few at a time
        monkeypatch.setattr(importance, "CHUNK_VALUES", limit)
        assert np.array_equal(importance.forest_shares(trees, 4), together)


def test_errors_say_what_is_missing(tmp_path):
    grid = ResultGrid([result(0, {"x": 1.0}, 1.0)], str(tmp_path), "y", "min")
    with pytest.raises(TuneError, match="at least 2 trials"):
        grid.importance()
    same = ResultGrid([result(i, {"x": float(i)}, 1.0) for i in range(3)], str(tmp_path), "y", "min")
    with pytest.raises(TuneError, match="same value"):
        same.importance()
    several = ResultGrid([result(i, {"x": float(i)}, float(i)) for i in range(3)], str(tmp_path), ["y", "z"], None)
    with pytest.raises(TuneError, match=r"pass metric=.*several"):
        several.importance()
    assert list(several.importance("y")) == ["x"]
    with pytest.raises(TuneError, match="scope must be one of"):
        several.importance("y", scope="best")
    with pytest.raises(TuneError, match="no parameter 'nope'"):
        several.importance("y", params=["nope"])


def test_without_scikit_learn_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    grid = ResultGrid([result(i, {"x": float(i)}, float(i)) for i in range(3)], str(tmp_path), "y", "min")
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    with pytest.raises(MissingDependencyError, match=r"pip install scikit-learn"):
        grid.importance()


def test_the_importance_command_prints_one_line_per_parameter(tmp_path):
    grid = run(tmp_path, linear, {k: tunecore.uniform(0, 1) for k in ("x0", "x1", "x2")}, 30)
    out = io.StringIO()
    shares = importance_command(grid.experiment_path, out=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == list(shares)
    assert set(shares) == {"x0", "x1", "x2"} and next(iter(shares)) == "x0"
    assert lines[0].split()[1] == f"{shares['x0']:.3f}"
