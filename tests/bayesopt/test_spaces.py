"""Conversion of tunecore spaces to Optuna, Hyperopt and scikit-optimize, and the errors for what they lack."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tunecore
from tests.bayesopt.helpers import NAMES, SPACE, make
from tune_bayesopt.hyperopt_space import hyperopt_space
from tune_bayesopt.optuna_space import optuna_space
from tune_bayesopt.skopt_space import skopt_space
from tunecore.space import walk_space


def test_optuna_distributions():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    maps, dists = optuna_space(walk_space(SPACE))
    assert list(maps) == [p.name for p in walk_space(SPACE)]
    assert dists["opt/lr"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["x"] == FloatDistribution(-2, 3)
    assert dists["opt/momentum"] == IntDistribution(50, 99)  # step index: 0.50 .. 0.99
    assert dists["n"] == IntDistribution(0, 9)
    assert dists["layers/0"] == IntDistribution(1, 8)  # 16 .. 128 by 16
    assert dists["layers/1"] == IntDistribution(1, 99, log=True)
    assert dists["width"] == IntDistribution(1, 64, log=True)  # log with a step: over k, which Optuna allows
    assert dists["eps"] == IntDistribution(1, 1000, log=True)
    assert dists["scale"] == FloatDistribution(1, 1024, log=True)
    assert dists["act"] == CategoricalDistribution([0, 1, 2, 3])
    assert dists["flag"] == CategoricalDistribution([0, 1])
    assert "only" not in dists and maps["only"].form == "fixed"


def test_hyperopt_expressions_sample_inside_the_space():
    from hyperopt.pyll import stochastic

    maps, space = hyperopt_space(walk_space(SPACE))
    assert set(space) == set(maps) - {"only"}
    rng = np.random.default_rng(0)
    samples = [stochastic.sample(space, rng=rng) for _ in range(200)]
    ks = [s["opt/momentum"] for s in samples]
    assert min(ks) == 50 and max(ks) == 99  # every step reachable, the ends included
    assert {s["act"] for s in samples} == {0, 1, 2, 3}
    assert all(1e-4 <= s["opt/lr"] <= 1e-1 for s in samples)
    assert all(1 <= s["width"] <= 64 and float(s["width"]).is_integer() for s in samples)
    assert {round(s["n"]) for s in samples} == set(range(10))


def test_hyperopt_supports_normal_domains():
    from hyperopt.pyll import stochastic

    maps, space = hyperopt_space(walk_space({"a": tunecore.randn(5.0, 0.1), "b": tunecore.qrandn(0, 1, 0.25)}))
    rng = np.random.default_rng(1)
    samples = [stochastic.sample(space, rng=rng) for _ in range(100)]
    assert abs(np.mean([s["a"] for s in samples]) - 5.0) < 0.05
    values = [maps["b"].to_config(s["b"]) for s in samples]
    assert all((v / 0.25).is_integer() for v in values) and len(set(values)) > 3


def test_skopt_dimensions():
    from skopt.space import Categorical, Integer, Real

    maps, dims = skopt_space(walk_space(SPACE))
    by_name = {d.name: d for d in dims}
    assert [d.name for d in dims] == [name for name in maps if name != "only"]
    assert isinstance(by_name["opt/lr"], Real) and by_name["opt/lr"].prior == "log-uniform"
    assert by_name["opt/lr"].bounds == (1e-4, 1e-1)
    assert isinstance(by_name["opt/momentum"], Integer) and by_name["opt/momentum"].bounds == (50, 99)
    assert by_name["width"].prior == "log-uniform" and by_name["width"].bounds == (1, 64)
    assert by_name["scale"].base == 2
    assert isinstance(by_name["act"], Categorical) and by_name["act"].categories == (0, 1, 2, 3)


BAD = {
    "grid": (tunecore.grid_search([1, 2]), "cannot enumerate a grid", "choice([1, 2])"),
    "function": (tunecore.sample_from(lambda spec: 1), "sample_from function", "compute the value in the trainable"),
    "randn": (tunecore.randn(0, 1), "no normal distribution", "uniform(-3, 3)"),
    "qrandn": (tunecore.qrandn(0, 2, 0.5), "no normal distribution", "uniform(-6, 6)"),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", list(BAD))
def test_inexpressible_domains_fail_at_setup(name, kind):
    domain, reason, alternative = BAD[kind]
    searcher = make(name)
    space = {"x": tunecore.uniform(0, 1), "model": {"bad": domain}}
    if name == "hyperopt" and kind in ("randn", "qrandn"):
        searcher.setup(space, "loss", "min", 0, -1)  # Hyperopt has normal distributions
        assert math.isfinite(searcher.suggest("t1")["model"]["bad"])
        return
    with pytest.raises(tunecore.SpaceError) as info:
        searcher.setup(space, "loss", "min", 0, -1)
    message = str(info.value)
    assert f"searcher '{name}' cannot search 'model/bad'" in message
    assert reason in message and alternative in message
