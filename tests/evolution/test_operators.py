"""The genetic operators: mutation stays inside every domain, tournaments prefer better members."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunecore
from tune_evolution import operators
from tunecore.space import Parameter, walk_space

from .spaces import domains, in_domain

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None, database=None)


@PROPERTY
@given(domain=domains(), seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.01, 0.1, 0.5, 3.0]))
def test_mutation_never_leaves_the_domain_and_always_moves(domain, seed, scale):
    rng = np.random.default_rng(seed)
    param = Parameter(("p",), domain)
    value = domain.sample(rng)
    for _ in range(20):
        mutated = operators.mutate_value(param, value, rng, scale)
        assert in_domain(domain, mutated, strict=True), (domain, value, mutated)
        if param.kind == "categorical":
            several = len({(type(c), repr(c)) for c in param.categories}) > 1
        else:
            several = param.low != param.high
        if several and (param.kind in ("int", "categorical") or param.q is not None):  # a step always moves
            assert type(mutated) is not type(value) or mutated != value, (domain, value)
        value = mutated


@pytest.mark.parametrize(
    ("domain", "value", "expected"),
    [
        (tunecore.uniform(0, 1), 5.0, None),  # out-of-range values (e.g. from points_to_evaluate) come back in
        (tunecore.randint(0, 1), 0, 0),  # a single value cannot move
        (tunecore.qrandint(0, 10, 5), 10, None),
        (tunecore.choice(["a", "b"]), "a", "b"),  # resampled among the other categories
        (tunecore.choice([1, True]), True, 1),  # equal but distinct categories are told apart
    ],
)
def test_mutation_edge_cases(domain, value, expected):
    rng = np.random.default_rng(0)
    mutated = operators.mutate_value(Parameter(("p",), domain), value, rng, 0.1)
    assert in_domain(domain, mutated, strict=True)
    if expected is not None:
        assert mutated == expected and type(mutated) is type(expected)


def test_log_domains_step_in_log_space():
    rng = np.random.default_rng(0)
    param = Parameter(("lr",), tunecore.loguniform(1e-6, 1.0))
    steps = [operators.mutate_value(param, 1e-3, rng, 0.05) / 1e-3 for _ in range(2000)]
    ratios = np.log10(steps)  # symmetric in log space: as many steps down as up, of the same size
    assert abs(np.median(ratios)) < 0.05 and 0.2 < np.std(ratios) < 0.4


def test_quantized_floats_are_exact_multiples():
    rng = np.random.default_rng(1)
    param = Parameter(("d",), tunecore.quniform(0, 0.5, 0.1))
    values = {operators.mutate_value(param, 0.2, rng, 0.3) for _ in range(500)}
    assert values == {0.0, 0.1, 0.3, 0.4, 0.5}  # 0.3, not 0.30000000000000004; never 0.2 itself


def tournament_probabilities(n: int, k: int) -> np.ndarray:
    """P(the member of rank r wins) when k of n are drawn with replacement: ((n-r+1)^k - (n-r)^k) / n^k."""
    ranks = np.arange(1, n + 1)
    return ((n - ranks + 1.0) ** k - (n - ranks) ** k) / n**k


@pytest.mark.parametrize("size", [1, 3, 7])
def test_tournament_prefers_better_members(size):
    rng = np.random.default_rng(12345)
    scores = [3.0, 0.0, 9.0, 5.0, 1.0, 8.0, 2.0, 7.0, 4.0, 6.0]  # member i has rank scores[i] + 1
    draws = 40_000
    wins = np.bincount([operators.tournament(scores, size, rng) for _ in range(draws)], minlength=10)
    observed = wins[np.argsort(scores)]  # wins by rank, best first
    expected = draws * tournament_probabilities(10, size)
    chi_square = float(((observed - expected) ** 2 / expected).sum())
    assert chi_square < 27.88  # the 0.999 quantile of chi-square with 9 degrees of freedom
    if size > 1:
        assert all(np.diff(observed) <= 0)  # never more wins for a worse rank
        assert observed[0] > 2.5 * draws / 10  # the best member wins far more often than under uniform selection


def test_uniform_crossover_mixes_genes_from_both_parents():
    rng = np.random.default_rng(0)
    first, second = {f"g{i}": 0 for i in range(20)}, {f"g{i}": 1 for i in range(20)}
    children = [operators.uniform_crossover(first, second, rng) for _ in range(200)]
    share = np.mean([list(child.values()) for child in children])
    assert list(children[0]) == list(first) and 0.45 < share < 0.55


def test_grid_search_is_refused_with_a_hint():
    space = {"lr": tunecore.uniform(0, 1), "model": {"layers": tunecore.grid_search([1, 2, 3])}}
    with pytest.raises(ValueError, match=r"grid_search parameter 'model/layers'.*choice\(\[1, 2, 3\]\)"):
        operators.genes_of(space, "evolution")


def test_sample_from_is_no_gene():
    space = {"x": tunecore.uniform(0, 1), "y": tunecore.sample_from(lambda spec: 2 * spec.config["x"]), "c": 3}
    assert [p.name for p in operators.genes_of(space, "evolution")] == ["x"]
    assert len(walk_space(space)) == 2
