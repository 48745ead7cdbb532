"""End to end through the public API with the inline executor: counts, seeds, stoppers, decisions, errors."""

from __future__ import annotations

import json
import math
import os

import pytest

import tunecore
from tunecore import CONTINUE, PAUSE, STOP, Decision
from tunecore.errors import TuneError
from tunecore.results import _replay as _original_replay


def quadratic(config):
    for step in range(1, 6):
        tunecore.report({"loss": (config["x"] - 0.3) ** 2 + 1.0 / step, "step": step})


def run(trainable, tmp_path, *, param_space=None, plugins=None, loggers=(), **tune_kwargs):
    run_kwargs = {
        key: tune_kwargs.pop(key)
        for key in ("stop", "stoppers", "failure_config", "checkpoint_config", "callbacks")
        if key in tune_kwargs
    }
    tune_kwargs.setdefault("executor", "inline")
    tune_kwargs.setdefault("metric", "loss")
    tune_kwargs.setdefault("mode", "min")
    tuner = tunecore.Tuner(
        trainable,
        param_space=param_space if param_space is not None else {"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(**tune_kwargs),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=list(loggers), **run_kwargs),
        plugins=plugins,
    )
    return tuner.fit()


def test_grid_times_num_samples_and_auto_fields(tmp_path):
    grid = run(
        quadratic,
        tmp_path,
        param_space={"x": tunecore.uniform(0, 1), "g": tunecore.grid_search([1, 2, 3])},
        num_samples=2,
        seed=0,
    )
    assert len(grid) == 6 and grid.num_terminated == 6 and grid.num_errors == 0
    assert sorted(r.config["g"] for r in grid) == [1, 1, 2, 2, 3, 3]
    history = grid[0].metrics_history
    assert [r["training_iteration"] for r in history] == [1, 2, 3, 4, 5]
    assert all(r["trial_id"] == grid[0].trial_id for r in history)
    assert [r["done"] for r in history] == [False] * 4 + [True]  # a finished trial's final result is done
    assert history[-1]["time_total_s"] >= history[0]["time_total_s"] > 0
    assert {"time_this_iter_s", "timestamp"} <= set(history[0])


def test_same_seed_same_configs(tmp_path):
    space = {"x": tunecore.uniform(0, 1), "n": tunecore.randint(0, 100), "a": tunecore.choice(["p", "q"])}
    first = [r.config for r in run(quadratic, tmp_path / "1", param_space=space, num_samples=5, seed=42)]
    second = [r.config for r in run(quadratic, tmp_path / "2", param_space=space, num_samples=5, seed=42)]
    other = [r.config for r in run(quadratic, tmp_path / "3", param_space=space, num_samples=5, seed=43)]
    assert first == second and first != other


def test_best_result_and_dataframe(tmp_path):
    grid = run(quadratic, tmp_path, num_samples=6, seed=1)
    best = grid.get_best_result()
    assert best.metrics["loss"] == min(r.metrics["loss"] for r in grid)
    assert grid.get_best_result("loss", "max").metrics["loss"] == max(r.metrics["loss"] for r in grid)
    assert grid.get_best_result(scope="all").trial_id == best.trial_id  # same ordering of x
    frame = grid.get_dataframe()
    assert len(frame) == 6 and "config/x" in frame.columns and "loss" in frame.columns
    assert list(frame["trial_id"]) == [r.trial_id for r in grid]


def test_dataframe_without_pandas_is_records(tmp_path, monkeypatch):
    import sys

    grid = run(quadratic, tmp_path, num_samples=2, seed=1)
    monkeypatch.setitem(sys.modules, "pandas", None)
    records = grid.get_dataframe()
    assert [row["trial_id"] for row in records] == ["t00001", "t00002"]
    assert records[0]["config/x"] == grid[0].config["x"] and records[0]["loss"] == grid[0].metrics["loss"]


def test_from_path_equals_returned_grid(tmp_path):
    grid = run(quadratic, tmp_path, num_samples=3, seed=2)
    loaded = tunecore.ResultGrid.from_path(grid.experiment_path)
    assert [(r.trial_id, r.config, r.metrics_history, r.status) for r in loaded] == [
        (r.trial_id, r.config, r.metrics_history, r.status) for r in grid
    ]
    assert loaded.metric == "loss" and loaded.mode == "min"


def test_the_returned_grid_is_the_experiment_as_it_ended(tmp_path, monkeypatch):
    """fit() reads the journal at once and parses it at the first use: the same grid as from_path, and one that
    neither a later change of the directory nor its removal alters."""
    import shutil

    from tunecore import results

    def sometimes_fails(config):
        checkpoint = tunecore.get_checkpoint()
        start = checkpoint.to_dict()["step"] if checkpoint else 0
        for step in range(start + 1, 4):
            if config["x"] > 0.7 and step == 2:
                raise ValueError("too big")
            tunecore.report({"loss": config["x"] / step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))

    parsed = []

    def counted(records, path):
        parsed.append(path)
        return _original_replay(records, path)

    monkeypatch.setattr(results, "_replay", counted)
    grid = run(sometimes_fails, tmp_path, num_samples=6, seed=1, checkpoint_config=tunecore.CheckpointConfig(2))
    assert parsed == []  # nothing parsed yet
    fields = [
        (r.trial_id, r.config, r.metrics, r.metrics_history, r.status, r.error, r.checkpoint, r.best_checkpoints)
        for r in tunecore.ResultGrid.from_path(grid.experiment_path)
    ]
    assert any(f[6] is not None for f in fields) and any(len(f[7]) == 2 for f in fields)
    parsed.clear()
    with open(os.path.join(grid.experiment_path, "journal.jsonl"), "a") as journal:  # a later session's records
        journal.write(json.dumps({"event": "status", "trial_id": "t00001", "status": "ERROR", "error": "x"}) + "\n")
    shutil.rmtree(grid.experiment_path)
    assert {r.status for r in grid} == {"TERMINATED", "ERROR"} and grid.num_errors >= 1
    assert [
        (r.trial_id, r.config, r.metrics, r.metrics_history, r.status, r.error, r.checkpoint, r.best_checkpoints)
        for r in grid
    ] == fields
    assert len(parsed) == 1  # parsed once, at the first use
    assert grid.get_best_result().metrics["loss"] == min(
        r.metrics["loss"] for r in grid if r.status == "TERMINATED"
    )


def test_storage_layout(tmp_path):
    grid = run(quadratic, tmp_path, num_samples=2, seed=0, loggers=["json", "csv"])
    path = grid.experiment_path
    assert path == str(tmp_path / "exp")
    assert sorted(os.listdir(path)) == [
        "experiment.json", "journal.jsonl", "progress.csv", "result.jsonl", "snapshot.0", "snapshot.1", "spec.pkl",
        "state.json",
    ]
    with open(os.path.join(path, "result.jsonl")) as file:
        assert json.loads(file.readline())["config"] == grid[0].config
    per_trial = [{"name": "json", "per_trial": True}, {"name": "csv", "per_trial": True}]
    grid = run(quadratic, tmp_path / "ray", num_samples=2, seed=0, loggers=per_trial)
    assert sorted(os.listdir(grid[0].path)) == ["params.json", "progress.csv", "result.jsonl"]
    with open(os.path.join(grid[0].path, "params.json")) as file:
        assert json.load(file) == grid[0].config
    with open(os.path.join(path, "experiment.json")) as file:
        experiment = json.load(file)
    assert experiment["metric"] == "loss" and experiment["param_space"] == {"x": {"uniform": [0.0, 1.0]}}


def test_without_loggers_trial_directories_are_created_only_when_written(tmp_path):
    def uses_context(config):
        tunecore.report({"loss": 0.0, "dir_exists": os.path.isdir(tunecore.get_context().trial_dir)})

    grid = run(quadratic, tmp_path / "a", num_samples=2, seed=0)
    assert not [name for name in os.listdir(grid.experiment_path) if name.startswith("t0")]
    grid = run(uses_context, tmp_path / "b", param_space={})
    assert grid[0].metrics["dir_exists"] is True


@pytest.mark.parametrize(
    ("run_kwargs", "iterations"),
    [
        ({"stop": {"training_iteration": 2}}, [2, 2]),
        ({"stop": lambda trial_id, result: result["step"] >= 3}, [3, 3]),
        ({"stoppers": [{"name": "max_iter", "max_iter": 4}]}, [4, 4]),
        ({"stoppers": ["max_iter"]}, None),
    ],
)
def test_trial_stoppers(tmp_path, run_kwargs, iterations):
    if iterations is None:
        with pytest.raises(tunecore.ComponentError, match="needs the option max_iter"):
            run(quadratic, tmp_path, num_samples=2, seed=0, **run_kwargs)
        return
    grid = run(quadratic, tmp_path, num_samples=2, seed=0, **run_kwargs)
    assert [r.metrics["training_iteration"] for r in grid] == iterations
    assert all(r.metrics["done"] for r in grid)


def test_threshold_stopper_min_and_max(tmp_path):
    def falling(config):
        for value in (5.0, 4.0, 3.0, 2.0, 1.0):
            tunecore.report({"loss": value, "acc": 6.0 - value})

    low = run(falling, tmp_path / "a", param_space={}, stoppers=[{"name": "threshold", "value": 3.0}])
    assert [r["loss"] for r in low[0].metrics_history] == [5.0, 4.0, 3.0]
    high = run(
        falling,
        tmp_path / "b",
        param_space={},
        metric="acc",
        mode="max",
        stoppers=[{"name": "threshold", "value": 4.0}],
    )
    assert [r["acc"] for r in high[0].metrics_history] == [1.0, 2.0, 3.0, 4.0]
    explicit = run(
        falling,
        tmp_path / "c",
        param_space={},
        stoppers=[{"name": "threshold", "metric": "acc", "value": 2.0, "op": ">="}],
    )
    assert len(explicit[0].metrics_history) == 2


def test_plateau_stopper(tmp_path):
    def flat(config):
        for value in (9.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0):
            tunecore.report({"loss": value})

    grid = run(
        flat,
        tmp_path,
        param_space={},
        stoppers=[{"name": "plateau", "std": 0.001, "num_results": 3, "grace_period": 3}],
    )
    assert len(grid[0].metrics_history) == 5  # 1.0 three times in a row at results 3..5


def test_experiment_plateau_and_timeout_stop_the_experiment(tmp_path):
    def constant(config):
        tunecore.report({"loss": 1.0})

    grid = run(
        constant,
        tmp_path / "a",
        num_samples=50,
        seed=0,
        stoppers=[{"name": "experiment_plateau", "top": 3, "std": 0.0}],
    )
    assert len(grid) == 3  # the top 3 all equal after 3 trials: nothing more is launched

    def slow(config):
        import time

        for _ in range(20):
            time.sleep(0.01)
            tunecore.report({"loss": 1.0})

    grid = run(slow, tmp_path / "b", num_samples=-1, seed=0, stoppers=[{"name": "timeout", "timeout_s": 0.3}])
    assert 1 <= len(grid) <= 3
    assert all(r.status == "TERMINATED" for r in grid)


def test_time_budget_stops_launching_and_running(tmp_path):
    def slow(config):
        import time

        for _ in range(100):
            time.sleep(0.01)
            tunecore.report({"loss": 1.0})

    grid = run(slow, tmp_path, num_samples=-1, seed=0, time_budget_s=0.25)
    assert len(grid) <= 2
    assert grid[0].metrics["training_iteration"] < 100


def test_missing_metric_is_a_clear_trial_error(tmp_path):
    def wrong(config):
        tunecore.report({"los": 1.0})

    grid = run(wrong, tmp_path, num_samples=2, seed=0)
    assert grid.num_errors == 2
    message = grid.errors[0].traceback
    assert "trial t00001 reported a result without the metric ['loss']" in message
    assert "it reported: los (besides the automatic fields)" in message
    with open(os.path.join(grid.experiment_path, "t00001", "error.txt")) as file:
        assert "without the metric" in file.read()


def test_a_trial_that_raises_errors_and_the_others_complete(tmp_path):
    def flaky(config):
        tunecore.report({"loss": config["x"]})
        if config["x"] > 0.5:
            raise ValueError("x too large")

    grid = run(flaky, tmp_path, num_samples=6, seed=3)
    assert grid.num_errors + grid.num_terminated == 6
    assert grid.num_errors >= 1 and grid.num_terminated >= 1
    error = grid.errors[0]
    assert "ValueError: x too large" in error.traceback and str(error).endswith("ValueError: x too large")


def test_user_except_exception_cannot_swallow_a_stop(tmp_path):
    def stubborn(config):
        for _step in range(10):
            try:
                tunecore.report({"loss": 1.0})
            except Exception:
                pass

    grid = run(stubborn, tmp_path, param_space={}, stop={"training_iteration": 3})
    assert len(grid[0].metrics_history) == 3


def test_retries_from_failures(tmp_path):
    attempts = tmp_path / "attempts"

    def fails_twice(config):
        with open(attempts, "a") as file:
            file.write("x")
        if len(attempts.read_text()) < 3:
            raise RuntimeError("not yet")
        tunecore.report({"loss": 0.0})

    grid = run(fails_twice, tmp_path, param_space={}, failure_config=tunecore.FailureConfig(max_failures=2))
    assert grid.num_terminated == 1 and grid[0].metrics["loss"] == 0.0
    assert grid[0].num_failures == 2 and grid[0].error is None  # recovered: its failures are counted, not shown


def test_returned_dict_is_the_final_result(tmp_path):
    def returns(config):
        return {"loss": config["x"]}

    grid = run(returns, tmp_path, num_samples=2, seed=0)
    assert [len(r.metrics_history) for r in grid] == [1, 1]
    assert grid[0].metrics["done"] is True


class ScriptedScheduler(tunecore.Scheduler):
    """Pauses every trial at iteration 2 (resumed once nothing is pending), restarts t00001 at iteration 4."""

    def __init__(self, restart_x: float = 0.5) -> None:
        self.restart_x = restart_x
        self.paused_once: set[str] = set()
        self.restarted = False

    def on_trial_result(self, trial, result):
        if result["training_iteration"] == 2 and trial.trial_id not in self.paused_once:
            self.paused_once.add(trial.trial_id)
            return PAUSE
        if trial.trial_id == "t00001" and result["training_iteration"] == 4 and not self.restarted:
            self.restarted = True
            return Decision.restart({**trial.config, "x": self.restart_x}, checkpoint=None)
        return CONTINUE

    def choose_trial_to_run(self, pending, paused):
        if pending:
            return pending[0]
        return paused[0] if paused else None


def counting_trainable(config):
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else 0
    for step in range(start + 1, 7):
        tunecore.report({"loss": config["x"], "step": step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))


def test_pause_and_restart_decisions(tmp_path):
    class Plugin:
        def tunecore_register_schedulers(self, register):
            register("scripted", ScriptedScheduler)

    plugins = tunecore.load_plugins({}, extra=[("scripted", Plugin())])
    grid = run(counting_trainable, tmp_path, num_samples=2, seed=0, scheduler="scripted", plugins=plugins)
    first, second = grid
    # Paused at iteration 2, resumed from its checkpoint: steps continue 3, 4, ...
    assert [r["step"] for r in second.metrics_history] == [1, 2, 3, 4, 5, 6]
    assert [r["training_iteration"] for r in second.metrics_history] == [1, 2, 3, 4, 5, 6]
    # t00001 restarted at iteration 4 with x=0.5 and no checkpoint: starts over at step 1, iterations go on.
    steps = [r["step"] for r in first.metrics_history]
    assert steps == [1, 2, 3, 4, 1, 2, 3, 4, 5, 6]
    assert first.config["x"] == 0.5 and first.metrics["loss"] == 0.5
    assert first.metrics_history[4]["training_iteration"] == 5
    assert all(r.status == "TERMINATED" for r in grid)
    assert first.checkpoint is not None and first.checkpoint.to_dict() == {"step": 6}


def test_stop_decision_and_unknown_decision(tmp_path):
    class StopAtTwo(tunecore.Scheduler):
        def on_trial_result(self, trial, result):
            return STOP if result["training_iteration"] == 2 else CONTINUE

    grid = run(quadratic, tmp_path / "a", num_samples=2, seed=0, scheduler=StopAtTwo())
    assert [len(r.metrics_history) for r in grid] == [2, 2]

    class Broken(tunecore.Scheduler):
        def on_trial_result(self, trial, result):
            return "STOP"

    with pytest.raises(tunecore.TuneError, match=r"must return a tunecore\.Decision"):
        run(quadratic, tmp_path / "b", num_samples=1, seed=0, scheduler=Broken())


class Counter(tunecore.Trainable):
    setups = 0

    def setup(self, config):
        type(self).setups += 1
        self.value = 0

    def step(self):
        self.value += self.config["x"]
        return {"loss": self.value, "done": self.value >= 3 * self.config["x"]}

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "value"), "w") as file:
            file.write(str(self.value))

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "value")) as file:
            self.value = float(file.read())

    def reset_config(self, new_config):
        self.value = 0
        return True


def test_class_trainable_with_reset_config_and_checkpoints(tmp_path):
    Counter.setups = 0
    grid = run(
        Counter,
        tmp_path,
        num_samples=3,
        seed=0,
        checkpoint_config=tunecore.CheckpointConfig(checkpoint_frequency=2, checkpoint_at_end=True),
    )
    assert Counter.setups == 1  # one instance reused for all three trials
    assert [len(r.metrics_history) for r in grid] == [3, 3, 3]
    assert all(math.isclose(r.metrics["loss"], 3 * r.config["x"]) for r in grid)
    checkpoints = sorted(os.listdir(grid[0].path))
    assert "checkpoint_000002" in checkpoints and "checkpoint_000003" in checkpoints
    assert grid[0].checkpoint.path.endswith("checkpoint_000003")


def test_with_parameters_passes_objects(tmp_path):
    def train(config, data):
        tunecore.report({"loss": sum(data) * config["x"]})

    grid = run(tunecore.with_parameters(train, data=[1, 2, 3]), tmp_path, num_samples=2, seed=0)
    assert all(math.isclose(r.metrics["loss"], 6 * r.config["x"]) for r in grid)


def test_get_context(tmp_path):
    def train(config):
        context = tunecore.get_context()
        tunecore.report(
            {
                "loss": 0.0,
                "dir": context.trial_dir,
                "id": context.trial_id,
                "seed": context.seed,
                "cpu": context.resources["cpu"],
            }
        )

    grid = run(tunecore.with_resources(train, {"cpu": 2}), tmp_path, num_samples=2, seed=5)
    assert [r.metrics["id"] for r in grid] == ["t00001", "t00002"]
    assert grid[0].metrics["dir"] == grid[0].path and grid[0].metrics["cpu"] == 2
    assert grid[0].metrics["seed"] != grid[1].metrics["seed"]


def test_report_outside_a_trial():
    with pytest.raises(tunecore.TuneError, match=r"tunecore.report\(\) was called outside a trial"):
        tunecore.report({"loss": 1})


def test_callbacks_receive_events(tmp_path):
    seen = []

    class Callback:
        def tunecore_trial_finished(self, trial, status):
            seen.append((trial.trial_id, status))

    run(quadratic, tmp_path, num_samples=2, seed=0, callbacks=[Callback()])
    assert seen == [("t00001", "TERMINATED"), ("t00002", "TERMINATED")]


def test_a_second_run_with_the_same_name_gets_its_own_directory(tmp_path):
    first = run(quadratic, tmp_path, num_samples=1, seed=0)
    second = run(quadratic, tmp_path, num_samples=1, seed=0)
    assert first.experiment_path == str(tmp_path / "exp") and second.experiment_path == str(tmp_path / "exp_2")
    assert len(tunecore.ResultGrid.from_path(first.experiment_path)) == 1


def test_points_to_evaluate_come_first(tmp_path):
    grid = run(
        quadratic,
        tmp_path,
        num_samples=3,
        seed=0,
        searcher={"name": "random", "points_to_evaluate": [{"x": 0.3}, {"x": 0.9}]},
    )
    assert [r.config["x"] for r in grid][:2] == [0.3, 0.9] and len(grid) == 3


def test_concurrency_limiter_and_repeater_through_the_tuner(tmp_path):
    from tunecore.builtin.searchers import RandomSearcher

    searcher = tunecore.ConcurrencyLimiter(tunecore.Repeater(RandomSearcher(), repeat=2), max_concurrent=1)
    grid = run(quadratic, tmp_path, num_samples=4, seed=0, searcher=searcher)
    assert len(grid) == 4
    assert [r.config["__trial_index__"] for r in grid] == [0, 1, 0, 1]
    assert grid[0].config["x"] == grid[1].config["x"] != grid[2].config["x"]


def test_paused_trials_never_resumed_end_terminated(tmp_path):
    stopped_early: list[str] = []

    class PauseAll(tunecore.Scheduler):
        def on_trial_result(self, trial, result):
            return PAUSE if result["training_iteration"] == 2 else CONTINUE

        def choose_trials_to_stop(self, paused):
            chosen = [t for t in paused if t.trial_id == "t00001"]
            stopped_early.extend(t.trial_id for t in chosen)
            return chosen

    grid = run(quadratic, tmp_path, num_samples=3, seed=0, scheduler=PauseAll())
    assert [r.status for r in grid] == ["TERMINATED"] * 3
    assert [len(r.metrics_history) for r in grid] == [2, 2, 2]
    assert stopped_early == ["t00001"]  # asked while the others still ran; the rest ended with the experiment


def test_a_nested_metric_is_named_outer_slash_inner_everywhere(tmp_path):
    """As in Ray Tune: TuneConfig(metric="train/loss") names result["train"]["loss"] for the metric check and for
    the components (they see each nested value under its "outer/inner" key too: here ASHA), and in the grid."""

    def nested(config):
        for step in range(1, 9):
            tunecore.report({"train": {"loss": config["x"] + 1.0 / step}, "step": step})

    grid = run(
        nested,
        tmp_path,
        num_samples=6,
        seed=3,
        metric="train/loss",
        scheduler="asha",
        scheduler_options={"max_t": 8, "grace_period": 2, "time_attr": "step"},
    )
    assert grid.num_errors == 0, [r.error for r in grid if r.error]
    iterations = sorted(r.metrics["training_iteration"] for r in grid)
    assert iterations[0] < 8  # ASHA stopped some trials early: it read the nested metric
    best = grid.get_best_result()
    assert best.metrics["train"]["loss"] == min(r.metrics["train"]["loss"] for r in grid)


def test_get_best_result_of_a_multi_objective_experiment_says_to_pick_a_metric(tmp_path):
    """It said "set them in TuneConfig" to a user who had (as lists)."""
    grid = tunecore.Tuner(
        lambda config: tunecore.report({"loss": config["x"], "cost": 1 - config["x"]}),
        param_space={"x": tunecore.grid_search([0.2, 0.8])},
        tune_config=tunecore.TuneConfig(metric=["loss", "cost"], mode=["min", "min"], executor="inline"),
        run_config=tunecore.RunConfig(name="mo", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    with pytest.raises(TuneError, match=r"several metrics \(loss, cost\).*get_best_result\('loss', 'min'\)"):
        grid.get_best_result()
    assert grid.get_best_result("cost", "min").config == {"x": 0.8}
