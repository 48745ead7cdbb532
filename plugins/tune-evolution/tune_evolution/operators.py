"""Genetic operators on genomes: selection, crossover and type-aware mutation.

A *genome* maps the names of a space's parameters (``"optimizer/lr"``) to values; ``sample_from``
parameters are not genes, the core computes them from the genes (``tunecore.space.sample_config``).
Every operator draws from the ``numpy.random.Generator`` it is given, so a seed fixes everything.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tunecore.space import Parameter, SpaceError, walk_space

if TYPE_CHECKING:
    import numpy as np

Genome = dict[str, Any]
"""Values of the genes by parameter name, in the order of :func:`genes_of`."""

RANGE_OF_NORMAL = 4.0
"""Width (in standard deviations) that stands for the range of an unbounded ``randn`` parameter."""


def genes_of(space: dict[str, Any], searcher: str) -> list[Parameter]:
    """The parameters of ``space`` that evolve (all but ``sample_from``); ``grid_search`` is refused."""
    params = walk_space(space)
    for param in params:
        if param.kind == "grid":
            values = list(param.categories or ())
            raise SpaceError(
                f"{searcher} cannot enumerate the grid_search parameter {param.name!r}: evolution mutates values"
                f" instead of trying each one; write choice({values!r}) instead"
            )
    return [param for param in params if param.kind != "function"]


def tournament(scores: Sequence[float], size: int, rng: np.random.Generator) -> int:
    """Index of the best (lowest score) of ``size`` members drawn uniformly with replacement."""
    drawn = rng.integers(len(scores), size=size)
    return int(min(drawn, key=lambda index: scores[index]))


def uniform_crossover(first: Genome, second: Genome, rng: np.random.Generator) -> Genome:
    """A child taking each gene from either parent with probability 1/2."""
    from_second = rng.random(len(first)) < 0.5
    return {
        name: copy.deepcopy(second[name] if take else first[name])
        for name, take in zip(first, from_second, strict=True)
    }


def mutate(genome: Genome, genes: Sequence[Parameter], rng: np.random.Generator, rate: float, scale: float) -> Genome:
    """A copy of ``genome`` in which each gene is mutated with probability ``rate``."""
    chosen = rng.random(len(genes)) < rate
    return {
        gene.name: mutate_value(gene, genome[gene.name], rng, scale) if hit else copy.deepcopy(genome[gene.name])
        for gene, hit in zip(genes, chosen, strict=True)
    }


def mutate_one(genome: Genome, genes: Sequence[Parameter], rng: np.random.Generator, scale: float) -> Genome:
    """A copy of ``genome`` with exactly one gene, chosen uniformly, mutated (none when there is no gene)."""
    child = copy.deepcopy(genome)
    if genes:
        gene = genes[int(rng.integers(len(genes)))]
        child[gene.name] = mutate_value(gene, genome[gene.name], rng, scale)
    return child


def mutate_value(param: Parameter, value: Any, rng: np.random.Generator, scale: float) -> Any:
    """A value of ``param``'s domain near ``value``, different from it whenever the domain has another value.

    Numbers take a Gaussian step whose standard deviation is ``scale`` times the range (in log space for
    log domains; ``RANGE_OF_NORMAL`` standard deviations for ``randn``), are clipped to the bounds and rounded
    to ``q``; a step that rounds back to ``value`` moves one ``q`` (one for ints) instead. Categories are
    resampled among the other categories.
    """
    if param.kind == "categorical":
        return _other_category(param.categories or (), value, rng)
    if param.kind == "int":
        return int(_mutate_number(param, value, rng, scale, param.q or 1))
    if param.kind == "float":
        return float(_mutate_number(param, value, rng, scale, param.q))
    raise ValueError(f"{param.name!r}: a {param.kind} parameter has no mutation")


def _other_category(categories: Sequence[Any], value: Any, rng: np.random.Generator) -> Any:
    others = [c for c in categories if type(c) is not type(value) or c != value]
    if not others:
        return copy.deepcopy(value)
    return copy.deepcopy(others[int(rng.integers(len(others)))])


def _mutate_number(param: Parameter, value: Any, rng: np.random.Generator, scale: float, q: float | None) -> float:
    low, high = param.low, param.high
    x = float(value)
    if low is None or high is None:  # randn / qrandn: unbounded
        moved = x + float(rng.normal(0.0, scale * RANGE_OF_NORMAL * (param.sd or 1.0)))
        low, high = -math.inf, math.inf
    else:
        x = min(max(x, low), high)
        if param.log:
            width = math.log(high) - math.log(low)
            moved = math.exp(math.log(x) + float(rng.normal(0.0, scale * width)))
        else:
            moved = x + float(rng.normal(0.0, scale * (high - low)))
    if q is None:  # a plain float: [low, high) as the core samples it
        return min(max(moved, low), math.nextafter(high, low) if math.isfinite(high) else high)
    k_low = round(low / q) if math.isfinite(low) else -math.inf
    k_high = round(high / q) if math.isfinite(high) else math.inf
    k_now = round(x / q)
    k = min(max(round(moved / q), k_low), k_high)
    if k == k_now and k_low < k_high:  # step at least once
        up = k_now == k_low or (moved > x and k_now != k_high)
        k = k_now + 1 if up else k_now - 1
    return _multiple(int(k), q)


def _multiple(k: int, q: float) -> float:
    """``k * q``, computed as ``k / (1/q)`` when ``1/q`` is whole, so that 3 steps of 0.1 give 0.3."""
    inverse = round(1 / q)
    if q < 1 and math.isclose(1 / q, inverse, rel_tol=1e-12):
        return k / inverse
    return k * q
