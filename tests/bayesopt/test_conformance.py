"""The searcher conformance suite (tunecore.testing.components) over tune-bayesopt's four searchers."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from tune_bayesopt import BOHBSearcher, HyperoptSearcher, OptunaSearcher, SkoptSearcher
from tunecore.protocols import Searcher
from tunecore.testing.components import SearcherConformance

_NO_GRID = "a model-based searcher cannot enumerate a grid (README, Search spaces)"
_NO_FUNCTION = "a sample_from value cannot be searched by the library (README, Search spaces)"
_NO_NORMAL = "the library has no normal distribution (README, Search spaces)"


class TestOptunaSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = {
        "randn": _NO_NORMAL,
        "qrandn": _NO_NORMAL,
        "grid_search": _NO_GRID,
        "sample_from": _NO_FUNCTION,
    }
    multi_objective = True

    def make_searcher(self, **options: Any) -> Searcher:
        return OptunaSearcher(sampler_options={"n_startup_trials": 4}, **options)


class TestHyperoptSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = {"grid_search": _NO_GRID, "sample_from": _NO_FUNCTION}

    def make_searcher(self, **options: Any) -> Searcher:
        return HyperoptSearcher(n_initial_points=4, **options)


class TestSkoptSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = {
        "randn": _NO_NORMAL,
        "qrandn": _NO_NORMAL,
        "grid_search": _NO_GRID,
        "sample_from": _NO_FUNCTION,
    }
    proposals = 8

    def make_searcher(self, **options: Any) -> Searcher:
        return SkoptSearcher(base_estimator="RF", n_initial_points=4, **options)


@pytest.mark.filterwarnings("ignore:the bohb searcher saw:UserWarning")  # the suite runs it with no scheduler
class TestBOHBSearcher(SearcherConformance):
    unsupported_domains: ClassVar[dict[str, str]] = {"grid_search": _NO_GRID, "sample_from": _NO_FUNCTION}

    def make_searcher(self, **options: Any) -> Searcher:
        return BOHBSearcher(min_points_in_model=3, num_samples=16, **options)  # the model from the 3rd result on
