"""Ray Tune compatibility: stop dicts and function-trainable ``done``, through the real Tuner.

Each test names the Ray Tune behaviour it checks (from Ray's documentation and source).
"""

from __future__ import annotations

from typing import Any

import pytest

import tunecore


def counting(config: dict[str, Any]) -> None:
    """Report ``step`` (1..20), a nested ``val/acc`` of step / 10, and done at ``done_at`` when given."""
    for step in range(1, 21):
        tunecore.report({"step": step, "val": {"acc": step / 10}, "done": step == config.get("done_at")})


def fit(tmp_path: Any, stop: Any = None, **config: Any) -> tunecore.ResultGrid:
    return tunecore.Tuner(
        counting,
        param_space=dict(config),
        tune_config=tunecore.TuneConfig(executor="inline", seed=0),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), stop=stop, loggers=[], verbose=0),
    ).fit()


def test_stop_dict_stops_at_the_first_result_at_or_past_the_value(tmp_path):
    """Ray: RunConfig(stop={key: value}) stops a trial at its first result with result[key] >= value; any key
    reaching its value stops it."""
    grid = fit(tmp_path, stop={"training_iteration": 5, "step": 2.5})
    assert grid[0].metrics["step"] == 3 and grid[0].status == "TERMINATED"


def test_stop_dict_keys_are_looked_up_in_the_flattened_result(tmp_path):
    """Ray: stop-dict keys name fields of the flattened result, so {"val/acc": 0.3} reads result["val"]["acc"]."""
    grid = fit(tmp_path, stop={"val/acc": 0.3})
    assert grid[0].metrics["step"] == 3


def test_a_stop_dict_key_no_result_has_is_an_error(tmp_path):
    """Ray: a stop-dict key missing from a result raises TuneError ("Stopping criteria ... not provided in result")."""
    with pytest.raises(tunecore.TuneError, match="training_iter"):
        fit(tmp_path, stop={"training_iter": 3})


def test_a_function_trainable_reporting_done_ends_there(tmp_path):
    """Ray: a result with done=True ends the trial; the function trainable does not go on, nothing after it is
    recorded (as for class trainables)."""
    grid = fit(tmp_path, done_at=4)
    assert [r["step"] for r in grid[0].metrics_history] == [1, 2, 3, 4]
    assert grid[0].status == "TERMINATED" and grid[0].metrics["done"] is True


def test_the_final_result_of_a_finished_trial_is_done(tmp_path):
    """Ray: when a function trainable returns, its trial's last result carries done=True (earlier ones False)."""
    grid = fit(tmp_path)
    assert [r["done"] for r in grid[0].metrics_history] == [False] * 19 + [True]


def test_get_best_result_ranks_last_results_by_default(tmp_path):
    """Ray: ResultGrid.get_best_result(metric, mode) uses scope="last" — each trial's last result — and skips
    NaN/inf (filter_nan_and_inf=True); scope="all" ranks each trial by its best result."""

    def shape(config):
        for value in config["values"]:
            tunecore.report({"loss": value})

    grid = tunecore.Tuner(
        shape,
        param_space={"values": tunecore.grid_search([[0.1, 5.0], [2.0, 1.0], [3.0, float("-inf")]])},
        tune_config=tunecore.TuneConfig(executor="inline", metric="loss", mode="min"),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    )
    with pytest.warns(tunecore.MetricWarning):
        results = grid.fit()
    assert results.get_best_result().config["values"] == [2.0, 1.0]
    assert results.get_best_result(scope="all").config["values"] == [0.1, 5.0]
