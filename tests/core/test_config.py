"""TuneConfig, RunConfig and component specs: accepted forms and clear errors."""

from __future__ import annotations

import re

import pytest

import tunecore
from tunecore.components import ComponentSpec
from tunecore.config import CheckpointConfig, ExperimentSpec, FailureConfig, RunConfig, TuneConfig
from tunecore.errors import ConfigError


def test_components_by_name_mapping_or_instance():
    by_name = TuneConfig(searcher="random", searcher_options={"points_to_evaluate": [{"x": 1}]})
    by_mapping = TuneConfig(searcher={"name": "random", "points_to_evaluate": [{"x": 1}]})
    assert (
        by_name.component("searcher")
        == by_mapping.component("searcher")
        == ComponentSpec("searcher", name="random", options={"points_to_evaluate": [{"x": 1}]})
    )
    scheduler = tunecore.Scheduler()
    spec = TuneConfig(scheduler=scheduler).component("scheduler")
    assert spec.instance is scheduler
    assert spec.build(registry=None) is scheduler
    assert spec.to_data() == {"instance": "tunecore.protocols:Scheduler"}


def test_defaults():
    tune = TuneConfig()
    assert (tune.component("searcher").name, tune.component("scheduler").name, tune.component("executor").name) == (
        "random",
        "fifo",
        "local",
    )
    assert [s.name for s in RunConfig().logger_specs()] == ["json", "csv", "console"]
    assert RunConfig(loggers=[]).logger_specs() == []
    assert RunConfig().storage_path == "./tune_results"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_samples": 0}, "TuneConfig.num_samples must be a positive integer, or -1 for 'until stopped', got 0"),
        ({"num_samples": 2.5}, "TuneConfig.num_samples must be"),
        ({"mode": "minimize"}, "TuneConfig.mode must be 'min', 'max', a list of them, or None, got 'minimize'"),
        ({"metric": ["a", "b"], "mode": "min"}, "give one mode per metric"),
        ({"seed": "1"}, "TuneConfig.seed must be an integer between 0 and 2**32 - 1 (or None), got '1'"),
        ({"seed": -1}, "TuneConfig.seed must be an integer between 0 and 2**32 - 1 (or None), got -1"),
        ({"seed": 2**32}, "TuneConfig.seed must be an integer between 0 and 2**32 - 1"),
        ({"max_concurrent_trials": 0}, "TuneConfig.max_concurrent_trials must be a positive integer or None"),
        ({"time_budget_s": -1}, "TuneConfig.time_budget_s must be a positive number of seconds"),
        ({"searcher": ""}, "TuneConfig.searcher: the searcher name is empty"),
        ({"searcher": {"points_to_evaluate": []}}, "needs a 'name' key"),
        ({"searcher": {"name": "random", "x": 1}, "searcher_options": {"x": 2}}, "option(s) x given both"),
        ({"scheduler": tunecore.Scheduler}, "got the class Scheduler, not an instance"),
        ({"scheduler": tunecore.Scheduler(), "scheduler_options": {"a": 1}}, "were given for a ready scheduler"),
    ],
)
def test_tune_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as excinfo:
        TuneConfig(**kwargs)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "a/b"}, "RunConfig.name must be a non-empty directory name without '/'"),
        ({"verbose": 5}, "RunConfig.verbose must be 0, 1, 2 or 3, got 5"),
        ({"stop": {"training_iteration": "ten"}}, "RunConfig.stop['training_iteration'] must be a number"),
        ({"stop": 10}, "RunConfig.stop must be a dict of result fields, a function or a stopper"),
        ({"stoppers": [{"max_iter": 3}]}, "RunConfig.stoppers[0]: a stopper given as a mapping needs a 'name'"),
        ({"loggers": [""]}, "RunConfig.loggers[0]: the logger name is empty"),
        ({"checkpoint_config": {"num_to_keep": 2}}, "RunConfig.checkpoint_config must be a CheckpointConfig"),
    ],
)
def test_run_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as excinfo:
        RunConfig(**kwargs)
    assert message in str(excinfo.value)


def test_checkpoint_and_failure_config_errors():
    with pytest.raises(ConfigError, match=r"CheckpointConfig\.num_to_keep must be a positive integer or None"):
        CheckpointConfig(num_to_keep=0)
    with pytest.raises(ConfigError, match="checkpoint_score_order must be 'max' or 'min'"):
        CheckpointConfig(checkpoint_score_order="best")
    with pytest.raises(ConfigError, match=r"FailureConfig.max_failures must be an integer >= -1"):
        FailureConfig(max_failures=-2)


def test_single_stopper_and_path_storage(tmp_path):
    run = RunConfig(stoppers="max_iter", storage_path=tmp_path)
    assert [s.name for s in run.stopper_specs()] == ["max_iter"]
    assert run.storage_path == str(tmp_path)


def test_experiment_spec_to_data_is_plain():
    import json

    def train(config):
        return {"loss": 0.0}

    spec = ExperimentSpec(
        trainable=train,
        param_space={"lr": tunecore.loguniform(1e-4, 1e-1), "layers": tunecore.grid_search([1, 2])},
        tune_config=TuneConfig(metric="loss", mode="min", seed=3, scheduler={"name": "fifo"}),
        run_config=RunConfig(stop={"training_iteration": 5}, stoppers=[{"name": "max_iter", "max_iter": 3}]),
    )
    data = json.loads(json.dumps(spec.to_data()))
    assert data["trainable"].endswith(":test_experiment_spec_to_data_is_plain.<locals>.train")
    assert data["param_space"] == {"lr": {"loguniform": [0.0001, 0.1]}, "layers": {"grid_search": [1, 2]}}
    assert data["scheduler"] == {"name": "fifo"}
    assert data["stoppers"] == [{"name": "max_iter", "max_iter": 3}]
    assert data["stop"] == {"training_iteration": 5}
    assert data["checkpoint_config"]["num_to_keep"] is None


SCORE_NAME = "CheckpointConfig.checkpoint_score_attribute must be a result field name or None"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FailureConfig(fail_fast="no"), "FailureConfig.fail_fast must be True or False"),
        (lambda: FailureConfig(fail_fast=1), "FailureConfig.fail_fast must be True or False"),
        (lambda: CheckpointConfig(checkpoint_at_end=1), "CheckpointConfig.checkpoint_at_end must be True or False"),
        (lambda: CheckpointConfig(checkpoint_score_attribute=3), SCORE_NAME),
        (lambda: CheckpointConfig(checkpoint_score_attribute=""), SCORE_NAME),
    ],
)
def test_flags_and_names_of_the_config_classes_are_checked(make, message):
    """A TOML file's fail_fast = "no" was accepted and counted as true: every flag is a bool, every name a text."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()
