"""device() / devices(): the trial's GPUs as its executor made them visible, else MPS, else the CPU.

There is no GPU here: torch.cuda's answers are replaced by what a CUDA machine gives for a given
``CUDA_VISIBLE_DEVICES`` (torch renumbers the visible devices from 0); the choice made from them is real.
"""

from __future__ import annotations

import pytest
import torch

import tune_torch
from tests.torch.support import trial_session


@pytest.fixture
def cuda_machine(monkeypatch):
    """A machine with 4 GPUs: torch sees those CUDA_VISIBLE_DEVICES lists (all 4 when it is unset)."""

    def device_count() -> int:
        import os

        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is None:
            return 4
        return len([part for part in visible.split(",") if part.strip()])

    monkeypatch.setattr(torch.cuda, "is_available", lambda: device_count() > 0)
    monkeypatch.setattr(torch.cuda, "device_count", device_count)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    return monkeypatch


def test_a_trial_given_one_gpu_uses_the_device_its_executor_made_visible(cuda_machine):
    cuda_machine.setenv("CUDA_VISIBLE_DEVICES", "2")
    with trial_session({"cpu": 1, "gpu": 1}):
        assert tune_torch.device() == torch.device("cuda", 0)
        assert tune_torch.devices() == [torch.device("cuda", 0)]


def test_trials_sharing_a_gpu_both_use_it(cuda_machine):
    cuda_machine.setenv("CUDA_VISIBLE_DEVICES", "3")
    with trial_session({"cpu": 1, "gpu": 0.5}):
        assert tune_torch.devices() == [torch.device("cuda", 0)]


def test_a_trial_given_two_gpus_gets_both(cuda_machine):
    cuda_machine.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    with trial_session({"cpu": 1, "gpu": 2}):
        assert tune_torch.devices() == [torch.device("cuda", 0), torch.device("cuda", 1)]
        assert tune_torch.device() == torch.device("cuda", 0)


def test_a_trial_that_asked_for_no_gpu_never_takes_one(cuda_machine):
    cuda_machine.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with trial_session({"cpu": 1}):
        assert tune_torch.devices() == [torch.device("cpu")]


def test_outside_a_trial_every_visible_gpu(cuda_machine):
    cuda_machine.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert len(tune_torch.devices()) == 4
    cuda_machine.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert tune_torch.devices() == [torch.device("cuda", 0), torch.device("cuda", 1)]


def test_mps_when_there_is_no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert tune_torch.device() == torch.device("mps")
    with trial_session({"cpu": 1}):
        assert tune_torch.device() == torch.device("mps")


def test_the_cpu_here(monkeypatch):
    """This machine as it is: CPU-only torch, no MPS."""
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert tune_torch.devices() == [torch.device("cpu")]
    with trial_session({"cpu": 1}):
        assert tune_torch.device() == torch.device("cpu")


def test_a_trial_that_asked_for_a_gpu_torch_cannot_see_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with trial_session({"cpu": 1, "gpu": 1}), pytest.raises(RuntimeError, match="asked for 1 GPU"):
        tune_torch.device()
