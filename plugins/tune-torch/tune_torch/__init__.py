"""tune-torch: PyTorch helpers for tunecore trials.

Seeding (:func:`seed_everything`), devices (:func:`device`, :func:`devices`), one call to checkpoint and one
to restore the training state exactly (:func:`checkpoint`, :func:`restore`), optimizer updates for PBT
(:func:`update_optimizer`), a Lightning callback (:mod:`tune_torch.lightning`) and the ``tensorboard`` logger.

Names are imported on first use: tunecore imports this package (for its ``tensorboard`` logger) in every
experiment, which must not cost an ``import torch``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS: dict[str, str] = {
    "seed_everything": "tune_torch.seeding",
    "Seeding": "tune_torch.seeding",
    "device": "tune_torch.placement",
    "devices": "tune_torch.placement",
    "checkpoint": "tune_torch.state",
    "restore": "tune_torch.state",
    "load": "tune_torch.state",
    "unwrap": "tune_torch.state",
    "update_optimizer": "tune_torch.optim",
    "TensorBoardLogger": "tune_torch.tensorboard",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tune_torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tune_torch.optim import update_optimizer  # noqa: F401
    from tune_torch.placement import device, devices  # noqa: F401
    from tune_torch.seeding import Seeding, seed_everything  # noqa: F401
    from tune_torch.state import checkpoint, load, restore, unwrap  # noqa: F401
    from tune_torch.tensorboard import TensorBoardLogger  # noqa: F401
