"""RNG states as plain data and tensors, so that ``torch.load(weights_only=True)`` reads them back.

Python's state is a tuple of ints, numpy's legacy ``MT19937`` state is converted to a tensor (numpy objects are
what ``weights_only`` refuses), torch's CPU, CUDA (one per device) and MPS states are byte tensors, and the
DataLoader generator of :func:`tune_torch.seed_everything` is saved beside them. CUDA's states are saved only
once this process has initialised CUDA (a CPU-only trial never touches the GPUs: asking for their RNG states
would initialise CUDA on every one of them); until then CUDA's generators hold nothing a run has drawn from.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import torch

from tune_torch.seeding import current_seeding


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _numpy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "name": str(name),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _set_numpy_state(state: dict[str, Any]) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached_gaussian"]))


def _cpu(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """A saved state as the CPU tensor that torch's ``set_rng_state`` functions need."""
    if tensor.is_meta:
        raise ValueError(f"the saved {name} RNG state is a meta tensor (no data): load it with map_location='cpu'")
    return tensor.cpu()


def has_data(state: dict[str, Any]) -> bool:
    """Whether every tensor of a :func:`capture` state holds data (none was read to the ``meta`` device)."""

    def tensors(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from tensors(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from tensors(item)

    return not any(tensor.is_meta for tensor in tensors(state))


def capture() -> dict[str, Any]:
    """Every RNG state of this process: python, numpy, torch, CUDA per device (once CUDA is initialised), MPS,
    the DataLoader generator."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    if _mps_available():
        state["mps"] = torch.mps.get_rng_state()
    seeding = current_seeding()
    if seeding is not None:
        state["generator"] = seeding.generator.get_state()
    return state


def restore(state: dict[str, Any]) -> None:
    """Put the RNG states of :func:`capture` back.

    CUDA's are restored only when this process sees as many CUDA devices as the one that saved them (else a
    warning says so); the DataLoader generator only into the generator of this trial's
    :func:`tune_torch.seed_everything` (a warning when it was not called first). The tensors may be on any
    device (a checkpoint read with ``map_location="cuda"``): they are copied to the CPU, which torch's
    ``set_rng_state`` functions need; ``meta`` tensors are a ValueError.
    """
    python = state["python"]
    python_state = _cpu(python["state"], "python")
    random.setstate((python["version"], tuple(int(value) for value in python_state.tolist()), python["gauss"]))
    _set_numpy_state({**state["numpy"], "keys": _cpu(state["numpy"]["keys"], "numpy")})
    torch.set_rng_state(_cpu(state["torch"], "torch"))
    saved_cuda = state.get("cuda")
    if saved_cuda is not None:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == len(saved_cuda):
            torch.cuda.set_rng_state_all([_cpu(tensor, "CUDA") for tensor in saved_cuda])
        else:
            warnings.warn(
                f"tune_torch.restore: the checkpoint holds the RNG states of {len(saved_cuda)} CUDA devices but"
                f" this process sees {count}: CUDA's RNG is left as it is",
                stacklevel=3,
            )
    if "mps" in state and _mps_available():
        torch.mps.set_rng_state(_cpu(state["mps"], "MPS"))
    if "generator" in state:
        seeding = current_seeding()
        if seeding is None:
            warnings.warn(
                "tune_torch.restore: the checkpoint holds a DataLoader generator's state but seed_everything()"
                " was not called in this trial before restore(): the data order does not continue",
                stacklevel=3,
            )
        else:
            seeding.generator.set_state(_cpu(state["generator"], "DataLoader generator"))
