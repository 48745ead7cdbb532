"""PBT's hand-over: at an exploit the member restores the donor's model and optimizer exactly (state_dict
checksums) and then runs with the new config's learning rate (update_optimizer), the optimizer's state kept."""

from __future__ import annotations

import os

import torch

import tune_torch
import tunecore
from tests.torch.support import digest, net, train_steps

STEPS = 6
starts: list[dict] = []
"""What each launch of a member found after restoring (the inline executor runs them in this process)."""


def train(config: dict) -> None:
    tune_torch.seed_everything()
    model = net(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    state = tune_torch.restore(model=model, optimizer=optimizer)
    context = tunecore.get_context()
    if state:
        checkpoint = tunecore.get_checkpoint()
        assert checkpoint is not None
        restored = {"model": digest(model.state_dict()), "optimizer": digest(optimizer.state_dict()["state"])}
        saved_lr = optimizer.param_groups[0]["lr"]
        tune_torch.update_optimizer(optimizer, config)
        starts.append(
            {
                "trial": context.trial_id,
                "donor_dir": os.path.dirname(checkpoint.path),
                "own_dir": context.trial_dir,
                "restored": restored,
                "saved": state["extra"],
                "saved_lr": saved_lr,
                "lr": optimizer.param_groups[0]["lr"],
                "config_lr": config["lr"],
                "state_after_update": digest(optimizer.state_dict()["state"]),
            }
        )
    for step in range(state.get("epoch", 0), STEPS):
        loss = train_steps(model, optimizer, steps=2)
        checksums = {"model": digest(model.state_dict()), "optimizer": digest(optimizer.state_dict()["state"])}
        tunecore.report(
            {"score": -loss - step * config["lr"]},
            checkpoint=tune_torch.checkpoint(model=model, optimizer=optimizer, epoch=step + 1, extra=checksums),
        )


def test_an_exploited_member_continues_from_the_donors_exact_state_with_its_new_lr(tmp_path):
    starts.clear()
    scheduler = {
        "name": "pbt",
        "time_attr": "training_iteration",
        "perturbation_interval": 2,
        "hyperparam_mutations": {"lr": {"loguniform": [1e-4, 1e-1]}},
        "synch": True,
        "seed": 0,
    }
    grid = tunecore.Tuner(
        train,
        param_space={"lr": tunecore.loguniform(1e-3, 1e-2)},
        tune_config=tunecore.TuneConfig(
            metric="score", mode="max", num_samples=4, seed=0, scheduler=scheduler, executor="inline"
        ),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[]),
    ).fit()
    assert grid.num_errors == 0, [r.error for r in grid]
    exploits = [start for start in starts if start["donor_dir"] != start["own_dir"]]
    assert exploits, f"no exploit happened: {starts}"
    for start in exploits:
        assert start["restored"] == start["saved"], start["trial"]  # the donor's state, as the donor had it
        assert start["lr"] == start["config_lr"], start["trial"]  # the new config's learning rate ...
        assert start["saved_lr"] != start["config_lr"]  # ... not the donor's
        assert start["state_after_update"] == start["saved"]["optimizer"]  # Adam's moments kept
