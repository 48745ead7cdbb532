"""update_optimizer(): a new config's optimizer settings applied in place, the optimizer's state kept."""

from __future__ import annotations

import math

import pytest
import torch

import tune_torch
from tests.torch.support import digest, net, train_steps


def test_sgd_settings_change_and_the_momentum_buffers_stay():
    model = net(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.0)
    train_steps(model, optimizer)
    state = digest(optimizer.state_dict()["state"])
    applied = tune_torch.update_optimizer(optimizer, {"lr": 0.02, "momentum": 0.5, "weight_decay": 1e-4, "width": 8})
    assert applied == {"lr": 0.02, "momentum": 0.5, "weight_decay": 1e-4}
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.02, 0.5, 1e-4)
    assert digest(optimizer.state_dict()["state"]) == state
    train_steps(model, optimizer)  # goes on with the new settings


def test_adam_betas_in_every_param_group_and_adams_moments_stay():
    model = net(0)
    optimizer = torch.optim.Adam(
        [{"params": model[0].parameters()}, {"params": model[3].parameters(), "lr": 0.5}], lr=0.01
    )
    train_steps(model, optimizer)
    state = digest(optimizer.state_dict()["state"])
    tune_torch.update_optimizer(optimizer, {"lr": 0.003, "betas": [0.8, 0.95]})
    assert [(g["lr"], g["betas"]) for g in optimizer.param_groups] == [(0.003, (0.8, 0.95))] * 2
    assert digest(optimizer.state_dict()["state"]) == state


def test_a_setting_the_optimizer_has_not_is_an_error():
    optimizer = torch.optim.Adam(net(0).parameters())
    with pytest.raises(ValueError, match="Adam has no 'momentum' setting"):
        tune_torch.update_optimizer(optimizer, {"momentum": 0.9})
    with pytest.raises(ValueError, match="betas must be a pair"):
        tune_torch.update_optimizer(optimizer, {"betas": 0.9})
    with pytest.raises(ValueError, match="lr must be a number"):
        tune_torch.update_optimizer(optimizer, {"lr": "fast"})


def test_other_config_keys_by_mapping():
    optimizer = torch.optim.SGD(net(0).parameters(), lr=0.1)
    assert tune_torch.update_optimizer(optimizer, {"learning_rate": 0.3, "lr": 9.0}, keys={"learning_rate": "lr"}) == {
        "lr": 0.3
    }
    assert optimizer.param_groups[0]["lr"] == 0.3


def test_a_scheduler_follows_the_new_rate():
    optimizer = torch.optim.SGD(net(0).parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    tune_torch.update_optimizer(optimizer, {"lr": 0.4}, scheduler=scheduler)
    # the schedule as if it had started from 0.4: one decay done, 0.2 now, then 0.1
    assert scheduler.base_lrs == [0.4] and optimizer.param_groups[0]["initial_lr"] == 0.4
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.2)
    assert scheduler.get_last_lr() == [pytest.approx(0.2)]
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_a_cosine_schedule_mid_way_is_scaled_not_restarted():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + math.cos(math.pi * 5 / 10)) / 2)
    tune_torch.update_optimizer(optimizer, {"lr": 0.2}, scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.2 * (1 + math.cos(math.pi * 5 / 10)) / 2)  # 0.1
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]
    for epoch in range(6, 10):
        optimizer.step()
        scheduler.step()
        # 0.2 (1 + cos(pi t / 10)) / 2: 0.0691 at t = 6, as if the schedule had started from 0.2
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.2 * (1 + math.cos(math.pi * epoch / 10)) / 2)


def test_a_sequential_schedule_is_scaled_in_each_of_its_parts():
    optimizer = torch.optim.SGD(net(0).parameters(), lr=0.1)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=2)
    decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[2])
    reference = torch.optim.SGD(net(0).parameters(), lr=0.3)
    reference_scheduler = torch.optim.lr_scheduler.SequentialLR(
        reference,
        [
            torch.optim.lr_scheduler.LinearLR(reference, start_factor=0.5, total_iters=2),
            torch.optim.lr_scheduler.ExponentialLR(reference, gamma=0.5),
        ],
        milestones=[2],
    )
    for step in range(5):
        if step == 1:
            tune_torch.update_optimizer(optimizer, {"lr": 0.3}, scheduler=scheduler)
        if step >= 1:  # from the update on: the schedule of an optimizer that started at 0.3
            assert optimizer.param_groups[0]["lr"] == pytest.approx(reference.param_groups[0]["lr"]), step
        for opt, sched in ((optimizer, scheduler), (reference, reference_scheduler)):
            opt.step()
            sched.step()


@pytest.mark.parametrize("kind", ["one_cycle", "cyclic"])
def test_cyclic_schedules_are_refused_and_nothing_changes(kind):
    optimizer = torch.optim.SGD(net(0).parameters(), lr=0.1, momentum=0.9)
    if kind == "one_cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    else:
        scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=2)
    optimizer.step()
    scheduler.step()
    before = [dict(group) for group in optimizer.param_groups]
    with pytest.raises(ValueError, match=r"(OneCycleLR|CyclicLR) .*max_lr"):
        tune_torch.update_optimizer(optimizer, {"lr": 0.5, "momentum": 0.5}, scheduler=scheduler)
    assert [dict(group) for group in optimizer.param_groups] == before
    tune_torch.update_optimizer(optimizer, {"weight_decay": 1e-4}, scheduler=scheduler)  # no lr: allowed


def test_a_tensor_learning_rate_is_updated_in_place():
    optimizer = torch.optim.Adam(net(0).parameters(), lr=torch.tensor(0.01))
    tensor = optimizer.param_groups[0]["lr"]
    tune_torch.update_optimizer(optimizer, {"lr": 0.002})
    assert optimizer.param_groups[0]["lr"] is tensor and tensor.item() == pytest.approx(0.002)
