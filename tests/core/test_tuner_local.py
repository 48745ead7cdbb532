"""End to end through Tuner with the local executor: real worker processes."""

from __future__ import annotations

import itertools
import os
import signal
import time

import tunecore
from tests.core.test_tuner import ScriptedScheduler, counting_trainable


def tuner(trainable, tmp_path, *, param_space=None, plugins=None, **tune_kwargs):
    run_kwargs = {key: tune_kwargs.pop(key) for key in ("stop", "failure_config") if key in tune_kwargs}
    return tunecore.Tuner(
        trainable,
        param_space=param_space if param_space is not None else {"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", executor="local", executor_options={"num_workers": 2}, **tune_kwargs
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0, **run_kwargs),
        plugins=plugins,
    )


def sleeper(config):
    start = time.time()
    time.sleep(0.3)
    tunecore.report({"loss": config["x"], "start": start, "end": time.time(), "pid": os.getpid()})


def test_two_trials_overlap_with_two_workers(tmp_path):
    grid = tuner(sleeper, tmp_path, num_samples=2, seed=0).fit()
    first, second = (r.metrics for r in grid)
    assert first["pid"] != second["pid"] and os.getpid() not in (first["pid"], second["pid"])
    assert first["start"] < second["end"] and second["start"] < first["end"]


def test_sigkill_of_a_worker_errors_its_trial_and_the_rest_complete(tmp_path):
    def victim(config):
        if config["x"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        tunecore.report({"loss": float(config["x"])})

    grid = tuner(victim, tmp_path, param_space={"x": tunecore.grid_search([0, 1, 2, 3])}).fit()
    statuses = {r.config["x"]: r.status for r in grid}
    assert statuses == {0: "TERMINATED", 1: "ERROR", 2: "TERMINATED", 3: "TERMINATED"}
    error = next(r.error for r in grid if r.status == "ERROR")
    assert "died while running trial t00002" in error and "SIGKILL" in error


def test_a_raising_trial_has_its_traceback_in_error_txt(tmp_path):
    def raises(config):
        raise KeyError("missing thing")

    grid = tuner(raises, tmp_path, param_space={}).fit()
    with open(os.path.join(grid[0].path, "error.txt")) as file:
        text = file.read()
    assert "Traceback" in text and "KeyError: 'missing thing'" in text


class CountsUnpickling:
    """Appends a line to a file each time it is unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __setstate__(self, state):
        self.__dict__.update(state)
        with open(self.path, "a") as file:
            file.write(f"{os.getpid()}\n")


def test_with_parameters_ships_the_object_once_per_worker(tmp_path):
    counter = tmp_path / "unpickled"

    def train(config, data):
        tunecore.report({"loss": config["x"], "path": data.path})

    grid = tuner(
        tunecore.with_parameters(train, data=CountsUnpickling(str(counter))), tmp_path, num_samples=8, seed=0
    ).fit()
    assert len(grid) == 8 and grid.num_terminated == 8
    pids = counter.read_text().split()
    assert len(pids) == len(set(pids)) <= 2  # once per worker process, not once per trial


def test_pause_resume_and_restart_are_exact_with_workers(tmp_path):
    class Plugin:
        def tunecore_register_schedulers(self, register):
            register("scripted", ScriptedScheduler)

    plugins = tunecore.load_plugins({}, extra=[("scripted", Plugin())])
    grid = tuner(counting_trainable, tmp_path, num_samples=2, seed=0, scheduler="scripted", plugins=plugins).fit()
    first, second = grid
    assert [r["step"] for r in second.metrics_history] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in first.metrics_history] == [1, 2, 3, 4, 1, 2, 3, 4, 5, 6]
    assert first.config["x"] == 0.5


def test_stop_takes_effect_at_the_next_report(tmp_path):
    marks = tmp_path / "marks"

    def train(config):
        for step in range(1, 20):
            with open(marks, "a") as file:
                file.write(f"{step}\n")
            tunecore.report({"loss": 1.0})

    grid = tuner(train, tmp_path, param_space={}, stop={"training_iteration": 3}).fit()
    assert len(grid[0].metrics_history) == 3
    assert marks.read_text().split() == ["1", "2", "3", "4"]  # it got to report 4, which ended it


def test_max_concurrent_trials_limits_running_trials(tmp_path):
    grid = tuner(sleeper, tmp_path, num_samples=3, seed=0, max_concurrent_trials=1).fit()
    spans = sorted((r.metrics["start"], r.metrics["end"]) for r in grid)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
