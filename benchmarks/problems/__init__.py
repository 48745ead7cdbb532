"""Benchmark problems for ``benchmarks/quality.py``: multi-fidelity functions and a tabular MLP benchmark.

Every single-objective problem is a :class:`Problem`: a search space in ``tunecore.space`` domains, a value
per budget step ``t = 1 ... max_t`` (what a trial reports as its ``training_iteration``-th result), and a
known optimum (``regret = true value - optimum``). :func:`problems` lists the six, by name.
"""

from __future__ import annotations

from benchmarks.problems.base import MAX_T, Problem, fidelity
from benchmarks.problems.biobjective import DigitsSizeProblem, hypervolume
from benchmarks.problems.synthetic import SyntheticProblem, synthetic_problems
from benchmarks.problems.tabular import DigitsProblem, DigitsTable, load_table

__all__ = [
    "MAX_T",
    "DigitsProblem",
    "DigitsSizeProblem",
    "DigitsTable",
    "Problem",
    "SyntheticProblem",
    "fidelity",
    "hypervolume",
    "load_table",
    "problems",
]


def problems() -> dict[str, Problem]:
    """The six single-objective problems, by name, in the order of the report."""
    found: list[Problem] = [*synthetic_problems(), DigitsProblem(), DigitsProblem(noisy=True)]
    return {problem.name: problem for problem in found}
