"""One scoring rule (tunecore.best.score) for every first-party component that ranks trials."""

from __future__ import annotations

import math

import pytest

import tunecore
from tunecore.best import score

ODD = [float("nan"), float("inf"), float("-inf"), None, "1.5", True, "n/a"]


def test_the_rule_in_the_plugin_docs():
    assert score(0.25, "min") == -0.25 and score(0.25, "max") == 0.25
    assert score(float("nan"), "max") == score("n/a", "min") == -math.inf


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("mode", ["min", "max"])
def test_every_odd_value_scores_worst(value, mode):
    assert score(value, mode) == -math.inf


@pytest.mark.parametrize("value", [*ODD, 0.5, -2, 3])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_asha_pbt_and_evolution_score_alike(value, mode):
    """ASHA used to raise on a non-number, PBT and evolution to read "1.5" and True as numbers."""
    AsyncHyperBandScheduler = pytest.importorskip("tune_asha.asha").AsyncHyperBandScheduler
    EvolutionSearcher = pytest.importorskip("tune_evolution").EvolutionSearcher

    asha = AsyncHyperBandScheduler(metric="loss", mode=mode)
    asha.setup(None, None)
    evolution = EvolutionSearcher(metric="loss", mode=mode)
    evolution.setup({"x": tunecore.uniform(0, 1)}, None, None, 0)
    expected = score(value, mode)
    assert asha.score("t1", {"loss": value, "training_iteration": 1}) == expected
    assert -evolution.score({"loss": value}) == expected


def test_asha_ranks_an_ended_trials_odd_final_value_like_any_other():
    """An ended trial's last result counts at its rung whatever its metric holds (it scores worst)."""
    AsyncHyperBandScheduler = pytest.importorskip("tune_asha.asha").AsyncHyperBandScheduler
    asha = AsyncHyperBandScheduler(metric="loss", mode="min")
    asha.setup(None, None)
    for value in (float("nan"), None, "n/a", 0.5):
        assert asha.can_rank({"loss": value, "training_iteration": 1})
    assert not asha.can_rank({"training_iteration": 1}) and not asha.can_rank({"loss": 0.5})


def test_an_observation_is_every_metric_as_a_finite_float_or_none():
    """What a model-based searcher (and the Pareto front) is told: the same rule as score()."""
    np = pytest.importorskip("numpy")
    from tunecore.best import observation

    assert observation({"loss": np.float32(0.5), "acc": 2}, ["loss", "acc"]) == [0.5, 2.0]
    for value in ODD:
        assert observation({"loss": 0.5, "acc": value}, ["loss", "acc"]) is None
        assert (observation({"acc": value}, ["acc"]) is None) == (score(value, "max") == -math.inf)
    assert observation(None, ["loss"]) is None and observation({}, ["loss"]) is None
