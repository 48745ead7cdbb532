"""ValueMap: the forms of parameters and the mapping of values between a library and the config."""

from __future__ import annotations

import numpy as np
import pytest

import tunecore
from tune_bayesopt.values import multiple, value_map
from tunecore.space import SpaceError, walk_space


def mapped(domain, searcher="optuna", normal=False):
    (parameter,) = walk_space({"p": domain})
    return value_map(parameter, searcher, normal=normal)


def test_multiple_has_no_float_noise():
    assert [multiple(k, 0.1) for k in (1, 3, 7)] == [0.1, 0.3, 0.7]
    assert multiple(3, 5) == 15 and isinstance(multiple(3, 5), int)
    assert multiple(4, 0.25) == 1.0 and multiple(3, 0.3) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("domain", "form", "low", "high", "log"),
    [
        (tunecore.uniform(-1, 2), "float", -1.0, 2.0, False),
        (tunecore.loguniform(1e-4, 1e-1), "float", 1e-4, 1e-1, True),
        (tunecore.quniform(0.5, 0.99, 0.01), "steps", 50, 99, False),
        (tunecore.qloguniform(1e-3, 1.0, 1e-3), "steps", 1, 1000, True),
        (tunecore.randint(0, 10), "steps", 0, 9, False),
        (tunecore.qrandint(1, 10, 2), "steps", 1, 5, False),
        (tunecore.lograndint(1, 100), "steps", 1, 99, True),
        (tunecore.qlograndint(8, 512, 8), "steps", 1, 64, True),
        (tunecore.choice(["a", "b", "c"]), "index", 0, 2, False),
    ],
)
def test_forms_and_bounds(domain, form, low, high, log):
    m = mapped(domain)
    assert (m.form, m.low, m.high, m.log) == (form, low, high, log)
    assert m.name == "p" and m.domain == repr(domain)


def test_steps_map_to_multiples_inside_the_bounds():
    m = mapped(tunecore.quniform(0.5, 0.99, 0.01))
    assert m.to_config(73) == 0.73 and m.to_config(73.4) == 0.73
    assert m.to_config(10) == 0.5 and m.to_config(500) == 0.99  # clipped to the bounds
    assert m.to_library(0.73) == 73
    ints = mapped(tunecore.qrandint(1, 10, 2))
    assert ints.to_config(3) == 6 and isinstance(ints.to_config(3.0), int)
    assert ints.to_library(6) == 3
    assert mapped(tunecore.randint(0, 10)).to_config(9.6) == 9


def test_floats_are_clipped_and_checked():
    m = mapped(tunecore.uniform(-1, 2))
    assert m.to_config(2.5) == 2.0 and m.to_config(0.25) == 0.25
    assert m.to_library(1) == 1.0
    with pytest.raises(ValueError, match="outside uniform"):
        m.to_library(3)
    with pytest.raises(ValueError, match="is not a number"):
        m.to_library("1")


def test_library_values_are_checked():
    with pytest.raises(ValueError, match=r"not a multiple of 0\.01"):
        mapped(tunecore.quniform(0.5, 0.99, 0.01)).to_library(0.555)
    with pytest.raises(ValueError, match="not a whole number"):
        mapped(tunecore.randint(0, 10)).to_library(2.5)
    with pytest.raises(ValueError, match="outside randint"):
        mapped(tunecore.randint(0, 10)).to_library(10)
    with pytest.raises(ValueError, match="is not one of"):
        mapped(tunecore.choice(["a", "b"])).to_library("c")


def test_categories_of_any_type_by_index():
    categories = [{"kind": "leaky"}, [1, 2], None, 1, True]
    m = mapped(tunecore.choice(categories))
    assert [m.to_config(i) for i in range(5)] == categories
    assert m.to_config(0) is not m.to_config(0)  # copies: changing a config never changes the space
    assert [m.to_library(v) for v in ({"kind": "leaky"}, [1, 2], None, 1, True)] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("domain", "value"),
    [(tunecore.choice(["only"]), "only"), (tunecore.randint(3, 4), 3), (tunecore.quniform(0.1, 0.19, 0.1), 0.1)],
)
def test_single_values_are_fixed(domain, value):
    m = mapped(domain)
    assert m.form == "fixed" and m.to_config(None) == value


def test_normal_domains():
    m = mapped(tunecore.randn(1.0, 2.0), normal=True)
    assert (m.form, m.mean, m.sd, m.low, m.high) == ("float", 1.0, 2.0, None, None)
    assert m.to_config(100.0) == 100.0
    q = mapped(tunecore.qrandn(1.0, 2.0, 0.5), normal=True)
    assert (q.form, q.mean, q.sd) == ("steps", 2.0, 4.0)
    assert q.to_config(-7) == -3.5 and q.to_library(-3.5) == -7
    with pytest.raises(SpaceError, match="no normal distribution"):
        mapped(tunecore.randn(), normal=False)


def test_config_builder_equals_unflatten():
    from tests.bayesopt.helpers import SPACE
    from tune_bayesopt.configs import config_builder
    from tunecore.space import get_path, sample_config, unflatten

    space = {**SPACE, "table": {"rows": [1, {"deep": [2, 3]}], "none": None}, "pair": (1, 2)}
    build = config_builder(space)
    rng = np.random.default_rng(0)
    for _ in range(20):
        config = sample_config(space, rng)
        values = {p.name: get_path(config, p.path) for p in walk_space(space)}
        assert build(values) == unflatten(values, space)
    first, second = build(values), build(values)
    assert first["table"]["rows"] is not second["table"]["rows"]  # mutable constants are copies
