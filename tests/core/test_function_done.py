"""A function trainable that reports ``done=True`` ends there, as a class trainable does (and as in Ray Tune)."""

from __future__ import annotations

import os

import pytest

import tunecore


def done_at_three(config: dict) -> None:
    """Report ``done`` with the third result, then try to go on; log every report that returned."""
    for step in range(1, 8):
        tunecore.report({"loss": 1.0 / step, "step": step, "done": step == config["done_at"]})
        with open(config["log"], "a") as log:
            log.write(f"returned {step}\n")


class DoneAtThree(tunecore.Trainable):
    """The class trainable counterpart: ``done`` with the third result."""

    def setup(self, config: dict) -> None:
        self.step_count = 0

    def step(self) -> dict:
        self.step_count += 1
        return {"loss": 1.0 / self.step_count, "step": self.step_count, "done": self.step_count == 3}


def fit(trainable: object, tmp_path: os.PathLike, executor: str) -> tunecore.ResultGrid:
    log = os.path.join(tmp_path, "log.txt")
    open(log, "w").close()
    return tunecore.Tuner(
        trainable,
        param_space={"done_at": 3, "log": log},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor=executor, seed=0),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_function_reporting_done_stops_at_that_report(tmp_path, executor):
    grid = fit(done_at_three, tmp_path, executor)
    result = grid[0]
    assert result.status == "TERMINATED" and result.error is None
    assert [r["step"] for r in result.metrics_history] == [1, 2, 3]  # nothing after the done result is recorded
    assert result.metrics["done"] is True and result.metrics["training_iteration"] == 3
    with open(os.path.join(tmp_path, "log.txt")) as log:  # the third report did not return into the trainable
        assert log.read().splitlines() == ["returned 1", "returned 2"]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_class_reporting_done_stops_there_too(tmp_path, executor):
    grid = fit(DoneAtThree, tmp_path, executor)
    assert [r["step"] for r in grid[0].metrics_history] == [1, 2, 3]
    assert grid[0].status == "TERMINATED" and grid[0].metrics["done"] is True


def test_done_false_and_a_returned_dict_still_end_normally(tmp_path):
    def returns(config: dict) -> dict:
        tunecore.report({"loss": 2.0, "done": False})
        return {"loss": 1.0}

    result = fit(returns, tmp_path, "inline")[0]
    assert [r["loss"] for r in result.metrics_history] == [2.0, 1.0]
    assert [r["done"] for r in result.metrics_history] == [False, True]
