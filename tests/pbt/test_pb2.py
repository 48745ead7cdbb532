"""PB2 (`pb2`): new hyperparameters come from a time-varying GP-UCB bandit and stay inside their bounds."""

from __future__ import annotations

import numpy as np
import pytest

import tunecore
from tests.pbt.support import SEED, policy, run_toy
from tune_pbt import PB2

BOUNDS = {"lr": [1e-4, 1.5e-2]}


def test_proposals_stay_within_bounds_through_the_tuner(tmp_path):
    options = {"time_attr": "training_iteration", "perturbation_interval": 4, "synch": True, "seed": SEED}
    grid = run_toy(tmp_path, "pb2", {**options, "hyperparam_bounds": BOUNDS}, steps=48, seed=SEED)
    exploits = policy(grid.experiment_path, "pb2_global.jsonl")
    assert len(exploits) == 48 // 4 - 1
    assert {line["operations"]["lr"] for line in exploits} == {"random", "gp-ucb"}  # the GP once data is there
    assert all(1e-4 <= line["new_config"]["lr"] <= 1.5e-2 for line in exploits)
    assert all(1e-4 <= m["lr"] <= 1.5e-2 for result in grid for m in result.metrics_history)
    assert [r.metrics["training_iteration"] for r in grid] == [48] * 4 and grid.num_errors == 0


def fed(scheduler: PB2, rng: np.random.Generator, members: int = 6, points: int = 5) -> PB2:
    """Feed random progress of ``members`` trials over ``points`` perturbation points to ``scheduler``."""
    scheduler.setup("score", "max")
    for m in range(members):
        trial = tunecore.Trial(trial_id=f"t{m}", config={"lr": float(rng.uniform(0, 1)), "layers": 3, "x": "a"})
        scheduler.on_trial_add(trial)
        member = scheduler.members[trial.trial_id]
        for point in range(1, points + 1):
            member.time, member.score = float(point), float(rng.normal(point, 1))
            scheduler.observe(trial.trial_id, member)
    return scheduler


@pytest.mark.parametrize("seed", range(5))
def test_gp_proposals_stay_within_bounds_and_types(seed):
    rng = np.random.default_rng(seed)
    bounds = {"lr": [0.2, 0.4], "layers": [1, 6]}
    scheduler = fed(PB2(hyperparam_bounds=bounds, seed=seed), rng)
    assert len(scheduler.observations) == 6 * 4
    proposals = [scheduler.new_config("t0", "t1") for _ in range(6)]
    for config, operations in proposals:
        assert 0.2 <= config["lr"] <= 0.4 and isinstance(config["layers"], int) and 1 <= config["layers"] <= 6
        assert config["x"] == "a" and operations == {"lr": "gp-ucb", "layers": "gp-ucb"}
    assert len({config["lr"] for config, _ in proposals}) > 1  # a batch spreads out


def test_without_data_values_are_drawn_uniformly_within_bounds():
    scheduler = PB2(hyperparam_bounds={"net": {"lr": [0.2, 0.4]}}, seed=0)
    scheduler.setup("score", "max")
    scheduler.on_trial_add(tunecore.Trial(trial_id="t0", config={"net": {"lr": 0.3}}))
    configs = [scheduler.new_config("t1", "t0") for _ in range(50)]
    assert all(0.2 <= c["net"]["lr"] <= 0.4 and ops == {"net/lr": "random"} for c, ops in configs)


def test_the_kernel_gradient_matches_finite_differences():
    from tune_pbt.gp import TimeVaryingKernel

    X = np.random.default_rng(0).random((5, 3))
    kernel = TimeVaryingKernel(length_scale=0.7, epsilon=0.2)
    K, gradient = kernel(X, eval_gradient=True)
    assert np.allclose(np.diag(K), 1) and np.allclose(K, K.T)
    for index, theta in enumerate(kernel.theta):  # theta is in log space, ordered by name (epsilon first)
        shifted = kernel.clone_with_theta(np.where(np.arange(2) == index, theta + 1e-6, kernel.theta))
        assert np.allclose((shifted(X) - K) / 1e-6, gradient[:, :, index], atol=1e-4)


def test_state_saves_and_restores():
    scheduler = fed(PB2(hyperparam_bounds={"lr": [0, 1]}, seed=1), np.random.default_rng(1))
    copy = PB2(hyperparam_bounds={"lr": [0, 1]})
    copy.restore(scheduler.save())
    assert copy.observations == scheduler.observations
    assert copy.new_config("t0", "t1") == scheduler.new_config("t0", "t1")
