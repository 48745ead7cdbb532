"""One call to checkpoint a training run, one to restore it: model, optimizer, scheduler, scaler, epoch, RNG.

The checkpoint is a directory holding one file, :data:`STATE_FILE`, written with ``torch.save`` and read with
``torch.load(weights_only=True)``: only tensors and plain data (no pickled classes, no numpy objects).
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import torch

import tunecore
from tune_torch import rng as rng_states

STATE_FILE = "tune_torch.pt"
"""The file of a checkpoint made by :func:`checkpoint`."""
FORMAT = "tune_torch/1"
"""The value of the ``"format"`` key of that file."""

_OBJECTS = ("model", "optimizer", "scheduler", "scaler")
_SCALARS = (str, int, float, bool, complex, bytes, type(None))
"""Read back by ``torch.load(weights_only=True)`` as these exact types (numpy's float64 derives from float, an
IntEnum from int: both are refused)."""
_TORCH = (torch.Tensor, torch.dtype, torch.device, torch.Size)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module itself, without ``DistributedDataParallel``/``DataParallel`` (``.module``) or
    ``torch.compile`` (``._orig_mod``) around it, however they are nested: its ``state_dict`` keys then do not
    depend on how it was wrapped."""
    while True:
        if isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
            model = model.module
        elif isinstance(inner := getattr(model, "_orig_mod", None), torch.nn.Module):
            model = inner
        else:
            return model


def _check_plain(value: Any, where: str) -> None:
    """Raise TypeError unless ``value`` is what ``torch.load(weights_only=True)`` reads: tensors and plain data."""
    if type(value) in _SCALARS or isinstance(value, _TORCH):
        return
    if type(value) in (dict, collections.OrderedDict):
        for key, item in value.items():
            if type(key) not in (str, int, float, bool):
                raise TypeError(f"{where} has a key {key!r} of type {type(key).__name__}: use str or int keys")
            _check_plain(item, f"{where}[{key!r}]")
        return
    if type(value) in (list, tuple, set):
        for index, item in enumerate(value):  # a set's order is arbitrary, but only its items matter here
            _check_plain(item, f"{where}[{index}]")
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__name__}, which torch.load(weights_only=True)"
        " cannot read back: keep to tensors, numbers, strings, None, and lists/tuples/dicts of them"
        " (numpy arrays: torch.from_numpy(array))"
    )


def _save_atomically(state: dict[str, Any], directory: str) -> None:
    """Write ``state`` to ``directory/STATE_FILE`` through a staging file, synced then renamed into place: the
    file is either the previous one or the complete new one, never a part (the staging file is removed when
    the write fails)."""
    path = os.path.join(directory, STATE_FILE)
    staging = path + ".tmp"
    try:
        with open(staging, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(staging)
        raise


def checkpoint(
    *,
    model: torch.nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: Any = None,
    epoch: int | None = None,
    extra: Mapping[str, Any] | None = None,
    rng: bool = True,
) -> tunecore.Checkpoint:
    """A :class:`tunecore.Checkpoint` of the training state, for ``tunecore.report(..., checkpoint=...)``.

    ``model`` is saved unwrapped (:func:`unwrap`: DDP and ``torch.compile`` add no key prefixes);
    ``optimizer``, ``scheduler`` (an LR scheduler) and ``scaler`` (``torch.amp.GradScaler``) by their
    ``state_dict()``; ``epoch`` (the last one done) and ``extra`` (a dict of tensors and plain data, checked here)
    as they are. Everything is checked here to be what ``torch.load(weights_only=True)`` reads back (tensors
    and plain data: a model whose ``get_extra_state()`` returns a numpy array is a TypeError naming the key,
    not a checkpoint that fails at resume). ``rng=True`` adds every RNG state (:mod:`tune_torch.rng`). The file
    is written to a temporary file, synced and renamed into place in a fresh directory, which tunecore moves
    into the trial's directory; a failed write leaves nothing behind.
    """
    state: dict[str, Any] = {"format": FORMAT, "torch": str(torch.__version__)}
    if model is not None:
        state["model"] = unwrap(model).state_dict()
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if scaler is not None:
        state["scaler"] = scaler.state_dict()
    if epoch is not None:
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise TypeError(f"epoch must be an int, got {epoch!r}")
        state["epoch"] = epoch
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise TypeError(f"extra must be a dict, got {type(extra).__name__}")
        state["extra"] = dict(extra)
    for key in (*_OBJECTS, "extra"):
        if key in state:
            _check_plain(state[key], key)
    if rng:
        state["rng"] = rng_states.capture()
    directory = tempfile.mkdtemp(prefix="tune-torch-ckpt-")
    try:
        _save_atomically(state, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return tunecore.Checkpoint(directory, owned=True)


def load(checkpoint: tunecore.Checkpoint | str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """The state saved by :func:`checkpoint` in ``checkpoint`` (a Checkpoint or its directory), read with
    ``torch.load(weights_only=True)``. Raises ValueError for a checkpoint that :func:`checkpoint` did not make."""
    directory = checkpoint.path if isinstance(checkpoint, tunecore.Checkpoint) else os.fspath(checkpoint)
    path = os.path.join(directory, STATE_FILE)
    if not os.path.isfile(path):
        raise ValueError(f"checkpoint {directory} was not made by tune_torch.checkpoint() (no {STATE_FILE})")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} checkpoint")
    return state


def restore(
    *,
    model: torch.nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: Any = None,
    map_location: Any = "cpu",
    rng: bool = True,
    strict: bool = True,
    checkpoint: tunecore.Checkpoint | str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Load the trial's checkpoint (``tunecore.get_checkpoint()``) into the given objects; return the rest.

    Returns ``{}`` when there is no checkpoint (a fresh trial), else what was saved and not loaded here:
    ``"epoch"`` and ``"extra"`` when saved, and the state dict of any saved object not passed. ``model`` may be
    wrapped (DDP, ``torch.compile``); ``strict`` is passed to its ``load_state_dict``. The optimizer's state
    follows its parameters' devices; ``map_location`` (``"cpu"`` by default) is where tensors are read to.
    ``rng=True`` puts the saved RNG states back (:func:`tune_torch.rng.restore`; they go to the CPU, whatever
    ``map_location`` says, as torch needs them there): call
    :func:`tune_torch.seed_everything` first. ``checkpoint`` loads another checkpoint (or directory) instead.
    Raises ValueError when an object is passed whose state the checkpoint lacks.
    """
    source = checkpoint if checkpoint is not None else tunecore.get_checkpoint()
    if source is None:
        return {}
    state = load(source, map_location)
    if rng and "rng" in state and not rng_states.has_data(state["rng"]):  # map_location="meta": no data
        state["rng"] = load(source, "cpu")["rng"]
    given = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    missing = [name for name, value in given.items() if value is not None and name not in state]
    if missing:
        raise ValueError(f"the checkpoint holds no {' or '.join(missing)} state (it has: {_saved(state)})")
    if model is not None:
        unwrap(model).load_state_dict(state["model"], strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state["scaler"]:  # a disabled scaler saves {}, which load_state_dict refuses
        scaler.load_state_dict(state["scaler"])
    if rng and "rng" in state:
        rng_states.restore(state["rng"])
    rest = {name: state[name] for name in _OBJECTS if name in state and given[name] is None}
    for name in ("epoch", "extra"):
        if name in state:
            rest[name] = state[name]
    return rest


def _saved(state: dict[str, Any]) -> str:
    names = [name for name in (*_OBJECTS, "epoch", "extra", "rng") if name in state]
    return ", ".join(names) if names else "nothing"
