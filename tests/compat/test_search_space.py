"""Ray Tune compatibility: domains, bounds, quantization, grids, ``sample_from`` and ``points_to_evaluate``.

Each test names the Ray Tune behaviour it checks (from Ray's documentation and source). Where tunecore differs
on purpose, the test pins tunecore's behaviour and docs/ray-tune-differences.md says why.
"""

from __future__ import annotations

import collections

import numpy as np

import tunecore
from tunecore import space
from tunecore.builtin.searchers import RandomSearcher
from tunecore.protocols import FINISHED

N = 2000


def draw(domain: object, n: int = N) -> list:
    rng = np.random.default_rng(0)
    return [domain.sample(rng) for _ in range(n)]  # type: ignore[attr-defined]


def test_randint_upper_bound_is_exclusive():
    """Ray: tune.randint(lower, upper) samples an integer in [lower, upper) — upper is exclusive."""
    assert set(draw(tunecore.randint(0, 4))) == {0, 1, 2, 3}


def test_qrandint_bounds_are_both_inclusive_and_values_multiples_of_q():
    """Ray: tune.qrandint(lower, upper, q) — lower and upper both inclusive, values rounded to multiples of q."""
    assert set(draw(tunecore.qrandint(0, 10, 5))) == {0, 5, 10}
    assert set(draw(tunecore.qrandint(1, 3))) == {1, 2, 3}


def test_lograndint_upper_is_exclusive_and_qlograndint_inclusive():
    """Ray: tune.lograndint(lower, upper) excludes upper; tune.qlograndint(lower, upper, q) includes it."""
    assert set(draw(tunecore.lograndint(1, 4))) == {1, 2, 3}
    values = draw(tunecore.qlograndint(2, 8, 2))
    assert set(values) == {2, 4, 6, 8}


def test_uniform_and_loguniform_stay_within_their_bounds():
    """Ray: tune.uniform(lower, upper) and tune.loguniform(lower, upper) sample floats in [lower, upper)."""
    uniform = draw(tunecore.uniform(-2.0, 3.0))
    assert min(uniform) >= -2.0 and max(uniform) < 3.0 and max(uniform) > 2.9
    log = np.log10(draw(tunecore.loguniform(1e-4, 1e-1)))
    assert log.min() >= -4 and log.max() < -1
    assert abs(np.mean(log) + 2.5) < 0.1  # uniform in log space: the mean exponent is the middle one


def test_quniform_rounds_to_multiples_of_q_and_reaches_the_upper_bound():
    """Ray: tune.quniform(lower, upper, q) samples uniformly in [lower, upper], rounded to increments of q."""
    values = draw(tunecore.quniform(0.0, 1.0, 0.25))
    assert set(values) == {0.0, 0.25, 0.5, 0.75, 1.0}


def test_randn_has_the_given_mean_and_sd():
    """Ray: tune.randn(mean, sd) samples from a normal distribution."""
    values = np.array(draw(tunecore.randn(5.0, 2.0)))
    assert abs(values.mean() - 5.0) < 0.15 and abs(values.std() - 2.0) < 0.15


def test_choice_picks_every_category_equally_often():
    """Ray: tune.choice(categories) samples one of the categories uniformly."""
    counts = collections.Counter(draw(tunecore.choice(["a", "b", "c"]), 3000))
    assert set(counts) == {"a", "b", "c"} and all(900 < n < 1100 for n in counts.values())


def test_quantized_bounds_that_are_not_multiples_of_q_move_inward():
    """Ray: Float.quantized(q) refuses bounds not divisible by q (ValueError).

    tunecore differs on purpose: it moves the bounds inward to the nearest multiples of q (ray-tune-differences.md).
    """
    assert set(draw(tunecore.quniform(0.05, 1.0, 0.1))) <= {round(0.1 * k, 10) for k in range(1, 11)}
    assert min(draw(tunecore.quniform(0.05, 1.0, 0.1))) == 0.1
    assert set(draw(tunecore.qrandint(1, 10, 2))) == {2, 4, 6, 8, 10}


def test_grid_search_is_a_cartesian_product_repeated_num_samples_times():
    """Ray: several grid_search values combine as a cartesian product; num_samples=4 repeats it (4 per combination)."""
    param_space = {"x": tunecore.grid_search([10, 20]), "y": tunecore.grid_search(["a", "b", "c"])}
    configs = list(space.generate_variants({**param_space, "z": tunecore.uniform(0, 1)}, num_samples=4, seed=0))
    assert len(configs) == 24
    assert collections.Counter((c["x"], c["y"]) for c in configs) == {
        (x, y): 4 for x in (10, 20) for y in ("a", "b", "c")
    }
    assert len({c["z"] for c in configs}) == 24  # the other domains are sampled afresh for every config


def test_grid_order_is_insertion_order_first_grid_slowest():
    """Ray: grids are ordered by their key path and the first varies fastest.

    tunecore differs on purpose: insertion order, the first grid varies slowest (nested for loops); the configs
    are the same, only their order differs (ray-tune-differences.md).
    """
    param_space = {"b": tunecore.grid_search([1, 2]), "a": tunecore.grid_search(["x", "y"])}
    order = [(c["b"], c["a"]) for c in space.generate_variants(param_space, seed=0)]
    assert order == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]


def test_sample_from_reads_resolved_values_and_other_sample_froms():
    """Ray: tune.sample_from(lambda spec: ...) reads spec.config, resolved after the other domains, in passes."""
    param_space = {
        "double": tunecore.sample_from(lambda spec: spec.config.half * 4),
        "half": tunecore.sample_from(lambda spec: spec.config["base"] / 2),
        "base": tunecore.randint(1, 100),
    }
    for config in space.generate_variants(param_space, num_samples=20, seed=0):
        assert config["double"] == 2 * config["base"]


def suggestions(searcher: RandomSearcher, param_space: dict, num_samples: int) -> list[dict]:
    searcher.setup(param_space, "loss", "min", 0, num_samples)
    configs = []
    while (config := searcher.suggest(f"t{len(configs)}")) is not FINISHED:
        configs.append(config)
    return configs


def test_points_to_evaluate_come_first_are_completed_and_count_towards_num_samples():
    """Ray: BasicVariantGenerator(points_to_evaluate=...) runs the (partial) points first, samples the missing
    values, and each point counts as one of num_samples."""
    param_space = {"x": tunecore.uniform(0, 1), "y": tunecore.choice([1, 2])}
    searcher = RandomSearcher(points_to_evaluate=[{"x": 0.5, "y": 2}, {"x": 0.25}])
    configs = suggestions(searcher, param_space, num_samples=3)
    assert len(configs) == 3
    assert configs[0] == {"x": 0.5, "y": 2}
    assert configs[1]["x"] == 0.25 and configs[1]["y"] in (1, 2)


def test_points_to_evaluate_may_repeat_a_constant():
    """Ray: a point may set a key that is a constant of the space (it warns only if the value differs)."""
    searcher = RandomSearcher(points_to_evaluate=[{"x": 0.5, "batch": 64}])
    configs = suggestions(searcher, {"x": tunecore.uniform(0, 1), "batch": 64}, num_samples=2)
    assert configs[0] == {"x": 0.5, "batch": 64} and configs[1]["batch"] == 64


def test_a_point_to_evaluate_is_run_at_every_grid_point():
    """Ray: a point that does not set a grid_search key is expanded over the grid (one trial per grid value),
    and counts as one of num_samples, so the total stays num_samples x grid size."""
    param_space = {"a": tunecore.grid_search([1, 2]), "x": tunecore.uniform(0, 1)}
    configs = suggestions(RandomSearcher(points_to_evaluate=[{"x": 0.5}]), param_space, num_samples=2)
    assert len(configs) == 4
    assert [(c["a"], c["x"]) for c in configs[:2]] == [(1, 0.5), (2, 0.5)]


def test_a_point_that_sets_a_grid_key_is_not_expanded_over_it():
    """Ray (_get_preset_variants): a point's values overwrite the spec's, a grid_search key included, so a point
    that sets every grid key is one trial; the remaining samples run the whole grid."""
    param_space = {"a": tunecore.grid_search([1, 2]), "x": tunecore.uniform(0, 1)}
    configs = suggestions(RandomSearcher(points_to_evaluate=[{"a": 2, "x": 0.5}]), param_space, num_samples=2)
    assert [(c["a"], c["x"]) for c in configs[:1]] == [(2, 0.5)]
    assert [c["a"] for c in configs] == [2, 1, 2]
