"""PBT's explore step: perturbations stay inside domains, lists move to neighbours, nested keys work."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tunecore
from tune_pbt import explore, parse_mutations

FACTORS = (1.2, 0.8)


def explored(config, mutations, probability=0.0, seed=0, times=200):
    """``times`` explorations of ``config`` with one generator."""
    rng = np.random.default_rng(seed)
    parsed = parse_mutations(mutations)
    return [explore(config, parsed, rng, probability, FACTORS) for _ in range(times)]


def test_numbers_are_multiplied_by_a_factor_inside_the_bounds():
    results = explored({"lr": 0.05, "x": 1.0}, {"lr": tunecore.loguniform(1e-4, 0.055), "x": tunecore.randn(0, 1)})
    assert {round(c["x"], 9) for c, _ in results} == {1.2, 0.8}  # unbounded: exactly the factors
    assert {round(c["lr"], 9) for c, _ in results} == {0.055, 0.04}  # 0.05 * 1.2 is clipped to the upper bound
    assert {ops["lr"] for _, ops in results} == {"* 1.2", "* 0.8"}


def test_integers_move_at_least_one_step_and_quantized_values_stay_multiples():
    mutations = {"n": tunecore.randint(1, 4), "k": tunecore.qrandint(0, 40, 5), "q": tunecore.quniform(0, 2, 0.5)}
    results = explored({"n": 1, "k": 10, "q": 0.5}, mutations)
    assert {c["n"] for c, _ in results} == {1, 2}  # 1 * 0.8 rounds back to 1: a step down is outside [1, 3]
    assert {c["k"] for c, _ in results} == {5, 15}  # 12 and 8 round to 10: one step of 5 either way
    assert {c["q"] for c, _ in results} == {1.0, 0.0}  # 0.6 and 0.4 round to 0.5: one step of 0.5 either way
    assert all(isinstance(c["n"], int) and isinstance(c["k"], int) for c, _ in results)


def test_lists_and_choices_move_to_a_neighbour():
    results = explored({"bs": 64, "opt": "sgd"}, {"bs": [16, 32, 64, 128], "opt": tunecore.choice(["adam", "sgd"])})
    assert {c["bs"] for c, _ in results} == {32, 128}
    assert {c["opt"] for c, _ in results} == {"adam", "sgd"}  # "sgd" is last: shifting right is a no-op
    assert {ops["opt"] for _, ops in results} == {"shift left", "shift right (noop)"}
    outside = explored({"bs": 48}, {"bs": [16, 32]})
    assert {c["bs"] for c, _ in outside} == {16, 32} and {ops["bs"] for _, ops in outside} == {"resample"}


def test_resample_probability():
    domain = tunecore.loguniform(1e-4, 1e-1)
    always = explored({"lr": 0.01}, {"lr": domain}, probability=1.0)
    assert {ops["lr"] for _, ops in always} == {"resample"}
    assert all(1e-4 <= c["lr"] <= 1e-1 for c, _ in always) and len({c["lr"] for c, _ in always}) == 200
    sometimes = explored({"lr": 0.01}, {"lr": domain}, probability=0.25, times=2000)
    share = sum(ops["lr"] == "resample" for _, ops in sometimes) / 2000
    assert 0.2 < share < 0.3
    called = explored({"lr": 0.01}, {"lr": lambda: 0.5}, probability=1.0, times=3)
    assert [c["lr"] for c, _ in called] == [0.5] * 3


def test_nested_keys_as_names_or_tables():
    config = {"optim": {"lr": 0.1, "betas": [0.9, 0.99]}, "other": 1}
    by_name = explored(config, {"optim/lr": [0.1, 0.2]}, times=20)
    by_table = explored(config, {"optim": {"lr": [0.1, 0.2]}}, times=20)
    assert [c for c, _ in by_name] == [c for c, _ in by_table]
    assert {c["optim"]["lr"] for c, _ in by_name} == {0.1, 0.2} and {ops["optim/lr"] for _, ops in by_name} >= {
        "shift right"
    }
    assert all(c["other"] == 1 and c["optim"]["betas"] == [0.9, 0.99] for c, _ in by_name)
    indexed = explored(config, {"optim/betas/1": tunecore.uniform(0.9, 0.999)}, times=20)
    assert {round(c["optim"]["betas"][1], 9) for c, _ in indexed} == {0.999, 0.9}  # 1.188 and 0.792, clipped
    assert config == {"optim": {"lr": 0.1, "betas": [0.9, 0.99]}, "other": 1}  # the input is not changed


def test_domains_as_data_from_toml():
    parsed = parse_mutations({"lr": {"loguniform": [1e-4, 1e-1]}, "net": {"width": {"choice": [32, 64]}}})
    assert parsed == {("lr",): tunecore.loguniform(1e-4, 1e-1), ("net", "width"): [32, 64]}


def test_a_value_that_is_not_a_number_is_resampled():
    results = explored({"lr": "auto"}, {"lr": tunecore.uniform(0, 1)}, times=5)
    assert all(ops["lr"] == "resample" and 0 <= c["lr"] <= 1 for c, ops in results)


@pytest.mark.parametrize("value", [math.nan, None, "x", {}])
def test_bad_mutations_name_the_key(value):
    with pytest.raises(ValueError, match="hyperparam_mutations"):
        parse_mutations({"a": {"b": value}})
