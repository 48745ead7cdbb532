"""Hook implementations of tune-torch: registers the ``tensorboard`` logger.

Loaded whenever tunecore discovers plugins, so it imports neither torch nor tensorboardX.
"""

from __future__ import annotations

from collections.abc import Callable

import tunecore
from tune_torch.tensorboard import TensorBoardLogger


@tunecore.hookimpl
def tunecore_register_loggers(register: Callable[..., None]) -> None:
    """tensorboard."""
    register(
        "tensorboard",
        TensorBoardLogger,
        "Each trial's results and its HParams (config, final metrics) in <trial>/events.out.tfevents.*",
    )
