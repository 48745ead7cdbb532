"""Hook implementations of tune-evolution: registers the ``evolution`` and ``regularized_evolution`` searchers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tunecore
from tune_evolution.searchers import EvolutionSearcher, RegularizedEvolutionSearcher


@tunecore.hookimpl
def tunecore_register_searchers(register: Callable[..., Any]) -> None:
    """Register ``evolution`` and ``regularized_evolution``."""
    register("evolution", EvolutionSearcher, "Steady-state genetic algorithm: tournament, crossover, mutation")
    register(
        "regularized_evolution",
        RegularizedEvolutionSearcher,
        "Regularized (aging) evolution, Real et al. 2019: the oldest member dies",
    )
