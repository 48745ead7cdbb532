"""points_to_evaluate may hold the space's constants (an earlier Result.config), in every searcher."""

from __future__ import annotations

import warnings

import pytest

import tunecore
from tunecore.builtin.searchers import RandomSearcher
from tunecore.space import SpaceError

SPACE = {
    "lr": tunecore.loguniform(1e-4, 1e-1),
    "model": {"layers": 2, "act": tunecore.choice(["relu", "tanh"]), "sizes": [64, 32]},
    "name": "exp",
}
EARLIER = {"lr": 0.01, "model": {"layers": 2, "act": "tanh", "sizes": [64, 32]}, "name": "exp"}


def searchers():
    """(module to import, factory) of every searcher with points_to_evaluate."""
    cases = [
        (None, lambda points: RandomSearcher(points_to_evaluate=points), "random"),
        ("tune_bayesopt", lambda points: _bayesopt("OptunaSearcher", points), "optuna"),
        ("tune_bayesopt", lambda points: _bayesopt("HyperoptSearcher", points), "hyperopt"),
        ("tune_bayesopt", lambda points: _bayesopt("SkoptSearcher", points), "skopt"),
        ("tune_evolution", lambda points: _evolution("EvolutionSearcher", points), "evolution"),
        ("tune_evolution", lambda points: _evolution("RegularizedEvolutionSearcher", points), "regularized_evolution"),
    ]
    return [pytest.param(module, factory, id=name) for module, factory, name in cases]


def _bayesopt(name, points):
    import tune_bayesopt

    return getattr(tune_bayesopt, name)(points_to_evaluate=points)


def _evolution(name, points):
    import tune_evolution

    return getattr(tune_evolution, name)(points_to_evaluate=points)


def first_config(module, factory, points):
    if module:
        pytest.importorskip(module)
    searcher = factory(points)
    searcher.setup(SPACE, "loss", "min", 0, 4)
    return searcher.suggest("t1")


@pytest.mark.parametrize("module, factory", searchers())
def test_a_full_config_with_the_spaces_constants_is_accepted_silently(module, factory):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = first_config(module, factory, [EARLIER])
    assert config == EARLIER


@pytest.mark.parametrize("module, factory", searchers())
def test_a_constant_that_differs_warns_naming_key_and_both_values(module, factory):
    point = {**EARLIER, "model": {**EARLIER["model"], "layers": 3}}
    with pytest.warns(UserWarning, match=r"points_to_evaluate\[0\]: 'model/layers' is 3.*constant 2"):
        config = first_config(module, factory, [point])
    assert config == EARLIER  # the space's constant is what trials get


@pytest.mark.parametrize("module, factory", searchers())
def test_a_name_that_is_neither_parameter_nor_constant_is_still_an_error(module, factory):
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\] has \['model/units'\].*parameters are"):
        first_config(module, factory, [{"lr": 0.01, "model": {"units": 8}}])


def test_point_values_keeps_parameters_by_name_and_reads_choices_of_tables_whole():
    from tunecore.space import point_values

    space = {**SPACE, "opt": tunecore.choice([{"name": "sgd"}, {"name": "adam"}])}
    assert point_values(space, {**EARLIER, "opt": {"name": "adam"}}) == {
        "lr": 0.01,
        "model/act": "tanh",
        "opt": {"name": "adam"},
    }
    assert point_values(space, {"model/act": "relu"}) == {"model/act": "relu"}
    with pytest.raises(SpaceError, match="'model' holds parameters of the space"):
        point_values(space, {"model": 3})


@pytest.mark.parametrize("module, factory", searchers())
def test_points_beyond_num_samples_are_not_run_and_a_warning_says_so(module, factory):
    if module:
        pytest.importorskip(module)
    points = [{**EARLIER, "lr": lr} for lr in (0.001, 0.002, 0.003)]
    searcher = factory(points)
    with pytest.warns(UserWarning, match="points_to_evaluate has 3 points but num_samples is 2: only the first 2"):
        searcher.setup(SPACE, "loss", "min", 0, 2)
    assert [searcher.suggest(f"t{i}")["lr"] for i in range(2)] == [0.001, 0.002]
