"""seed_everything(): one seed for python, numpy, torch and the DataLoader; the trial's seed by default."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

import tune_torch
import tunecore
from tests.torch.support import trial_session


@pytest.fixture(autouse=True)
def nondeterministic_again(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    yield
    tune_torch.seed_everything(0)  # undoes deterministic=True
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(2).tolist()


def test_one_seed_gives_the_same_draws_everywhere():
    first = tune_torch.seed_everything(7)
    a = draws(), torch.rand(2, generator=first.generator).tolist()
    second = tune_torch.seed_everything(7)
    assert (draws(), torch.rand(2, generator=second.generator).tolist()) == a
    tune_torch.seed_everything(8)
    assert draws() != a[0]
    assert first.seed == 7 and first.loader_kwargs == {
        "generator": first.generator,
        "worker_init_fn": first.worker_init_fn,
    }


def test_the_trials_seed_by_default_and_a_random_one_outside_trials():
    with trial_session():
        assert tune_torch.seed_everything().seed == tunecore.get_context().seed == 1234
    seeds = {tune_torch.seed_everything().seed for _ in range(3)}
    assert len(seeds) == 3 and all(0 <= seed < 2**32 for seed in seeds)


def test_each_trial_of_an_experiment_gets_its_own_reproducible_seed(tmp_path):
    def train(config):
        seeding = tune_torch.seed_everything()
        return {"seed": seeding.seed, "context": tunecore.get_context().seed, "draw": torch.rand(()).item()}

    def run(name):
        return tunecore.Tuner(
            train,
            tune_config=tunecore.TuneConfig(num_samples=3, seed=5, executor="inline"),
            run_config=tunecore.RunConfig(name=name, storage_path=str(tmp_path), verbose=0, loggers=[]),
        ).fit()

    first, second = run("a"), run("b")
    assert [r.metrics["seed"] for r in first] == [r.metrics["context"] for r in first]
    assert len({r.metrics["seed"] for r in first}) == 3
    assert [r.metrics["draw"] for r in first] == [r.metrics["draw"] for r in second]


def test_deterministic_turns_on_torchs_deterministic_algorithms_and_cublas_workspace():
    assert not torch.are_deterministic_algorithms_enabled()
    seeding = tune_torch.seed_everything(1, deterministic=True)
    assert seeding.deterministic and torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_a_cublas_workspace_already_set_is_kept(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    tune_torch.seed_everything(1, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "3"])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        tune_torch.seed_everything(seed)


class Noisy(Dataset):
    """Items drawn from numpy's and python's global RNG: what a worker's seeding decides."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> tuple[float, float]:
        return float(np.random.rand()), random.random()


def test_loader_workers_are_seeded_from_the_generator():
    def epoch(seed):
        seeding = tune_torch.seed_everything(seed)
        loader = DataLoader(Noisy(), batch_size=2, num_workers=2, **seeding.loader_kwargs)
        return [tuple(map(tuple, (a.tolist(), b.tolist()))) for a, b in loader]

    first = epoch(3)
    assert epoch(3) == first
    assert epoch(4) != first
    assert first[0] != first[1]  # the two workers draw different values


def test_deterministic_false_undoes_an_earlier_trials_deterministic_true(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)  # the user's own setting, before any trial
    tune_torch.seed_everything(1, deterministic=True)  # a trial in this (reused) worker process
    tune_torch.seed_everything(1, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.benchmark
    seeding = tune_torch.seed_everything(2, deterministic=False)  # the next trial in the same process
    assert not seeding.deterministic and not torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.deterministic and torch.backends.cudnn.benchmark  # as they were before
    torch.use_deterministic_algorithms(True, warn_only=True)  # the user's own choice is left alone
    tune_torch.seed_everything(3)
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
