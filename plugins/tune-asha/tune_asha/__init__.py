"""Early-stopping schedulers for tunecore: ``asha``, ``mo_asha``, ``hyperband`` and ``median``."""

from tune_asha.asha import ASHAScheduler, AsyncHyperBandScheduler
from tune_asha.hyperband import HyperBandScheduler, hyperband_brackets
from tune_asha.median import MedianStoppingRule
from tune_asha.mo_asha import MOASHAScheduler

__all__ = [
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "HyperBandScheduler",
    "MOASHAScheduler",
    "MedianStoppingRule",
    "hyperband_brackets",
]
__version__ = "0.2.0"
