"""The searchers: ``evolution`` (steady-state genetic algorithm) and ``regularized_evolution`` (aging evolution).

Both keep a population of evaluated configs and are asynchronous: every ``suggest`` breeds a child from
the population as it is now, whatever is still running, and a finished trial joins the population when
it completes. The first ``population_size`` configs are ``points_to_evaluate`` then random ones. With
``evaluated_rewards`` the points were evaluated already: they join the population at setup instead of
running, and take the place of as many initial random configs.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from tune_evolution import operators
from tune_evolution.operators import Genome
from tunecore import best
from tunecore.options import (
    check_fraction,
    check_int,
    check_metric,
    check_mode,
    check_number,
    check_objective,
    check_points,
    check_rewards,
    check_seed,
    is_finite_number,
)
from tunecore.protocols import Searcher
from tunecore.space import Parameter, get_path, point_values, points_within, sample_config

if TYPE_CHECKING:
    import numpy as np

STATE_VERSION = 1
"""Version of the data returned by ``save()``."""
_MULTI_OBJECTIVE = "; for several metrics, use the multi-objective 'optuna' searcher (pip install tune-bayesopt)"


@attrs.frozen
class Member:
    """One evaluated config of the population."""

    trial_id: str
    """The trial that evaluated it."""
    genome: Genome
    """Its genes by parameter name."""
    score: float
    """The metric, negated in mode ``max`` so that lower is better; ``inf`` for NaN, inf or a missing metric."""


class PopulationSearcher(Searcher):
    """What both searchers share: options, initial configs, results, scores and ``save``/``restore``.

    Subclasses implement :meth:`breed` (a child genome from the population) and :meth:`admit` (add a
    member, removing one when the population is over ``population_size``).
    """

    name: ClassVar[str] = "population"
    """The registered name, used in messages."""

    def __init__(
        self,
        population_size: int,
        mutation_scale: float,
        points_to_evaluate: list[dict[str, Any]] | None,
        metric: str | None,
        mode: str | None,
        seed: int | None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        self.population_size = check_int("population_size", population_size, minimum=2)
        self.mutation_scale = check_number("mutation_scale", mutation_scale)
        self.points_to_evaluate = check_points(points_to_evaluate)
        self.evaluated_rewards = check_rewards(evaluated_rewards, points_to_evaluate)
        """The metric value of each of ``points_to_evaluate``, already evaluated (None: run the points)."""
        self._warm = 0
        self._points: list[dict[str, Any]] = []
        self._options = (check_metric(metric, hint=_MULTI_OBJECTIVE), check_mode(mode), check_seed(seed))
        self.population: list[Member] = []
        """The current population, oldest first."""
        self._pending: dict[str, Genome] = {}
        self._proposed = 0
        self._space: dict[str, Any] = {}
        self._genes: list[Parameter] = []
        self._rng: np.random.Generator | None = None

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Check the space and the metric; seed the generator (the searcher's own options win)."""
        import numpy as np

        own_metric, own_mode, own_seed = self._options
        metric, mode = check_objective(
            f"the {self.name} searcher", metric, mode, own_metric=own_metric, own_mode=own_mode, hint=_MULTI_OBJECTIVE
        )
        super().setup(space, metric, mode, seed, num_samples)
        self._space = space
        self._genes = operators.genes_of(space, self.name)
        self._rng = np.random.default_rng(own_seed if own_seed is not None else seed)
        self.population, self._pending, self._proposed, self._warm = [], {}, 0, 0
        points = [  # fail at setup, not in the middle of the run
            point_values(space, point, f"points_to_evaluate[{index}]")
            for index, point in enumerate(self.points_to_evaluate)
        ]
        self._points = points_within(points, num_samples) if self.evaluated_rewards is None else points
        for point in self._points:
            sample_config(space, np.random.default_rng(0), point)
        if self.evaluated_rewards is not None:
            self._warm_start(self._points, self.evaluated_rewards, metric)

    def _warm_start(self, points: list[dict[str, Any]], rewards: list[Any], metric: str) -> None:
        """The evaluated points join the population (in order, as if they had just completed), not to be run."""
        assert self._rng is not None
        for index, (point, reward) in enumerate(zip(points, rewards, strict=True)):
            missing = [gene.name for gene in self._genes if gene.name not in point]
            if missing:
                raise ValueError(
                    f"points_to_evaluate[{index}] misses {missing}: a point with an evaluated reward needs every"
                    " parameter"
                )
            if not is_finite_number(reward):
                raise ValueError(f"evaluated_rewards[{index}] must be a finite number (the metric), got {reward!r}")
            genome = {gene.name: copy.deepcopy(point[gene.name]) for gene in self._genes}
            self.admit(Member(f"evaluated_rewards[{index}]", genome, self.score({metric: reward})), self._rng)
        self._points, self._warm = [], len(points)

    def suggest(self, trial_id: str) -> dict[str, Any]:
        """The next point to evaluate, a random config while the population fills, else a child."""
        if self._rng is None:
            raise RuntimeError(f"{self.name}: call setup() before suggest()")
        if self._proposed < len(self._points):
            config = sample_config(self._space, self._rng, self._points[self._proposed])
        elif self._proposed + self._warm < self.population_size or not self.population:
            config = sample_config(self._space, self._rng)
        else:
            config = sample_config(self._space, self._rng, self.breed(self._rng))
        self._pending[trial_id] = {gene.name: copy.deepcopy(get_path(config, gene.path)) for gene in self._genes}
        self._proposed += 1
        return config

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None, error: bool = False) -> None:
        """Add the trial to the population; failed trials and trials without a result are forgotten."""
        genome = self._pending.pop(trial_id, None)
        if genome is None or error or result is None:
            return
        assert self._rng is not None
        self.admit(Member(trial_id, genome, self.score(result)), self._rng)

    def score(self, result: dict[str, Any]) -> float:
        """Lower is better: the metric (negated in mode max); ``inf`` when it is missing or not a finite number
        (:func:`tunecore.best.score`, negated)."""
        metric, mode = self.metric, self.mode
        if not isinstance(metric, str) or not isinstance(mode, str):  # only before setup(), which sets one of each
            return math.inf
        return -best.score(result.get(metric), mode)

    def breed(self, rng: np.random.Generator) -> Genome:
        """A child genome from the current (non-empty) population."""
        raise NotImplementedError

    def admit(self, member: Member, rng: np.random.Generator) -> None:
        """Add ``member``; remove one member when there are more than ``population_size``."""
        raise NotImplementedError

    def save(self) -> dict[str, Any]:
        """The population, the trials still running, the count of proposals and the generator's state."""
        assert self._rng is not None
        return {
            "version": STATE_VERSION,
            "population": [(m.trial_id, m.genome, m.score) for m in self.population],
            "pending": dict(self._pending),
            "proposed": self._proposed,
            "rng": self._rng.bit_generator.state,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue with the same population and random stream (after ``setup`` with the same space)."""
        import numpy as np

        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.name}: cannot restore state {type(state).__name__} of an unknown version")
        self.population = [Member(*member) for member in state["population"]]
        self._pending = dict(state["pending"])
        self._proposed = state["proposed"]
        if self._rng is None:
            self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]


class EvolutionSearcher(PopulationSearcher):
    """Steady-state genetic algorithm: tournament selection, uniform crossover, type-aware mutation.

    Each child has a first parent chosen by a tournament of ``tournament_size``; with probability
    ``crossover_rate`` a second one (another tournament) and each gene from either parent; then each gene
    mutates with probability ``mutation_rate`` (at least one does when the child would copy a parent).
    A finished child joins the population; when it is over ``population_size``, the loser of a reversed
    tournament among all but the ``elitism`` best members is removed.
    """

    name: ClassVar[str] = "evolution"

    def __init__(
        self,
        population_size: int = 20,
        tournament_size: int = 3,
        crossover_rate: float = 0.8,
        mutation_rate: float = 0.1,
        elitism: int = 1,
        mutation_scale: float = 0.1,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(population_size, mutation_scale, points_to_evaluate, metric, mode, seed, evaluated_rewards)
        self.tournament_size = check_int("tournament_size", tournament_size, minimum=1)
        self.crossover_rate = check_fraction("crossover_rate", crossover_rate)
        self.mutation_rate = check_fraction("mutation_rate", mutation_rate)
        self.elitism = check_int("elitism", elitism, minimum=0, maximum=self.population_size - 1)

    def breed(self, rng: np.random.Generator) -> Genome:
        """Tournament, maybe crossover with a second tournament winner, then mutation."""
        scores = [member.score for member in self.population]
        parents = [self.population[operators.tournament(scores, self.tournament_size, rng)].genome]
        child = parents[0]
        if rng.random() < self.crossover_rate:
            parents.append(self.population[operators.tournament(scores, self.tournament_size, rng)].genome)
            child = operators.uniform_crossover(parents[0], parents[1], rng)
        child = operators.mutate(child, self._genes, rng, self.mutation_rate, self.mutation_scale)
        if child in parents:  # evaluating a parent again teaches nothing
            child = operators.mutate_one(child, self._genes, rng, self.mutation_scale)
        return child

    def admit(self, member: Member, rng: np.random.Generator) -> None:
        """Add the member; if over size, remove the worst of a tournament among the non-elite members."""
        self.population.append(member)
        if len(self.population) <= self.population_size:
            return
        ranked = sorted(range(len(self.population)), key=lambda i: self.population[i].score)
        candidates = ranked[self.elitism :]
        negated = [-self.population[i].score for i in candidates]
        del self.population[candidates[operators.tournament(negated, self.tournament_size, rng)]]


class RegularizedEvolutionSearcher(PopulationSearcher):
    """Regularized (aging) evolution, Real et al. 2019: the best of ``sample_size`` random members is mutated.

    The parent is the best of ``sample_size`` members drawn at random; the child is the parent with one
    gene mutated. A finished child joins the population and, once it is over ``population_size``, the
    oldest member dies, however good it is.
    """

    name: ClassVar[str] = "regularized_evolution"

    def __init__(
        self,
        population_size: int = 50,
        sample_size: int = 10,
        mutation_scale: float = 0.1,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(population_size, mutation_scale, points_to_evaluate, metric, mode, seed, evaluated_rewards)
        self.sample_size = check_int("sample_size", sample_size, minimum=1)

    def breed(self, rng: np.random.Generator) -> Genome:
        """The best of a random sample, with one gene mutated."""
        scores = [member.score for member in self.population]
        parent = self.population[operators.tournament(scores, self.sample_size, rng)]
        return operators.mutate_one(parent.genome, self._genes, rng, self.mutation_scale)

    def admit(self, member: Member, rng: np.random.Generator) -> None:
        """Add the member; the oldest dies when the population is over size."""
        self.population.append(member)
        if len(self.population) > self.population_size:
            del self.population[0]
