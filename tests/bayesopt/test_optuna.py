"""What only the optuna searcher does: samplers and their options, several metrics, pruned trials."""

from __future__ import annotations

import importlib.util

import pytest

import tunecore
from tests.bayesopt.helpers import SPACE, check_config, drive, key
from tune_bayesopt import OptunaSearcher

SMALL = {"x": tunecore.uniform(0, 1), "n": tunecore.randint(0, 5), "act": tunecore.choice(["a", "b"])}


@pytest.mark.parametrize("sampler", ["tpe", "cmaes", "qmc", "random", "nsga2", "gp"])
def test_every_sampler_suggests_inside_the_space(sampler):
    if sampler == "gp" and importlib.util.find_spec("torch") is None:
        with pytest.raises(tunecore.ConfigError, match=r"sampler 'gp' needs torch: pip install 'tune-bayesopt\[gp\]'"):
            OptunaSearcher(sampler="gp").setup(SMALL, "loss", "min", 0, -1)
        return
    options = {"n_startup_trials": 2} if sampler in ("tpe", "gp", "cmaes") else {}
    if sampler == "nsga2":
        options = {"population_size": 4}
    searcher = OptunaSearcher(sampler=sampler, sampler_options=options)
    searcher.setup(SMALL, "loss", "min", 0, -1)
    assert (
        type(searcher.study.sampler).__name__
        == {
            "tpe": "TPESampler",
            "cmaes": "CmaEsSampler",
            "qmc": "QMCSampler",
            "random": "RandomSampler",
            "nsga2": "NSGAIISampler",
            "gp": "GPSampler",
        }[sampler]
    )
    configs = drive(searcher, 6, value=lambda c: (c["x"] - 0.3) ** 2 + c["n"])
    pending = [searcher.suggest(f"p{i}") for i in range(3)]
    for config in configs + pending:
        check_config(config, SMALL)
    assert len({key(c) for c in pending}) == 3


def test_sampler_options_pass_through():
    searcher = OptunaSearcher(sampler_options={"n_startup_trials": 4, "multivariate": True})
    searcher.setup(SMALL, "loss", "min", 0, -1)
    sampler = searcher.study.sampler
    assert (sampler._n_startup_trials, sampler._multivariate, sampler._constant_liar) == (4, True, True)
    searcher = OptunaSearcher(sampler_options={"constant_liar": False})
    searcher.setup(SMALL, "loss", "min", 0, -1)
    assert searcher.study.sampler._constant_liar is False
    with pytest.raises(tunecore.ConfigError, match=r"sampler_options .*'no_such_option'"):
        OptunaSearcher(sampler_options={"no_such_option": 1}).setup(SMALL, "loss", "min", 0, -1)


def test_bad_sampler_options():
    message = r"unknown sampler 'tpf': use one of tpe, gp, cmaes, qmc, random, nsga2\. Did you mean 'tpe'\?"
    with pytest.raises(ValueError, match=message):
        OptunaSearcher(sampler="tpf")
    with pytest.raises(ValueError, match="give the seed as the searcher's option seed"):
        OptunaSearcher(sampler_options={"seed": 1})
    with pytest.raises(ValueError, match="sampler_options must be a dict"):
        OptunaSearcher(sampler_options=[1])


def test_several_metrics():
    searcher = OptunaSearcher(
        sampler="nsga2",
        sampler_options={"population_size": 4},
        points_to_evaluate=[{"x": 0.5, "n": 1, "act": "a"}],
        evaluated_rewards=[[1.0, 2.0]],
    )
    searcher.setup(SMALL, ["loss", "acc"], ["min", "max"], 0, -1)
    assert [d.name for d in searcher.study.directions] == ["MINIMIZE", "MAXIMIZE"]
    for index in range(6):
        config = searcher.suggest(f"t{index}")
        searcher.on_trial_result(f"t{index}", {"loss": 1.0, "acc": 0.0, "training_iteration": 1})
        searcher.on_trial_complete(f"t{index}", {"loss": config["x"], "acc": config["n"], "done": True})
    trials = searcher.study.trials
    assert [t.values for t in trials][:2] == [[1.0, 2.0], [trials[1].params["x"], trials[1].params["n"]]]
    assert {t.state.name for t in trials} == {"COMPLETE"}
    assert len(searcher.study.best_trials) >= 1
    with pytest.raises(tunecore.ConfigError, match="sampler 'cmaes' optimises a single metric"):
        OptunaSearcher(sampler="cmaes").setup(SMALL, ["loss", "acc"], ["min", "max"], 0, -1)


def test_stopped_trials_are_complete_or_pruned():
    def run(prune_stopped):
        searcher = OptunaSearcher(prune_stopped=prune_stopped, seed=0)
        searcher.setup(SMALL, "loss", "min", None, -1)
        # a: ran to its end; b: stopped early at step 2; c: stopped at step 3, the furthest (ASHA's max_t)
        for trial_id, steps, done in (("a", (1, 2, 3), False), ("b", (1, 2, 2), True), ("c", (1, 2), True)):
            searcher.suggest(trial_id)
            for step in steps:  # b reports step 2 twice (after a rollback): reported to Optuna once
                searcher.on_trial_result(trial_id, {"loss": 1.0 / step, "training_iteration": step})
            last = {"loss": 0.25, "training_iteration": len(set(steps)) + (trial_id == "c"), "done": done}
            searcher.on_trial_complete(trial_id, last)  # c's last result came with a stopper's STOP
        return [(t.state.name, t.intermediate_values) for t in searcher.study.trials]

    assert run(prune_stopped=True) == [
        ("COMPLETE", {1: 1.0, 2: 0.5, 3: 1 / 3}),
        ("PRUNED", {1: 1.0, 2: 0.5}),
        ("COMPLETE", {1: 1.0, 2: 0.5, 3: 0.25}),
    ]
    assert run(prune_stopped=False) == [("COMPLETE", {})] * 3


def test_partial_points_are_completed_by_the_sampler():
    searcher = OptunaSearcher(points_to_evaluate=[{"opt": {"lr": 0.001}}, {"x": 2.5, "act": None}])
    searcher.setup(SPACE, "loss", "min", 0, -1)
    first, second = searcher.suggest("a"), searcher.suggest("b")
    assert first["opt"]["lr"] == 0.001 and (second["x"], second["act"]) == (2.5, None)
    check_config(first)
    check_config(second)
    assert searcher.study.trials[1].params["act"] == 2  # the index of None among the categories


def test_optuna_logs_nothing_per_trial(caplog):
    import logging

    import optuna

    caplog.set_level(logging.INFO, logger="optuna")
    searcher = OptunaSearcher()
    searcher.setup(SMALL, "loss", "min", 0, -1)
    drive(searcher, 2, value=lambda c: c["x"])
    assert not [r for r in caplog.records if r.levelno < logging.WARNING]
    assert optuna.logging.get_verbosity() == optuna.logging.INFO  # the user's setting is left as it was


# --- issue 12, item 5: several objectives resolved by tunecore.options.check_objectives ----------------------


def test_its_own_metrics_take_their_modes_from_the_experiment():
    searcher = OptunaSearcher(metric="acc")
    searcher.setup(SMALL, ["loss", "acc"], ["min", "max"], 0, -1)
    assert (searcher.metrics, searcher.modes) == (["acc"], ["max"])
    assert [d.name for d in searcher.study.directions] == ["MAXIMIZE"]
    searcher = OptunaSearcher(metric=["acc", "loss"])
    searcher.setup(SMALL, ["loss", "acc"], ["min", "max"], 0, -1)
    assert (searcher.metrics, searcher.modes) == (["acc", "loss"], ["max", "min"])


def test_metric_and_mode_lists_are_checked_when_built_and_must_pair_up():
    with pytest.raises(ValueError, match=r"metric must be a result field name or a non-empty list of them, got \[\]"):
        OptunaSearcher(metric=[])
    with pytest.raises(ValueError, match=r"mode must be \"min\", \"max\" or a list of them, got \['min', 'best'\]"):
        OptunaSearcher(mode=["min", "best"])
    with pytest.raises(ValueError, match=r"the optuna searcher needs one mode per metric, got \['loss', 'acc'\] and"):
        OptunaSearcher(metric=["loss", "acc"], mode=["min"]).setup(SMALL, None, None, 0, -1)


def test_prune_stopped_must_be_true_or_false():
    with pytest.raises(ValueError, match="prune_stopped must be true or false, got 'yes'"):
        OptunaSearcher(prune_stopped="yes")


@pytest.mark.parametrize("given", ["nsga2", "instance"])
def test_a_genetic_samplers_study_pickles_and_its_instance_copies(given):
    """Optuna 5.1's NSGA-II sampler holds a threading.Lock: snapshots failed ("cannot pickle '_thread.lock'")
    and a sampler instance could not be copied at setup."""
    import pickle

    import optuna

    sampler = "nsga2" if given == "nsga2" else optuna.samplers.NSGAIISampler(seed=0)
    searcher = OptunaSearcher(sampler=sampler)
    searcher.setup({"x": tunecore.uniform(0, 1)}, ["loss", "cost"], ["min", "min"], 0 if given == "nsga2" else None, 6)
    config = searcher.suggest("t1")
    searcher.on_trial_complete("t1", {"loss": config["x"], "cost": 1 - config["x"]})
    restored = OptunaSearcher(sampler=sampler)
    restored.setup({"x": tunecore.uniform(0, 1)}, ["loss", "cost"], ["min", "min"], 0 if given == "nsga2" else None, 6)
    restored.restore(pickle.loads(pickle.dumps(searcher.save())))
    assert restored.suggest("t2") == searcher.suggest("t2")
