"""The searcher conformance suite (tunecore.testing.components) over tune-evolution's two searchers."""

from __future__ import annotations

from typing import Any, ClassVar

from tune_evolution import EvolutionSearcher, RegularizedEvolutionSearcher
from tunecore.protocols import Searcher
from tunecore.testing.components import SearcherConformance

_GRID = {"grid_search": "evolution cannot enumerate a grid (refused at setup, as the README says)"}
_NO_FINISH = "it never returns FINISHED: num_samples is left to the controller (README, Scores)"


class TestEvolutionSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = _GRID
    honours_num_samples = False  # reason: _NO_FINISH

    def make_searcher(self, **options: Any) -> Searcher:
        return EvolutionSearcher(population_size=4, **options)


class TestRegularizedEvolutionSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = _GRID
    honours_num_samples = False  # reason: _NO_FINISH

    def make_searcher(self, **options: Any) -> Searcher:
        return RegularizedEvolutionSearcher(population_size=4, sample_size=2, **options)
