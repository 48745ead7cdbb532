"""NaN and non-numeric metric values, and a metric without a mode (issue 11 item 15)."""

from __future__ import annotations

import warnings

import pytest

import tunecore

VALUES = {0: [float("nan"), float("nan"), 1.0], 1: ["high", 2.0], 2: [0.5, 0.25]}


def report_values(config):
    for value in VALUES[config["id"]]:
        tunecore.report({"loss": value})


def test_non_finite_values_warn_once_per_trial_and_never_count_as_best(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = tunecore.Tuner(
            report_values,
            param_space={"id": tunecore.grid_search([0, 1, 2])},
            tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
            run_config=tunecore.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0),
        ).fit()
    messages = [str(w.message) for w in caught if issubclass(w.category, tunecore.MetricWarning)]
    assert len(messages) == 2  # t00001 reported NaN twice: one warning; t00002 a string; t00003 nothing
    assert messages[0].startswith("trial t00001 reported loss=nan at iteration 1: not a finite number")
    assert messages[1].startswith("trial t00002 reported loss='high' at iteration 1")
    assert [r.status for r in grid] == ["TERMINATED"] * 3  # recorded as reported; the trials went on
    assert [r["loss"] for r in grid[1].metrics_history] == ["high", 2.0]
    assert grid.get_best_result().trial_id == "t00003"


@pytest.mark.parametrize(("given", "missing"), [({"metric": "loss"}, "mode"), ({"mode": "min"}, "metric")])
def test_a_metric_without_a_mode_is_an_error_at_construction(given, missing):
    with pytest.raises(tunecore.ConfigError, match=f"but no {missing}: give both"):
        tunecore.TuneConfig(**given)
