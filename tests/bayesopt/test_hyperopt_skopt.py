"""What only the hyperopt and skopt searchers do: their algorithms, models and options."""

from __future__ import annotations

import pytest

import tunecore
from tests.bayesopt.helpers import check_config, drive, key
from tune_bayesopt import HyperoptSearcher, SkoptSearcher

SMALL = {"x": tunecore.uniform(0, 1), "n": tunecore.qrandint(0, 20, 5), "act": tunecore.choice(["a", "b"])}


def loss(config):
    return (config["x"] - 0.3) ** 2 + config["n"] / 20


@pytest.mark.parametrize("algo", ["tpe", "anneal", "rand"])
def test_hyperopt_algorithms(algo):
    searcher = HyperoptSearcher(algo=algo, n_initial_points=2, gamma=0.5)
    searcher.setup(SMALL, "loss", "min", 0, -1)
    configs = drive(searcher, 5, value=loss) + [searcher.suggest(f"p{i}") for i in range(3)]
    for config in configs:
        check_config(config, SMALL)
    assert len({key(c) for c in configs[-3:]}) == 3


def test_hyperopt_normal_domains():
    space = {"a": tunecore.randn(10.0, 0.5), "b": tunecore.qrandn(0.0, 1.0, 0.25)}
    searcher = HyperoptSearcher(n_initial_points=2, seed=1)
    searcher.setup(space, "loss", "min", None, -1)
    configs = drive(searcher, 6, value=lambda c: abs(c["a"] - 10) + abs(c["b"]))
    assert all(isinstance(c["a"], float) and abs(c["a"] - 10) < 5 for c in configs)
    assert all((c["b"] / 0.25).is_integer() for c in configs)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algo": "atpe"}, "unknown algo 'atpe': use one of tpe, anneal, rand"),
        ({"n_initial_points": -1}, "n_initial_points must be an integer >= 0"),
        ({"gamma": 1.5}, "gamma must be a number between 0 and 1"),
    ],
)
def test_hyperopt_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        HyperoptSearcher(**options)


@pytest.mark.parametrize(
    ("base_estimator", "acq_func"), [("GP", "gp_hedge"), ("GP", "LCB"), ("RF", "EI"), ("ET", "PI"), ("GBRT", "EI")]
)
def test_skopt_models_and_acquisition_functions(base_estimator, acq_func):
    searcher = SkoptSearcher(
        base_estimator=base_estimator,
        acq_func=acq_func,
        n_initial_points=2,
        optimizer_options={"acq_optimizer": "sampling", "acq_optimizer_kwargs": {"n_points": 200}},
    )
    searcher.setup(SMALL, "loss", "min", 0, -1)
    configs = drive(searcher, 4, value=loss)
    pending = [searcher.suggest(f"p{i}") for i in range(2)]  # the constant liar
    for config in configs + pending:
        check_config(config, SMALL)
    assert len({key(c) for c in pending}) == 2
    assert len(searcher.optimizer.models) == 1  # model_queue_size=1: old models are not kept


def test_skopt_default_gp_is_seeded():
    def run():
        searcher = SkoptSearcher(n_initial_points=2, seed=5)
        searcher.setup({"x": tunecore.uniform(0, 1)}, "loss", "min", None, -1)
        return drive(searcher, 4, value=lambda c: (c["x"] - 0.3) ** 2)

    assert run() == run()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_estimator": "gp"}, "unknown base_estimator 'gp': use one of GP, RF, ET, GBRT"),
        ({"acq_func": "EIps"}, "unknown acq_func 'EIps'"),
        ({"n_initial_points": 0}, "n_initial_points must be a positive integer"),
        ({"optimizer_options": {"random_state": 1}}, r"optimizer_options \['random_state'\]: give these as"),
    ],
)
def test_skopt_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        SkoptSearcher(**options)


def test_skopt_bad_optimizer_option_fails_at_setup():
    with pytest.raises(tunecore.ConfigError, match=r"searcher 'skopt': optimizer_options .*'n_points'"):
        SkoptSearcher(optimizer_options={"n_points": 3}).setup(SMALL, "loss", "min", 0, -1)
