"""Hook implementations of tune-asha: registers the ``asha``, ``mo_asha``, ``hyperband`` and ``median``
schedulers."""

from __future__ import annotations

from collections.abc import Callable

import tunecore
from tune_asha.asha import AsyncHyperBandScheduler
from tune_asha.hyperband import HyperBandScheduler
from tune_asha.median import MedianStoppingRule
from tune_asha.mo_asha import MOASHAScheduler


@tunecore.hookimpl
def tunecore_register_schedulers(register: Callable[..., None]) -> None:
    """asha, mo_asha, hyperband and median."""
    register("asha", AsyncHyperBandScheduler, "Asynchronous successive halving (ASHA): stop trials at rungs")
    register("mo_asha", MOASHAScheduler, "ASHA for several metrics: rungs rank trials by non-dominated sorting")
    register("hyperband", HyperBandScheduler, "Synchronous HyperBand: pause trials at rungs, resume the best")
    register("median", MedianStoppingRule, "Stop trials whose best is below the median of the others' running means")
