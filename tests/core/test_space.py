"""Tests for tunecore.space: domains, resolution, walking helpers and the plain-data form."""

from __future__ import annotations

import collections
import importlib.util
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tunecore.space import (
    Categorical,
    Float,
    Function,
    Grid,
    Integer,
    SpaceError,
    choice,
    flatten,
    generate_variants,
    get_path,
    grid_points,
    grid_search,
    lograndint,
    loguniform,
    qlograndint,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    sample_config,
    sample_from,
    set_path,
    space_from_data,
    space_to_data,
    unflatten,
    uniform,
    walk_space,
)

SPACE_PY = Path(__file__).resolve().parents[2] / "tunecore" / "space.py"


def draw(domain, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return [domain.sample(rng) for _ in range(n)]


def is_multiple(value, q):
    return math.isclose(value / q, round(value / q), abs_tol=1e-9)


# ------------------------------------------------------------------------------------------- statistics


def test_uniform_stays_in_range_with_the_right_mean():
    values = draw(uniform(-2, 6))
    assert all(-2 <= v < 6 for v in values)
    assert all(type(v) is float for v in values)
    assert abs(np.mean(values) - 2) < 0.2


@pytest.mark.parametrize("base", [10, 2])
def test_loguniform_is_uniform_in_log_space(base):
    low, high = 1e-4, 1e-1
    values = draw(loguniform(low, high, base=base), n=4000)
    assert all(low <= v <= high for v in values)
    u = np.sort((np.log10(values) - math.log10(low)) / (math.log10(high) - math.log10(low)))
    n = len(u)
    ks = max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))
    assert ks < 0.04
    assert abs(np.mean(u) - 0.5) < 0.03


def test_quniform_gives_multiples_of_q_inside_bounds():
    values = draw(quniform(0.05, 0.95, 0.1))
    assert all(0.05 <= v <= 0.95 for v in values)
    assert all(is_multiple(v, 0.1) for v in values)
    assert min(values) == pytest.approx(0.1) and max(values) == pytest.approx(0.9)
    assert 0.3 in values  # computed as 3 / 10, not 3 * 0.1 == 0.30000000000000004


def test_qloguniform_gives_multiples_of_q_inside_bounds():
    values = draw(qloguniform(1e-3, 1.0, 5e-4))
    assert all(1e-3 - 1e-12 <= v <= 1.0 + 1e-12 for v in values)
    assert all(is_multiple(v, 5e-4) for v in values)
    assert np.median(values) < 0.1  # log-uniform: most mass at small values


def test_randn_mean_and_sd():
    values = draw(randn(3.0, 2.0), n=4000)
    assert abs(np.mean(values) - 3.0) < 0.15
    assert abs(np.std(values) - 2.0) < 0.15
    assert draw(randn(), n=1)[0] == pytest.approx(draw(randn(0.0, 1.0), n=1)[0])


def test_qrandn_gives_multiples_of_q():
    values = draw(qrandn(0.0, 1.0, 0.25))
    assert all(is_multiple(v, 0.25) for v in values)
    assert abs(np.mean(values)) < 0.1


def test_randint_excludes_upper_bound_and_reaches_lower():
    values = draw(randint(3, 8))
    assert set(values) == {3, 4, 5, 6, 7}
    assert all(type(v) is int for v in values)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        (qrandint(0, 10, 5), {0, 5, 10}),
        (qrandint(1, 10, 2), {2, 4, 6, 8, 10}),
        (qrandint(-3, 3), set(range(-3, 4))),
    ],
)
def test_qrandint_gives_multiples_of_q_with_inclusive_bounds(domain, expected):
    counts = collections.Counter(draw(domain))
    assert set(counts) == expected
    assert max(counts.values()) - min(counts.values()) < 0.1 * sum(counts.values())  # equally likely


def test_lograndint_excludes_upper_bound_and_favours_small_values():
    values = draw(lograndint(1, 100))
    assert min(values) == 1 and max(values) <= 99
    assert all(type(v) is int for v in values)
    assert np.median(values) < 20


def test_qlograndint_gives_multiples_of_q_with_inclusive_bounds():
    values = draw(qlograndint(1, 100, 5), n=5000)
    assert all(v % 5 == 0 and 5 <= v <= 100 for v in values)
    assert {5, 100} <= set(values)


def test_choice_frequencies_are_roughly_uniform():
    counts = collections.Counter(draw(choice(["a", "b", "c", "d"]), n=4000))
    assert set(counts) == {"a", "b", "c", "d"}
    assert all(abs(c - 1000) < 120 for c in counts.values())


def test_choice_accepts_numpy_arrays_and_gives_python_values():
    domain = choice(np.arange(3))
    assert domain == Categorical((0, 1, 2))
    assert all(type(v) is int for v in draw(domain, n=20))


# ---------------------------------------------------------------------------------------------- grids


def test_grid_product_repeated_num_samples_times():
    space = {"a": grid_search([1, 2, 3]), "b": grid_search(["x", "y"]), "lr": uniform(0, 1)}
    configs = list(generate_variants(space, num_samples=4, seed=0))
    assert len(configs) == 24
    assert collections.Counter((c["a"], c["b"]) for c in configs) == {(a, b): 4 for a in (1, 2, 3) for b in ("x", "y")}
    # the first grid varies slowest; each repetition walks the whole grid with fresh samples
    assert [(c["a"], c["b"]) for c in configs[:6]] == [
        (1, "x"),
        (1, "y"),
        (2, "x"),
        (2, "y"),
        (3, "x"),
        (3, "y"),
    ]
    assert len({c["lr"] for c in configs}) == 24


def test_grid_points_and_sample_config():
    space = {"opt": {"name": grid_search(["sgd", "adam"])}, "layers": [grid_search([1, 2]), 5]}
    points = grid_points(space)
    assert points == [
        {("opt", "name"): "sgd", ("layers", 0): 1},
        {("opt", "name"): "sgd", ("layers", 0): 2},
        {("opt", "name"): "adam", ("layers", 0): 1},
        {("opt", "name"): "adam", ("layers", 0): 2},
    ]
    rng = np.random.default_rng(0)
    assert sample_config(space, rng, points[3]) == {"opt": {"name": "adam"}, "layers": [2, 5]}
    assert sample_config(space, rng, {"opt/name": "sgd", "layers/0": 1}) == {
        "opt": {"name": "sgd"},
        "layers": [1, 5],
    }
    assert grid_points({"x": uniform(0, 1)}) == [{}]


def test_sample_config_requires_grid_values_and_known_names():
    space = {"g": grid_search([1, 2]), "x": uniform(0, 1)}
    rng = np.random.default_rng(0)
    with pytest.raises(SpaceError, match=r"\['g'\].*grid_points"):
        sample_config(space, rng)
    with pytest.raises(SpaceError, match=r"'nope' is not a parameter.*'g', 'x'"):
        sample_config(space, rng, {"g": 1, "nope": 3})
    assert sample_config(space, rng, {"g": 1, "x": 0.5}) == {"g": 1, "x": 0.5}  # any parameter may be fixed


def test_grid_of_nested_constants():
    space = {"model": grid_search([{"kind": "mlp", "sizes": [64, 64]}, {"kind": "cnn"}])}
    configs = list(generate_variants(space, seed=0))
    assert configs == [{"model": {"kind": "mlp", "sizes": [64, 64]}}, {"model": {"kind": "cnn"}}]
    configs[0]["model"]["sizes"].append(1)
    assert space["model"].values[0]["sizes"] == [64, 64]


# -------------------------------------------------------------------------------------- reproducibility


SPACE_FOR_SEEDS = {
    "lr": loguniform(1e-4, 1e-1),
    "act": choice(["relu", "tanh", "gelu"]),
    "layers": [randint(1, 5), qrandint(8, 64, 8)],
    "noise": sample_from(lambda spec: spec.rng.normal()),
}


def test_same_seed_same_configs_different_seed_different():
    first = list(generate_variants(SPACE_FOR_SEEDS, num_samples=20, seed=7))
    assert first == list(generate_variants(SPACE_FOR_SEEDS, num_samples=20, seed=7))
    assert first != list(generate_variants(SPACE_FOR_SEEDS, num_samples=20, seed=8))
    unseeded = [list(generate_variants(SPACE_FOR_SEEDS, num_samples=5)) for _ in range(2)]
    assert unseeded[0] != unseeded[1]


def test_same_seed_same_configs_in_another_process():
    code = (
        "import json; from tunecore.space import *\n"
        "s = {'lr': loguniform(1e-4, 1e-1), 'act': choice(['relu', 'tanh']), 'n': qrandint(8, 64, 8),"
        " 'g': grid_search([1, 2])}\n"
        "print(json.dumps(list(generate_variants(s, num_samples=3, seed=11))))"
    )
    env = {**os.environ, "PYTHONPATH": str(SPACE_PY.parents[1]), "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    space = {"lr": loguniform(1e-4, 1e-1), "act": choice(["relu", "tanh"]), "n": qrandint(8, 64, 8)}
    space["g"] = grid_search([1, 2])
    assert json.loads(out.stdout) == list(generate_variants(space, num_samples=3, seed=11))


def test_infinite_num_samples():
    configs = list(itertools.islice(generate_variants({"x": uniform(0, 1)}, num_samples=-1, seed=0), 1500))
    assert len(configs) == 1500


def test_num_samples_and_space_are_validated_on_call():
    with pytest.raises(SpaceError, match="num_samples must be a positive integer or -1"):
        generate_variants({"x": 1}, num_samples=0)
    with pytest.raises(SpaceError, match="must be a dict"):
        generate_variants([uniform(0, 1)])
    with pytest.raises(SpaceError, match=r"'x': domains inside a tuple.*use a list"):
        generate_variants({"x": (uniform(0, 1), 2)})


def test_constants_pass_through_as_copies_and_values_are_plain_python():
    space = {"const": {"tags": ["a"], "n": None, "flag": True}, "x": [uniform(0, 1), 3], "t": (1, 2)}
    configs = list(generate_variants(space, num_samples=2, seed=0))
    assert configs[0]["const"] == {"tags": ["a"], "n": None, "flag": True}
    assert configs[0]["t"] == (1, 2) and configs[0]["x"][1] == 3
    configs[0]["const"]["tags"].append("b")
    assert space["const"]["tags"] == ["a"] and configs[1]["const"]["tags"] == ["a"]
    assert type(configs[0]["x"][0]) is float


# ----------------------------------------------------------------------------------------- sample_from


def test_chained_and_nested_sample_from():
    space = {
        # declared before what they depend on: resolved in passes
        "c": sample_from(lambda spec: spec.config["opt"]["b"] + 1),
        "opt": {
            "b": sample_from(lambda spec: spec.config.opt.a * 2),  # attribute access
            "a": randint(1, 10),
        },
        "layers": [sample_from(lambda spec: spec.config["layers"][1] * 10), 4],
        "both": sample_from(lambda spec: [spec.config["opt"], spec.config["layers"]]),
    }
    for config in generate_variants(space, num_samples=5, seed=3):
        a = config["opt"]["a"]
        assert config["opt"]["b"] == 2 * a and config["c"] == 2 * a + 1
        assert config["layers"] == [40, 4]
        assert config["both"] == [{"b": 2 * a, "a": a}, [40, 4]]
        assert type(config["both"][0]) is dict  # views are returned as plain copies


def test_sample_from_may_take_no_argument_and_numpy_results_become_python():
    space = {"x": sample_from(lambda: 3), "y": sample_from(lambda spec: np.float64(0.5))}
    (config,) = generate_variants(space, seed=0)
    assert config == {"x": 3, "y": 0.5} and type(config["y"]) is float


def test_sample_from_rng_is_reproducible():
    space = {"x": sample_from(lambda spec: spec.rng.integers(0, 10**9))}
    assert list(generate_variants(space, 3, seed=1)) == list(generate_variants(space, 3, seed=1))


@pytest.mark.parametrize(
    ("space", "pattern"),
    [
        (
            {"a": sample_from(lambda s: s.config["b"]), "b": sample_from(lambda s: s.config["a"])},
            "circular sample_from dependency between 'a' and 'b' \\('a' reads 'b', 'b' reads 'a'\\)",
        ),
        (
            {
                "n": {"a": sample_from(lambda s: s.config["l"][0]), "b": 1},
                "l": [sample_from(lambda s: s.config.n.a)],
            },
            "between 'n/a' and 'l/0' \\('n/a' reads 'l/0', 'l/0' reads 'n/a'\\)",
        ),
        ({"a": sample_from(lambda s: s.config["a"] + 1)}, "circular sample_from dependency in 'a'"),
    ],
)
def test_circular_sample_from_names_the_paths(space, pattern):
    with pytest.raises(SpaceError, match=pattern):
        next(generate_variants(space, seed=0))


def test_errors_in_sample_from_are_wrapped_with_the_path():
    space = {"opt": {"lr": sample_from(lambda spec: spec.config["missing"])}}
    with pytest.raises(SpaceError, match="'opt/lr': the sample_from function raised KeyError") as info:
        next(generate_variants(space, seed=0))
    assert isinstance(info.value.__cause__, KeyError)


# ----------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("make", "parts"),
    [
        (lambda: uniform(1, 0), ["uniform needs low < high", "low=1, high=0", "swap"]),
        (lambda: uniform(1, 1), ["uniform needs low < high", "constant"]),
        (lambda: uniform("a", 1), ["uniform needs a number for low", "low='a'"]),
        (lambda: uniform(0, math.inf), ["finite high"]),
        (lambda: loguniform(0, 1), ["loguniform needs 0 < low < high", "low=0", "use uniform"]),
        (lambda: qloguniform(-1, 1, 0.1), ["qloguniform needs 0 < low", "use quniform"]),
        (lambda: lograndint(0, 10), ["lograndint needs 0 < low", "use randint"]),
        (lambda: loguniform(1, 10, base=1), ["base != 1"]),
        (lambda: quniform(0, 1, 0), ["quniform needs q > 0", "q=0", "step"]),
        (lambda: quniform(0.1, 0.2, 0.5), ["no multiple of q=0.5 in [0.1, 0.2]", "smaller q"]),
        (lambda: randn(0, 0), ["randn needs sd > 0", "sd=0"]),
        (lambda: qrandn(0, -1, 0.1), ["qrandn needs sd > 0"]),
        (lambda: randint(0, 2.5), ["randint needs whole numbers", "high=2.5", "use uniform"]),
        (lambda: qrandint(0, 10, 2.5), ["qrandint needs whole numbers", "q=2.5"]),
        (lambda: qlograndint(1, "x", 1), ["qlograndint needs whole numbers", "high='x'", "qloguniform"]),
        (lambda: randint(True, 3), ["randint needs whole numbers"]),
        (lambda: randint(5, 5), ["randint needs low < high"]),
        (lambda: qrandint(1, 2, 3), ["qrandint has no multiple of q=3"]),
        (lambda: choice([]), ["choice needs at least one", "empty"]),
        (lambda: choice("abc"), ["choice needs a list", "choice([...])"]),
        (lambda: choice({1, 2}), ["choice needs a list", "set"]),
        (lambda: grid_search([]), ["grid_search needs at least one"]),
        (lambda: sample_from(3), ["sample_from needs a callable", "lambda spec"]),
    ],
)
def test_validation_errors_say_what_and_how(make, parts):
    with pytest.raises(SpaceError) as info:
        make()
    assert isinstance(info.value, ValueError)
    for part in parts:
        assert part in str(info.value)


def test_integral_floats_are_accepted_for_integer_domains():
    assert randint(1.0, 1e3) == Integer(low=1, high=999)
    assert qrandint(np.int64(0), 10, 5) == Integer(low=0, high=10, q=5)


# -------------------------------------------------------------------------------------------- walking


def test_walk_space_lists_every_kind_in_order():
    func = sample_from(lambda spec: 1)
    space = {
        "optimizer": {"lr": loguniform(1e-4, 1e-1), "momentum": quniform(0.05, 0.95, 0.1), "name": "sgd"},
        "layers": [randint(1, 5), 64, qrandint(1, 10, 2)],
        "steps": lograndint(10, 1000, base=2),
        "noise": randn(0.5, 2.0),
        "act": choice(["relu", "tanh"]),
        "seed": grid_search([1, 2, 3]),
        "derived": func,
    }
    params = walk_space(space)
    assert [(p.name, p.kind) for p in params] == [
        ("optimizer/lr", "float"),
        ("optimizer/momentum", "float"),
        ("layers/0", "int"),
        ("layers/2", "int"),
        ("steps", "int"),
        ("noise", "float"),
        ("act", "categorical"),
        ("seed", "grid"),
        ("derived", "function"),
    ]
    lr, momentum, layer0, layer2, steps, noise, act, seed, derived = params
    assert lr.path == ("optimizer", "lr") and layer0.path == ("layers", 0)
    assert (lr.low, lr.high, lr.log, lr.base, lr.q, lr.sampler) == (1e-4, 1e-1, True, 10, None, "uniform")
    assert (momentum.low, momentum.high, momentum.q, momentum.log, momentum.base) == (
        0.1,
        0.9,
        0.1,
        False,
        None,
    )
    assert (layer0.low, layer0.high, layer0.q, layer0.sampler) == (1, 4, None, "uniform")  # inclusive high
    assert (layer2.low, layer2.high, layer2.q) == (2, 10, 2)  # snapped to multiples of q
    assert (steps.low, steps.high, steps.log, steps.base) == (10, 999, True, 2)
    assert (noise.sampler, noise.mean, noise.sd, noise.low, noise.high) == ("normal", 0.5, 2.0, None, None)
    assert act.categories == ("relu", "tanh") and act.low is None and act.log is False
    assert seed.categories == (1, 2, 3)
    assert derived.domain is func and derived.categories is None and derived.sampler is None


def test_domain_classes_compare_by_value():
    assert uniform(0, 1) == Float(low=0.0, high=1.0)
    assert loguniform(1e-3, 1) == loguniform(1e-3, 1.0, base=10.0)
    assert randint(0, 10) == Integer(low=0, high=9) != qrandint(0, 9)
    assert choice([1, 2]) == Categorical((1, 2)) and grid_search([1]) == Grid((1,))
    f = lambda spec: 1  # noqa: E731
    assert sample_from(f) == Function(f) != sample_from(lambda spec: 1)
    assert uniform(0, 1).kind == "float" and randint(0, 2).kind == "int" and choice([1]).kind == "categorical"


def test_domains_repr_as_their_constructor_call():
    assert repr(loguniform(1e-4, 0.1)) == "loguniform(0.0001, 0.1)"
    assert repr(randint(0, 10)) == "randint(0, 10)" and repr(qrandint(0, 10, 5)) == "qrandint(0, 10, 5)"
    assert repr(choice(["a", 1])) == "choice(['a', 1])" and repr(randn()) == "randn(0.0, 1.0)"
    assert repr(sample_from(len)) == "sample_from(<built-in function len>)"


def test_paths_flatten_and_unflatten():
    config: dict = {}
    set_path(config, ("optimizer", "lr"), 0.1)
    set_path(config, "optimizer/name", "sgd")
    config["layers"] = [1, 2]
    set_path(config, "layers/1", 5)
    assert config == {"optimizer": {"lr": 0.1, "name": "sgd"}, "layers": [1, 5]}
    assert get_path(config, "layers/1") == 5 and get_path(config, ("optimizer", "lr")) == 0.1
    config["empty"] = {}
    assert flatten(config) == {
        "optimizer/lr": 0.1,
        "optimizer/name": "sgd",
        "layers/0": 1,
        "layers/1": 5,
        "empty": {},
    }

    space = {
        "optimizer": {"lr": loguniform(1e-4, 1e-1), "name": "sgd"},
        "layers": [randint(1, 5), 64],
        "g": grid_search([1, 2]),
        "double": sample_from(lambda spec: spec.config["layers"][0] * 2),
    }
    rebuilt = unflatten({"optimizer/lr": 0.01, "layers/0": np.int64(3), "g": 2}, space)
    assert rebuilt == {"optimizer": {"lr": 0.01, "name": "sgd"}, "layers": [3, 64], "g": 2, "double": 6}
    assert type(rebuilt["layers"][0]) is int
    assert unflatten(flatten(rebuilt), space) == rebuilt  # constants' names are accepted
    with pytest.raises(SpaceError, match=r"no value for \['layers/0'\]"):
        unflatten({"optimizer/lr": 0.01, "g": 2}, space)
    with pytest.raises(SpaceError, match="'lr' is not a parameter"):
        unflatten({"lr": 0.01}, space)


# ------------------------------------------------------------------------------------------ data form

ALL_DOMAINS = {
    "u": uniform(0, 1),
    "qu": quniform(0, 1, 0.25),
    "lu": loguniform(1e-4, 0.1),
    "lu2": loguniform(1, 1024, base=2),
    "qlu": qloguniform(1e-3, 1, 1e-3),
    "qlu2": qloguniform(1, 64, 1, base=2),
    "n": randn(0.0, 1.0),
    "qn": qrandn(1.0, 2.0, 0.5),
    "ri": randint(1, 10),
    "qri": qrandint(1, 10, 2),
    "qri1": qrandint(1, 10),
    "lri": lograndint(1, 100),
    "lri2": lograndint(1, 100, base=2),
    "qlri": qlograndint(1, 100, 5),
    "qlri2": qlograndint(1, 100, 5, base=2),
    "c": choice(["relu", "tanh"]),
    "g": grid_search([1, 2, 3]),
}

CANONICAL = {
    "u": {"uniform": [0.0, 1.0]},
    "qu": {"quniform": [0.0, 1.0, 0.25]},
    "lu": {"loguniform": [1e-4, 0.1]},
    "lu2": {"loguniform": [1.0, 1024.0, 2.0]},
    "qlu": {"qloguniform": [1e-3, 1.0, 1e-3]},
    "qlu2": {"qloguniform": [1.0, 64.0, 1.0, 2.0]},
    "n": {"randn": [0.0, 1.0]},
    "qn": {"qrandn": [1.0, 2.0, 0.5]},
    "ri": {"randint": [1, 10]},
    "qri": {"qrandint": [1, 10, 2]},
    "qri1": {"qrandint": [1, 10]},
    "lri": {"lograndint": [1, 100]},
    "lri2": {"lograndint": [1, 100, 2.0]},
    "qlri": {"qlograndint": [1, 100, 5]},
    "qlri2": {"qlograndint": [1, 100, 5, 2.0]},
    "c": {"choice": ["relu", "tanh"]},
    "g": {"grid_search": [1, 2, 3]},
}


def test_space_to_data_writes_the_canonical_form():
    assert space_to_data(ALL_DOMAINS) == CANONICAL


def test_data_round_trip_through_json():
    space = {
        **ALL_DOMAINS,
        "nested": {"opt": {"lr": loguniform(1e-5, 1e-2)}, "list": [randint(0, 3), "x", None]},
    }
    data = json.loads(json.dumps(space_to_data(space)))
    assert space_from_data(data) == space


def test_space_from_data_accepts_defaults_omitted_and_keywords():
    data = {
        "a": {"loguniform": {"low": 1e-4, "high": 0.1}},
        "b": {"qrandint": {"low": 0, "high": 10, "q": 5}},
        "c": {"randn": []},
        "d": {"choice": {"categories": ["x", "y"]}},
        "e": {"qlograndint": [1, 100, 5, 10]},
        "t": {"const": {"logunifrom": [1, 2]}},  # near a domain name: a constant table only when marked so
    }
    assert space_from_data(data) == {
        "a": loguniform(1e-4, 0.1),
        "b": qrandint(0, 10, 5),
        "c": randn(),
        "d": choice(["x", "y"]),
        "e": qlograndint(1, 100, 5),
        "t": {"logunifrom": [1, 2]},
    }


def test_const_escape_round_trips_tables_that_look_like_domains():
    space = {"mode": {"uniform": "fast"}, "raw": {"const": 1}, "ok": {"uniform": "a", "other": 2}}
    data = space_to_data(space)
    assert data == {"mode": {"const": {"uniform": "fast"}}, "raw": {"const": {"const": 1}}, "ok": space["ok"]}
    assert space_from_data(json.loads(json.dumps(data))) == space
    with pytest.raises(SpaceError, match="'x': a table whose only key is 'choice' reads back as a domain"):
        space_to_data({"x": {"choice": uniform(0, 1)}})


def test_sample_from_round_trips_through_cloudpickle():
    offset = 5
    space = {"a": randint(0, 100), "b": sample_from(lambda spec: spec.config["a"] + offset)}
    data = space_to_data(space)
    assert set(data["b"]) == {"sample_from"} and isinstance(data["b"]["sample_from"]["cloudpickle"], str)
    restored = space_from_data(json.loads(json.dumps(data)))
    assert isinstance(restored["b"], Function) and restored["b"] != space["b"]
    expected = list(generate_variants(space, num_samples=5, seed=2))
    assert list(generate_variants(restored, num_samples=5, seed=2)) == expected
    assert all(c["b"] == c["a"] + 5 for c in expected)


@pytest.mark.parametrize(
    ("data", "parts"),
    [
        (
            {"lr": {"loguniform": ["a"]}},
            ["'lr': loguniform takes [low, high] or [low, high, base]", "got ['a']"],
        ),
        (
            {"opt": {"lr": {"loguniform": [0, 1]}}},
            ["'opt/lr': loguniform needs 0 < low < high", "use uniform"],
        ),
        ({"x": {"uniform": {"lo": 0, "hi": 1}}}, ["'x': uniform takes [low, high]", "table with those keys"]),
        ({"x": {"uniform": 3}}, ["'x': uniform takes [low, high]", "got 3"]),
        ({"n": {"randn": [0, 1, 2, 3]}}, ["'n': randn takes [] or [mean] or [mean, sd]"]),
        ({"l": [{"randint": [3, 1]}]}, ["'l/0': randint needs low < high"]),
        ({"c": {"choice": "relu"}}, ["'c': choice takes a list of values", "categories"]),
        ({"c": {"choice": []}}, ["'c': choice needs at least one"]),
        ({"f": {"sample_from": "lambda spec: 1"}}, ["'f': sample_from takes", "cloudpickle"]),
        (
            {"f": {"sample_from": {"cloudpickle": "not base64!"}}},
            ["'f': cannot load the sample_from function"],
        ),
    ],
)
def test_space_from_data_errors_name_the_path_and_form(data, parts):
    with pytest.raises(SpaceError) as info:
        space_from_data(data)
    for part in parts:
        assert part in str(info.value)


def test_toml_experiment_table():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    text = """
[param_space]
act = { choice = ["relu", "tanh"] }
layers = { grid_search = [1, 2, 3] }
batch_size = 64
mode = { const = { uniform = "fast" } }

[param_space.optimizer]
lr = { loguniform = [1e-4, 1e-1] }
momentum = { quniform = { low = 0.5, high = 0.99, q = 0.01 } }
"""
    space = space_from_data(tomllib.loads(text)["param_space"])
    assert space == {
        "act": choice(["relu", "tanh"]),
        "layers": grid_search([1, 2, 3]),
        "batch_size": 64,
        "mode": {"uniform": "fast"},
        "optimizer": {"lr": loguniform(1e-4, 0.1), "momentum": quniform(0.5, 0.99, 0.01)},
    }
    configs = list(generate_variants(space, num_samples=2, seed=0))
    assert [c["layers"] for c in configs] == [1, 2, 3, 1, 2, 3]
    assert all(0.5 <= c["optimizer"]["momentum"] <= 0.99 for c in configs)


def test_space_from_data_needs_a_table():
    with pytest.raises(SpaceError, match="must be a table"):
        space_from_data([1, 2])


# --------------------------------------------------------------------------------------------- imports


def test_module_imports_without_numpy_or_cloudpickle():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('standalone_space', {str(SPACE_PY)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "assert 'numpy' not in sys.modules and 'cloudpickle' not in sys.modules, sorted(sys.modules)\n"
        "module.uniform(0, 1); module.walk_space({'x': module.choice([1])})\n"
        "assert 'numpy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.util.find_spec("tunecore.space") is not None
