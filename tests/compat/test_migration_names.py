"""Names of docs/migrating-from-ray.md that no other test exercised, each in a real run; the differences from Ray
that docs/ray-tune-differences.md adds for the searchers under Ray's names; and the document's example.

Each test says what Ray Tune does (from Ray's documentation and source) and checks that tunecore does the same.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

import tunecore
from tune_bayesopt import HyperOptSearch, OptunaSearch

ROOT = Path(__file__).parents[2]


def inline(trainable: Any, tmp_path: Path, space: dict[str, Any], **tune: Any) -> tunecore.ResultGrid:
    return tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(**{"executor": "inline", "seed": 0, **tune}),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()


# --- Tuner.restore(resume_unfinished=..., resume_errored=..., restart_errored=...) ---------------------------


def failing_once(config: dict[str, Any]) -> None:
    """x=1 fails after its second result until ``config["flag"]`` exists; x=2 waits for that failure (a file),
    then reports every 0.5 s: it is still running when the first one fails."""
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else 0
    failed = Path(config["flag"] + ".failed")
    for step in range(start + 1, 4):
        if config["x"] == 2:
            deadline = time.monotonic() + 60
            while not failed.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
        tunecore.report({"loss": config["x"], "start": start}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))
        if config["x"] == 1 and step == 2 and not os.path.exists(config["flag"]):
            failed.touch()
            raise RuntimeError("fails until the flag exists")


def test_restore_chooses_what_happens_to_unfinished_and_errored_trials(tmp_path):
    """Ray: Tuner.restore(path, trainable, resume_unfinished=True, resume_errored=False, restart_errored=False):
    unfinished trials continue (or end, with False), ERROR trials continue from their checkpoint
    (resume_errored) or start over (restart_errored)."""
    flag = tmp_path / "flag"
    tunecore.Tuner(
        failing_once,
        param_space={"x": tunecore.grid_search([1, 2]), "flag": str(flag)},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", executor="local", executor_options={"num_workers": 2}
        ),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            loggers=[],
            verbose=0,
            failure_config=tunecore.FailureConfig(fail_fast=True),  # x=1 fails while x=2 is running
        ),
    ).fit()
    before = {r.config["x"]: r for r in tunecore.ResultGrid.from_path(tmp_path / "exp")}
    assert (before[1].status, len(before[1].metrics_history)) == ("ERROR", 2)
    assert before[2].status not in ("TERMINATED", "ERROR")
    done = len(before[2].metrics_history)  # 0 or 1: x=2 was stopped at its first or second report
    assert done <= 1
    flag.touch()
    shutil.copytree(tmp_path / "exp", tmp_path / "copy")
    assert tunecore.Tuner.can_restore(tmp_path / "exp")

    grid = tunecore.Tuner.restore(
        tmp_path / "exp", failing_once, resume_unfinished=False, resume_errored=True, restart_errored=False
    ).fit()
    after = {r.config["x"]: r for r in grid}
    assert [h["start"] for h in after[1].metrics_history] == [0, 0, 2]  # continued from its checkpoint
    assert after[2].status == "TERMINATED" and len(after[2].metrics_history) == done  # ended as it was

    grid = tunecore.Tuner.restore(
        tmp_path / "copy", failing_once, resume_unfinished=True, resume_errored=False, restart_errored=True
    ).fit()
    after = {r.config["x"]: r for r in grid}
    assert [h["start"] for h in after[1].metrics_history] == [0, 0, 0]  # started over
    assert [h["start"] for h in after[2].metrics_history] == [0] * done + [done] * (3 - done)  # continued
    assert {r.status for r in grid} == {"TERMINATED"}


# --- RunConfig and CheckpointConfig with every one of Ray's arguments ------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def tunecore_trial_result(self, trial: Any, result: dict[str, Any]) -> None:
        self.events.append(("result", trial.trial_id))

    def tunecore_trial_retried(self, trial: Any, error: Any, attempt: int) -> None:
        self.events.append(("retried", trial.trial_id))


def test_run_config_takes_rays_arguments(tmp_path):
    """Ray: RunConfig(name, storage_path, stop, callbacks, checkpoint_config, failure_config, verbose)."""
    flag = tmp_path / "failed"

    def train(config: dict[str, Any]) -> None:
        checkpoint = tunecore.get_checkpoint()
        start = checkpoint.to_dict()["step"] if checkpoint else 0
        for step in range(start + 1, 100):
            tunecore.report(
                {"loss": 1 / step, "start": start}, checkpoint=tunecore.Checkpoint.from_dict({"step": step})
            )
            if step == 3 and not flag.exists():
                flag.touch()
                raise RuntimeError("the first attempt fails at step 3")

    recorder = Recorder()
    grid = tunecore.Tuner(
        train,
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
        run_config=tunecore.RunConfig(
            name="all_of_them",
            storage_path=str(tmp_path / "results"),
            stop={"training_iteration": 6},
            callbacks=[recorder],
            checkpoint_config=tunecore.CheckpointConfig(num_to_keep=1),
            failure_config=tunecore.FailureConfig(max_failures=1),
            verbose=0,
        ),
    ).fit()
    (result,) = grid
    assert grid.experiment_path == str(tmp_path / "results" / "all_of_them")
    assert [h["start"] for h in result.metrics_history] == [0, 0, 0, 3, 3, 3]  # retried from step 3; stop at 6
    assert (result.status, result.num_failures) == ("TERMINATED", 1)
    assert recorder.events == [("result", "t00001")] * 3 + [("retried", "t00001")] + [("result", "t00001")] * 3
    assert sorted(p.name for p in Path(result.path).glob("checkpoint_*")) == ["checkpoint_000006"]  # num_to_keep
    spec = json.loads((Path(grid.experiment_path) / "experiment.json").read_text())
    assert spec["verbose"] == 0


SCORES = [0.1, 0.9, 0.2, 0.3, 0.4]
CLEANED: list[int] = []


class Scored(tunecore.Trainable):
    """Reports ``SCORES`` one per step; its checkpoint is the step count."""

    def setup(self, config: dict[str, Any]) -> None:
        self.steps = 0

    def step(self) -> dict[str, Any]:
        self.steps += 1
        return {"score": SCORES[self.steps - 1], "done": self.steps == self.config.get("steps", len(SCORES))}

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        Path(checkpoint_dir, "steps").write_text(str(self.steps))

    def load_checkpoint(self, checkpoint_dir: str) -> None:
        self.steps = int(Path(checkpoint_dir, "steps").read_text())

    def cleanup(self) -> None:
        CLEANED.append(self.steps)  # after the trial: no session any more


@pytest.mark.parametrize(("order", "kept"), [("max", [2, 5]), ("min", [4, 5])])
def test_checkpoint_config_takes_rays_arguments(tmp_path, order, kept):
    """Ray: CheckpointConfig(num_to_keep, checkpoint_score_attribute, checkpoint_score_order, checkpoint_frequency,
    checkpoint_at_end): a class trainable is checkpointed every checkpoint_frequency iterations and at its end;
    the num_to_keep best by the score attribute are kept (tunecore always keeps the latest too); cleanup() runs
    when the trial ends."""
    CLEANED.clear()
    grid = tunecore.Tuner(
        Scored,
        tune_config=tunecore.TuneConfig(executor="inline"),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            checkpoint_config=tunecore.CheckpointConfig(
                num_to_keep=2,
                checkpoint_score_attribute="score",
                checkpoint_score_order=order,
                checkpoint_frequency=2,
                checkpoint_at_end=True,
            ),
            loggers=[],
            verbose=0,
        ),
    ).fit()
    (result,) = grid
    assert isinstance(result, tunecore.Result)
    # checkpoints at iterations 2 (score 0.9), 4 (0.3) and 5 (0.4, the end): the latest and the best other stay
    assert [r["training_iteration"] for _, r in result.best_checkpoints] == kept
    assert [Path(c.path, "steps").read_text() for c, _ in result.best_checkpoints] == [str(i) for i in kept]
    assert result.get_best_checkpoint("score", order).path == result.best_checkpoints[0][0].path
    assert CLEANED == [5]


@pytest.mark.xfail(
    strict=True,
    reason="core: checkpoint_at_end saves only when step() returns done=True, not when a stop condition, a stopper"
    " or a scheduler ends the trial (tunecore/executors/runner.py, _run_class)",
)
def test_checkpoint_at_end_when_a_stop_condition_ends_the_trial(tmp_path):
    """Ray: a trial stopped by RunConfig(stop=...), a stopper or a scheduler's STOP gets done=True on its last
    result, and Trial.should_checkpoint() (done and checkpoint_at_end) saves the class trainable then
    (tune_controller._process_trial_result, _checkpoint_trial_if_needed). docs/fault-tolerance.md says the same:
    "checkpoint when the trial ends"."""
    grid = tunecore.Tuner(
        Scored,
        param_space={"steps": 100},  # never done by itself
        tune_config=tunecore.TuneConfig(executor="inline"),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            stop={"training_iteration": 3},
            checkpoint_config=tunecore.CheckpointConfig(checkpoint_at_end=True),
            loggers=[],
            verbose=0,
        ),
    ).fit()
    (result,) = grid
    assert len(result.metrics_history) == 3
    assert result.checkpoint is not None and Path(result.checkpoint.path, "steps").read_text() == "3"


# --- components by name, with their options --------------------------------------------------------------------


def curve(config: dict[str, Any]) -> None:
    for step in range(1, 9):
        tunecore.report({"loss": (config["x"] - 0.3) ** 2 + 1 / step})


def test_searcher_and_scheduler_by_name_with_options(tmp_path):
    """Ray: tune.create_searcher("optuna", ...) / tune.create_scheduler("asha", ...) build components by name;
    tunecore names them in TuneConfig directly, with their options."""
    grid = inline(
        curve,
        tmp_path,
        {"x": tunecore.uniform(0, 1)},
        metric="loss",
        mode="min",
        num_samples=8,
        searcher="optuna",
        searcher_options={"sampler": "tpe"},
        scheduler="asha",
        scheduler_options={"max_t": 8, "grace_period": 1, "reduction_factor": 2},
    )
    spec = json.loads((Path(grid.experiment_path) / "experiment.json").read_text())
    assert spec["searcher"] == {"name": "optuna", "sampler": "tpe"}
    assert spec["scheduler"] == {"name": "asha", "max_t": 8, "grace_period": 1, "reduction_factor": 2}
    lengths = [len(result.metrics_history) for result in grid]
    assert lengths[0] == 8 and min(lengths) == 1  # the first runs to max_t; ASHA stops some at the first rung
    with pytest.raises(tunecore.ComponentError, match=r"scheduler 'asha' .* has no option 'max_iter'"):
        inline(
            curve, tmp_path, {"x": 0.5}, metric="loss", mode="min", scheduler="asha", scheduler_options={"max_iter": 8}
        )


def test_experiment_plateau_stopper_with_rays_options(tmp_path):
    """Ray: ExperimentPlateauStopper(metric, std=0.001, top=10, mode=None, patience=0) stops the experiment once
    the best results of the top trials vary by at most std, for more than patience results in a row."""

    def constant(config: dict[str, Any]) -> None:
        tunecore.report({"loss": config["loss"]})

    stopper = {"name": "experiment_plateau", "std": 0.001, "top": 3, "patience": 2}

    def run(name: str, losses: list[float]) -> tunecore.ResultGrid:
        return tunecore.Tuner(
            constant,
            param_space={"loss": tunecore.grid_search(losses)},
            tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
            run_config=tunecore.RunConfig(name=name, storage_path=str(tmp_path), stoppers=[stopper], verbose=0),
        ).fit()

    # Flat from the third trial's result on (3 equal values), for more than 2 results: after the fifth.
    assert len([r for r in run("flat", [1.0] * 20) if r.metrics]) == 5
    assert len(run("spread", [float(i) for i in range(20)])) == 20  # the top three never agree


# --- inside a trial, and results ---------------------------------------------------------------------------------


def test_get_context_has_the_bundles_of_a_multi_process_trial(tmp_path):
    """Ray: tune.with_resources(train, PlacementGroupFactory([...])) and get_context().get_trial_resources();
    tunecore: a list of bundles, and get_context().resources (the totals) and .bundles."""

    def train(config: dict[str, Any]) -> None:
        context = tunecore.get_context()
        tunecore.report({"loss": 0.0, "bundles": context.bundles, "cpus": context.resources["cpu"]})

    grid = inline(tunecore.with_resources(train, [{"cpu": 1, "gpu": 1}, {"cpu": 4}]), tmp_path, {})
    assert grid[0].metrics["bundles"] == [{"cpu": 1.0, "gpu": 1.0}, {"cpu": 4.0, "gpu": 0.0}]
    assert grid[0].metrics["cpus"] == 5


def test_dataframes_of_a_result_grid_and_of_a_result(tmp_path):
    """Ray: ResultGrid.get_dataframe(filter_metric, filter_mode) gives each trial's best result by that metric
    instead of its last; Result.metrics_dataframe is the trial's results as a DataFrame."""
    pytest.importorskip("pandas")

    def scripted(config: dict[str, Any]) -> None:
        for loss in config["losses"]:
            tunecore.report({"loss": loss})

    grid = inline(scripted, tmp_path, {"losses": tunecore.grid_search([[3.0, 1.0, 2.0], [0.5, 4.0]])})
    assert list(grid.get_dataframe()["loss"]) == [2.0, 4.0]
    assert list(grid.get_dataframe(filter_metric="loss", filter_mode="min")["loss"]) == [1.0, 0.5]
    assert list(grid.get_dataframe(filter_metric="loss", filter_mode="max")["loss"]) == [3.0, 4.0]
    first: tunecore.Result = grid[0]
    frame = first.metrics_dataframe
    assert list(frame["loss"]) == [3.0, 1.0, 2.0] and list(frame["training_iteration"]) == [1, 2, 3]


# --- docs/ray-tune-differences.md: the searchers under Ray's names ------------------------------------------------


SPACE = {"x": tunecore.uniform(-1, 1), "n": tunecore.randint(0, 10)}
POINTS = [{"x": 0.3, "n": 6}, {"x": -0.5, "n": 1}]


def quadratic(config: dict[str, Any]) -> None:
    tunecore.report({"loss": (config["x"] - 0.3) ** 2 + (config["n"] - 6) ** 2 / 10, "n": config["n"]})


def test_hyperopt_search_takes_evaluated_rewards_as_an_extension(tmp_path):
    """Ray's HyperOptSearch has no evaluated_rewards (its points_to_evaluate are always run); tunecore's takes
    them, keyword-only after Ray's arguments: the points go into Hyperopt's trials and are not run."""
    ours = inspect.signature(HyperOptSearch).parameters["evaluated_rewards"]
    assert ours.kind is ours.KEYWORD_ONLY and ours.default is None
    try:  # Ray Tune is installed for the benchmarks only (ray alone lacks pyarrow: ray.tune raises ImportError)
        from ray.tune.search import hyperopt as ray
    except ImportError as exc:
        pytest.skip(f"Ray Tune is not importable here ({exc}): pip install 'ray[tune]' to compare with it")
    assert "evaluated_rewards" not in inspect.signature(ray.HyperOptSearch).parameters
    searcher = HyperOptSearch(
        metric="loss",
        mode="min",
        points_to_evaluate=POINTS,
        n_initial_points=2,
        random_state_seed=0,
        evaluated_rewards=[0.0, 2.64],
    )
    grid = inline(quadratic, tmp_path, SPACE, num_samples=3, searcher=searcher)
    assert len(grid) == 3 and not any(result.config in POINTS for result in grid)
    assert [doc["result"]["loss"] for doc in searcher.trials.trials][:2] == [0.0, 2.64]


def test_optuna_search_takes_a_list_of_rewards_per_point_for_several_metrics(tmp_path):
    """Ray's OptunaSearch tells each evaluated point to Optuna with one value (create_trial(value=...)); tunecore's
    takes a list per point, in the order of its metrics, for a multi-objective study."""
    searcher = OptunaSearch(
        metric=["loss", "n"], mode=["min", "max"], points_to_evaluate=POINTS, evaluated_rewards=[[0.0, 6], [2.64, 1]]
    )
    grid = inline(quadratic, tmp_path, SPACE, num_samples=2, searcher=searcher)
    assert [trial.values for trial in searcher.study.trials[:2]] == [[0.0, 6.0], [2.64, 1.0]]
    assert len(searcher.study.trials) == 2 + len(grid) == 4


# --- the document's example -------------------------------------------------------------------------------------


def test_the_documents_python_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "migrating-from-ray.md").read_text()
    (block,) = re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    exec(compile(block.replace('"/tmp/tune_results"', repr(str(tmp_path))), "migrating-from-ray.md", "exec"), namespace)
    grid = tunecore.ResultGrid.from_path(tmp_path / "migrated")
    assert len(grid) == 8 and {r.status for r in grid} == {"TERMINATED"}
    assert namespace["best"].config == grid.get_best_result(metric="loss", mode="min").config
    assert min(len(r.metrics_history) for r in grid) == 2  # ASHA (grace_period=2) stopped some at its first rung
