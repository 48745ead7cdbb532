"""checkpoint() and restore(): round trips of model, optimizer, scheduler, scaler, epoch, extra and RNG."""

from __future__ import annotations

import os
import random
import tempfile
import warnings

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, TensorDataset

import tune_torch
import tunecore
from tests.torch.support import digest, net, train_steps, trial_session
from tune_torch import rng
from tune_torch import state as state_module
from tune_torch.state import STATE_FILE

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def adam_after_steps(seed: int = 0) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = net(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_steps(model, optimizer)
    return model, optimizer


def draws(seeding: tune_torch.Seeding | None = None) -> tuple:
    """One draw of every RNG (the DataLoader generator's too, when given)."""
    generator = () if seeding is None else (torch.randint(0, 2**31, (3,), generator=seeding.generator).tolist(),)
    return (random.random(), np.random.rand(), np.random.randn(), torch.rand(3).tolist(), *generator)


def test_model_optimizer_scheduler_epoch_and_extra_round_trip():
    model, optimizer = adam_after_steps()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    optimizer.step()
    scheduler.step()
    extra = {"best": 0.25, "history": [1, 2, 3], "table": torch.arange(3), "name": "x"}
    saved = tune_torch.checkpoint(model=model, optimizer=optimizer, scheduler=scheduler, epoch=7, extra=extra)
    other = net(1)
    other_optimizer = torch.optim.Adam(other.parameters(), lr=0.5)
    other_scheduler = torch.optim.lr_scheduler.StepLR(other_optimizer, step_size=2, gamma=0.5)
    rest = tune_torch.restore(model=other, optimizer=other_optimizer, scheduler=other_scheduler, checkpoint=saved)
    assert rest.keys() == {"epoch", "extra"} and rest["epoch"] == 7
    assert digest(rest["extra"]) == digest(extra)
    assert digest(other.state_dict()) == digest(model.state_dict())
    assert digest(other_optimizer.state_dict()) == digest(optimizer.state_dict())
    assert other_scheduler.state_dict() == scheduler.state_dict()


def test_the_file_loads_with_weights_only_and_is_written_atomically():
    model, optimizer = adam_after_steps()
    tune_torch.seed_everything(5)
    saved = tune_torch.checkpoint(model=model, optimizer=optimizer, scaler=torch.amp.GradScaler("cpu"), epoch=1)
    assert sorted(os.listdir(saved.path)) == [STATE_FILE]  # no staging file left
    state = torch.load(os.path.join(saved.path, STATE_FILE), weights_only=True)  # numpy state as tensors
    assert set(state) >= {"model", "optimizer", "scaler", "epoch", "rng"}
    assert set(state["rng"]) >= {"python", "numpy", "torch", "generator"}


def test_extra_that_weights_only_cannot_read_is_refused_when_saving():
    with pytest.raises(TypeError, match=r"extra\['mean'\] is a numpy.ndarray"):
        tune_torch.checkpoint(extra={"mean": np.zeros(3)})
    with pytest.raises(TypeError, match=r"extra\['f'\]"):
        tune_torch.checkpoint(extra={"f": print})


@pytest.fixture
def process_group(tmp_path):
    """A one-process gloo group, as DDP needs."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_ddp_wrapped_modules_save_and_load_the_plain_keys(process_group):
    plain = net(0)
    wrapped = torch.nn.parallel.DistributedDataParallel(net(0))
    assert all(key.startswith("module.") for key in wrapped.state_dict())
    saved = tune_torch.checkpoint(model=wrapped)
    assert tune_torch.load(saved)["model"].keys() == plain.state_dict().keys()
    target = torch.nn.parallel.DistributedDataParallel(net(3))
    tune_torch.restore(model=target, checkpoint=saved, rng=False)
    assert digest(target.module.state_dict()) == digest(plain.state_dict())
    into_plain = net(4)
    tune_torch.restore(model=into_plain, checkpoint=saved, rng=False)
    assert digest(into_plain.state_dict()) == digest(plain.state_dict())


def test_compiled_and_data_parallel_modules_save_and_load_the_plain_keys():
    plain = net(0)
    compiled = torch.compile(net(0))  # not called: nothing is compiled, but state_dict keys get "_orig_mod."
    assert all(key.startswith("_orig_mod.") for key in compiled.state_dict())
    parallel = torch.nn.DataParallel(torch.compile(net(0)))
    for wrapped in (compiled, parallel):
        assert tune_torch.unwrap(wrapped) is not wrapped
        saved = tune_torch.checkpoint(model=wrapped, rng=False)
        assert tune_torch.load(saved)["model"].keys() == plain.state_dict().keys()
        target = torch.compile(net(5))
        tune_torch.restore(model=target, checkpoint=saved)
        assert digest(tune_torch.unwrap(target).state_dict()) == digest(plain.state_dict())


def test_grad_scaler_state_round_trips():
    model = net(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=1)
    for step in range(3):
        loss = model(torch.randn(4, 4)).sum()
        scaler.scale(loss * (float("inf") if step == 1 else 1.0)).backward()  # one overflow: the scale halves
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
    assert scaler.get_scale() != 2.0**10
    saved = tune_torch.checkpoint(model=model, optimizer=optimizer, scaler=scaler)
    fresh = torch.amp.GradScaler("cpu")
    tune_torch.restore(scaler=fresh, checkpoint=saved)
    assert fresh.state_dict() == scaler.state_dict()
    disabled = torch.amp.GradScaler("cpu", enabled=False)  # saves {}; loading it is not an error
    tune_torch.restore(
        scaler=torch.amp.GradScaler("cpu", enabled=False), checkpoint=tune_torch.checkpoint(scaler=disabled)
    )


def test_every_rng_continues_where_it_was_saved():
    seeding = tune_torch.seed_everything(11)
    draws(seeding)
    saved = tune_torch.checkpoint()
    expected = draws(seeding)
    again = tune_torch.seed_everything(99)  # a new trial process: seeded afresh, then restored
    tune_torch.restore(checkpoint=saved)
    assert draws(again) == expected
    tune_torch.seed_everything(99)
    tune_torch.restore(checkpoint=saved, rng=False)  # without the RNG states, the draws differ
    assert draws() != expected[:4]


def test_the_data_order_continues_exactly():
    dataset = TensorDataset(torch.arange(64))
    seeding = tune_torch.seed_everything(3)
    loader = DataLoader(dataset, batch_size=8, shuffle=True, **seeding.loader_kwargs)
    [batch for batch in loader]  # epoch 1
    saved = tune_torch.checkpoint()
    expected = [[batch[0].tolist() for batch in loader] for _ in range(2)]  # epochs 2 and 3
    resumed = tune_torch.seed_everything(3)
    loader = DataLoader(dataset, batch_size=8, shuffle=True, **resumed.loader_kwargs)
    tune_torch.restore(checkpoint=saved)
    assert [[batch[0].tolist() for batch in loader] for _ in range(2)] == expected
    fresh = tune_torch.seed_everything(3)  # not restored: epoch 1's order again
    loader = DataLoader(dataset, batch_size=8, shuffle=True, **fresh.loader_kwargs)
    assert [batch[0].tolist() for batch in loader] != expected[0]


def test_cuda_states_are_restored_only_for_as_many_devices(monkeypatch):
    state = rng.capture()
    state["cuda"] = [torch.get_rng_state(), torch.get_rng_state()]  # saved on a machine with 2 GPUs
    with pytest.warns(UserWarning, match="2 CUDA devices but this process sees 0"):
        rng.restore(state)
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.extend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rng.restore(state)
    assert [torch.equal(a, b) for a, b in zip(restored, state["cuda"], strict=True)] == [True, True]


def test_a_generator_without_seed_everything_is_not_restored_silently():
    tune_torch.seed_everything(1)
    saved = tune_torch.checkpoint()
    with trial_session(), pytest.warns(UserWarning, match="seed_everything"):  # another trial: no seeding yet
        tune_torch.restore(checkpoint=saved)


def test_no_checkpoint_gives_an_empty_dict_and_a_reported_one_is_found(tmp_path):
    seen = []

    def train(config):
        model = net(0)
        seen.append(tune_torch.restore(model=model))
        tunecore.report({"x": 1}, checkpoint=tune_torch.checkpoint(model=model, epoch=1))
        seen.append(tune_torch.restore(model=model))

    grid = tunecore.Tuner(
        train,
        tune_config=tunecore.TuneConfig(executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0, loggers=[]),
    ).fit()
    assert grid.num_errors == 0, grid[0].error
    assert seen == [{}, {"epoch": 1}]
    assert sorted(os.listdir(grid[0].checkpoint.path)) == [STATE_FILE]


def test_restoring_what_was_not_saved_is_an_error(tmp_path):
    saved = tune_torch.checkpoint(model=net(0))
    with pytest.raises(ValueError, match="no optimizer state"):
        tune_torch.restore(model=net(0), optimizer=torch.optim.SGD(net(0).parameters(), lr=0.1), checkpoint=saved)
    assert "model" in tune_torch.restore(checkpoint=saved)  # not loaded into anything: returned
    foreign = tunecore.Checkpoint.from_dict({"a": 1})
    with pytest.raises(ValueError, match=r"not made by tune_torch\.checkpoint"):
        tune_torch.restore(model=net(0), checkpoint=foreign)


def test_rng_states_are_restored_whatever_map_location_says():
    seeding = tune_torch.seed_everything(21)
    saved = tune_torch.checkpoint(epoch=1)
    expected = draws(seeding)
    assert tune_torch.load(saved, map_location="meta")["rng"]["torch"].is_meta  # load() follows map_location
    again = tune_torch.seed_everything(5)
    tune_torch.restore(checkpoint=saved, map_location="meta")  # as with "cuda": the RNG states are read to the CPU
    assert draws(again) == expected


def test_a_checkpoint_does_not_initialise_cuda(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: calls.append("get_rng_state_all") or [])
    state = rng.capture()
    assert calls == [] and "cuda" not in state  # a CPU-only trial never touches the GPUs
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [torch.get_rng_state()])
    assert len(rng.capture()["cuda"]) == 1  # once the trial used CUDA, its states are saved


class NumpyExtraState(torch.nn.Linear):
    def get_extra_state(self):
        return {"mean": np.zeros(2)}

    def set_extra_state(self, state):
        pass


def test_model_and_optimizer_states_that_weights_only_cannot_read_are_refused_when_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(TypeError, match=r"model\['_extra_state'\]\['mean'\] is a numpy.ndarray"):
        tune_torch.checkpoint(model=NumpyExtraState(2, 2), rng=False)
    optimizer = torch.optim.SGD(net(0).parameters(), lr=0.1)
    optimizer.param_groups[0]["schedule"] = np.float64(0.5)
    with pytest.raises(TypeError, match=r"optimizer\['param_groups'\]\[0\]\['schedule'\] is a numpy"):
        tune_torch.checkpoint(optimizer=optimizer, rng=False)
    assert os.listdir(tmp_path) == []  # nothing written


def test_an_interrupted_write_leaves_no_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real_save = torch.save

    def save_then_die(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")  # part of the file is written, then the process "dies"
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", save_then_die)
    with pytest.raises(OSError, match="disk full"):
        tune_torch.checkpoint(model=net(0))
    assert list(tmp_path.rglob(STATE_FILE)) == []  # never a half-written tune_torch.pt
    assert os.listdir(tmp_path) == []  # and the staging directory is removed
    monkeypatch.setattr(torch, "save", real_save)
    saved = tune_torch.checkpoint(model=net(0))
    assert sorted(os.listdir(saved.path)) == [STATE_FILE]
    before = digest(tune_torch.load(saved))
    monkeypatch.setattr(state_module.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError, match="crash"):
        state_module._save_atomically({"format": "x"}, saved.path)  # a failed rewrite of the same directory
    assert digest(tune_torch.load(saved)) == before  # the previous file is intact
