"""Experiment events reach installed plugins and per-experiment observers through the typed facade."""

from __future__ import annotations

import warnings

import tunecore
from tunecore.experiment import ExperimentInfo
from tunecore.plugins import load_plugins
from tunecore.trial import Trial, TrialStatus


def test_event_hooks_reach_installed_plugins_and_observers_in_order(with_fixture_plugins, plain_env):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugins = load_plugins(plain_env)
    from tune_fixture_good import plugin as good

    good.EVENTS.clear()
    observed: list[tuple] = []

    class Observer(tunecore.Logger):
        def tunecore_trial_result(self, result):  # a subset of the arguments is fine
            observed.append(("result", result["loss"]))

        def tunecore_trial_finished(self, trial, status):
            observed.append(("finished", trial.trial_id, status))

    events = plugins.events
    observer = Observer()
    events.observe(observer)
    experiment = ExperimentInfo(name="exp", path="/tmp/exp", metric="loss", mode="min")
    trial = Trial(trial_id="t0001", config={"x": 1}, status=TrialStatus.RUNNING)
    events.experiment_started(experiment)
    events.trial_started(experiment, trial)
    events.trial_result(experiment, trial, {"loss": 0.5})
    events.trial_checkpoint(experiment, trial, "ckpt")
    events.trial_paused(experiment, trial)
    events.trial_restarted(experiment, trial, {"x": 1}, {"x": 2}, "donor-ckpt")
    events.trial_retried(experiment, trial, "Traceback ...", 2)
    events.trial_finished(experiment, trial, "TERMINATED", None)
    events.experiment_finished(experiment, [trial])
    events.forget(observer)
    events.trial_result(experiment, trial, {"loss": 0.25})

    assert good.EVENTS == [
        ("experiment_started", "exp"),
        ("trial_started", "t0001"),
        ("trial_result", "t0001", {"loss": 0.5}),
        ("trial_checkpoint", "t0001", "ckpt"),
        ("trial_paused", "t0001"),
        ("trial_restarted", "t0001", {"x": 1}, {"x": 2}, "donor-ckpt"),
        ("trial_retried", "t0001", "Traceback ...", 2),
        ("trial_finished", "t0001", "TERMINATED", None),
        ("experiment_finished", "exp", ["t0001"]),
        ("trial_result", "t0001", {"loss": 0.25}),
    ]
    assert observed == [("result", 0.5), ("finished", "t0001", "TERMINATED")]


def test_registered_logger_instances_observe_events(with_fixture_plugins, plain_env):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugins = load_plugins(plain_env)
    logger = plugins.create("logger", "list")
    plugins.events.observe(logger)
    trial = Trial(trial_id="t1", config={})
    plugins.events.trial_result(ExperimentInfo("e", "/tmp/e", None, None), trial, {"v": 1})
    assert logger.events == [("result", "t1", {"v": 1})]
