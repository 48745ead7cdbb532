"""Evolutionary searchers for tunecore: ``evolution`` (steady-state GA) and ``regularized_evolution``."""

from tune_evolution.searchers import EvolutionSearcher, RegularizedEvolutionSearcher

__all__ = ["EvolutionSearcher", "RegularizedEvolutionSearcher"]
