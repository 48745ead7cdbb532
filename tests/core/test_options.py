"""The public value checks components use for their options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunecore.options import check_int, check_mode, check_number, finite_float, is_finite_number


def test_finite_numbers():
    assert [is_finite_number(v) for v in (1, 2.5, np.float32(1.5), True, math.nan, math.inf, "1", None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert finite_float(np.int64(3)) == 3.0 and finite_float(math.nan) is None and finite_float("x") is None


def test_checks_name_the_option_and_the_value():
    assert check_number("max_t", 5) == 5.0
    with pytest.raises(ValueError, match="max_t must be > 0, got 0"):
        check_number("max_t", 0)
    with pytest.raises(ValueError, match=r"grace_period must be >= 1, got 0\.5"):
        check_number("grace_period", 0.5, minimum=1, strict=False)
    with pytest.raises(ValueError, match="brackets must be an integer >= 1, got True"):
        check_int("brackets", True, minimum=1)
    with pytest.raises(ValueError, match='mode must be "min" or "max", got \'best\''):
        check_mode("best")


def test_check_objective_takes_the_components_own_metric_else_the_experiments_and_needs_both():
    from tunecore.options import check_objective

    assert check_objective("the x scheduler", "loss", "min") == ("loss", "min")
    assert check_objective("the x scheduler", "loss", "min", own_metric="acc", own_mode="max") == ("acc", "max")
    assert check_objective("the x scheduler", ["loss", "acc"], ["min", "max"], own_metric="acc") == ("acc", "max")
    with pytest.raises(ValueError, match=r"the x scheduler needs one metric to rank trials, got None: set TuneConfig"):
        check_objective("the x scheduler", None, None)
    with pytest.raises(ValueError, match='the x scheduler needs mode "min" or "max", got None'):
        check_objective("the x scheduler", None, None, own_metric="loss")
