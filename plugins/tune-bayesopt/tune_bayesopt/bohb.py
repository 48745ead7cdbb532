"""The ``bohb`` searcher: BOHB's density model (Falkner et al. 2018) in numpy, for HyperBand or ASHA.

Every result of a trial is an observation at the budget its ``time_attr`` says
(:mod:`tune_bayesopt.observations`). A proposal is random with probability ``random_fraction``, and while
no budget has ``min_points_in_model`` observations; otherwise the model of the highest such budget is fitted:
a kernel density ``l`` of its best ``top_n_percent`` points and ``g`` of the rest, with ``stopped_are_bad``
also of the trials stopped below that budget (in the model space of :mod:`tune_bayesopt.coordinates`; with
``estimator="tpe"`` TPE's Parzen estimator, :mod:`tune_bayesopt.parzen`, with ``"hpbandster"`` hpbandster's
normal-reference one, :mod:`tune_bayesopt.kde`; ``magic_clip`` bounds the bandwidths below, ``prior_weight``
adds a prior);
``num_samples`` candidates are drawn from ``l`` with its bandwidths widened by ``bandwidth_factor``, and the
candidate with the largest ``l(x) / g(x)`` is proposed. The scheduler (``hyperband``, ``asha``) decides the
budgets; the searcher only proposes configs.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs

from tune_bayesopt.base import LibrarySearcher, Values
from tune_bayesopt.coordinates import Coordinate, coordinate
from tune_bayesopt.fidelity import FidelityCheck, message
from tune_bayesopt.kde import KernelDensity
from tune_bayesopt.observations import Observations, Point
from tune_bayesopt.parzen import fit_parzen
from tune_bayesopt.values import ValueMap, value_map
from tunecore.best import observation, score
from tunecore.options import check_bool, check_choice, check_fraction, check_int, check_number, check_text, finite_float
from tunecore.space import Parameter

ESTIMATORS = ("tpe", "hpbandster")
"""The values of the ``estimator`` option."""
_FLOOR = -700.0
"""Log densities are floored here (about 1e-304) before ``l / g`` is compared: an empty region is unlikely."""


@attrs.frozen
class Proposal:
    """A pending trial's handle: its id and its point in model space."""

    trial_id: str
    """The trial."""
    point: Point
    """Its coordinates."""


class BOHBSearcher(LibrarySearcher):
    """BOHB's TPE-style density model over the results of a multi-fidelity scheduler (HyperBand, ASHA).

    Self-contained (numpy only): no hpbandster or ConfigSpace. The model is refitted from the observations at
    every proposal, so :meth:`save` holds the observations and the random state, and a restored searcher
    proposes exactly what the live one would. Without a multi-fidelity scheduler it still works, on full
    budgets, and warns once (:mod:`tune_bayesopt.fidelity`).
    """

    searcher_name = "bohb"

    def __init__(
        self,
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 24,
        random_fraction: float = 0.1,
        bandwidth_factor: float = 1,
        min_bandwidth: float = 1e-3,
        prior_weight: float = 1.0,
        magic_clip: bool = True,
        stopped_are_bad: bool = True,
        estimator: str = "tpe",
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self.min_points_in_model = (
            None if min_points_in_model is None else check_int("min_points_in_model", min_points_in_model, minimum=1)
        )
        self.top_n_percent = check_fraction("top_n_percent", top_n_percent, maximum=100, exclusive=True)
        self.num_samples = check_int("num_samples", num_samples, minimum=1)
        self.random_fraction = check_fraction("random_fraction", random_fraction)
        self.bandwidth_factor = check_number("bandwidth_factor", bandwidth_factor)
        self.min_bandwidth = check_number("min_bandwidth", min_bandwidth)
        self.prior_weight = check_number("prior_weight", prior_weight, strict=False)
        self.magic_clip = check_bool("magic_clip", magic_clip)
        self.stopped_are_bad = check_bool("stopped_are_bad", stopped_are_bad)
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        """``"tpe"``: TPE's Parzen estimator (:mod:`tune_bayesopt.parzen`); ``"hpbandster"``: hpbandster's."""
        checked = check_text("time_attr", time_attr)
        assert checked is not None  # not optional: None is a ValueError
        self.time_attr = checked
        """The result field whose value is a result's budget."""
        self.coordinates: list[Coordinate] = []
        """The model-space coordinate of each searched parameter, in space order."""
        self.min_points = 1
        """Observations a budget needs for a model: ``min_points_in_model``, else the number of parameters + 1."""
        self.observations = Observations()
        """Every finite observation, by budget and trial."""
        self.fidelity = FidelityCheck()
        """The evidence about the scheduler, for the warning."""
        self.last_budget: float | None = None
        """The budget of the model behind the latest proposal (None: random, from ``points_to_evaluate``, or
        modelled on ``evaluated_rewards`` alone)."""

    # --- LibrarySearcher's hooks -------------------------------------------------------------------------

    def _convert(self, parameters: list[Parameter]) -> dict[str, ValueMap]:
        return {p.name: value_map(p, self.searcher_name, normal=True) for p in parameters}

    def _start(self) -> None:
        self.coordinates = [coordinate(m) for m in self.searched]
        self.min_points = self.min_points_in_model or len(self.coordinates) + 1
        self.observations = Observations()
        self.fidelity = FidelityCheck()
        self.last_budget = None

    def _tell_evaluated(self, points: list[Values], rewards: list[list[float]]) -> None:
        for values, reward in zip(points, rewards, strict=True):
            self.observations.evaluated.append((self._point(values), score(reward[0], self.modes[0])))

    def _ask(self, trial_id: str, fixed: dict[str, Any] | None) -> Values:
        self.last_budget = None
        if fixed is not None:
            values = self._encode(self._complete(0, fixed))
        else:
            values = {c.name: c.decode(u) for c, u in zip(self.coordinates, self._propose(), strict=True)}
        point = self._point(values)  # where the config proposed sits: a step's centre, a whole category
        self._pending[trial_id] = Proposal(trial_id, point)
        return values

    def _report(self, handle: Proposal, result: dict[str, Any]) -> None:
        budget = finite_float(result.get(self.time_attr))
        self.fidelity.result(handle.trial_id, budget)
        values = observation(result, self.metrics)
        if budget is not None and values is not None:
            self.observations.add(handle.trial_id, budget, handle.point, score(values[0], self.modes[0]))

    def _tell(self, handle: Proposal, values: list[float] | None, *, stopped: bool, error: bool) -> None:
        last = self._limit != -1 and self._count >= self._limit
        due = self.fidelity.ended_trial(handle.trial_id, pending=len(self._pending), last=last, failed=error)
        if due is not None:
            warnings.warn(message(due[0], self.time_attr, due[1]), UserWarning, stacklevel=3)

    def _state(self) -> Any:
        return {"observations": self.observations.state(), "fidelity": self.fidelity.state()}

    def _set_state(self, state: Any, pending: dict[str, Any]) -> None:
        self.observations = Observations.from_state(state["observations"])
        self.fidelity = FidelityCheck.from_state(state["fidelity"])
        self._pending = pending

    # --- the model ---------------------------------------------------------------------------------------

    def _propose(self) -> Point:
        """A random point (``random_fraction`` of the time, or without a model), else the model's best candidate."""
        if not self.coordinates:
            return []
        use_random = self._rng.random() < self.random_fraction
        running = set(self._pending) if self.stopped_are_bad else None
        data = (
            None
            if use_random
            else self.observations.training_set(self.min_points, self.top_n_percent / 100, running=running)
        )
        if data is None:
            return [c.prior(self._rng) for c in self.coordinates]
        good, bad = (self._density(data.good), self._density(data.bad))
        candidates = good.sample(self._rng, self.num_samples, self.bandwidth_factor)
        import numpy as np

        ratio = np.maximum(good.log_pdf(candidates), _FLOOR) - np.maximum(bad.log_pdf(candidates), _FLOOR)
        self.last_budget = data.budget
        return [float(u) for u in candidates[int(np.argmax(ratio))]]

    def _density(self, points: list[Point]) -> KernelDensity:
        """The density of ``points`` that ``estimator`` names."""
        dimensions = [c.dimension for c in self.coordinates]
        prior, clip = self.prior_weight, self.magic_clip
        if self.estimator == "tpe":
            return fit_parzen(dimensions, points, prior_weight=prior, magic_clip=clip)
        return KernelDensity.fit(dimensions, points, self.min_bandwidth, prior_weight=prior, magic_clip=clip)

    def _point(self, values: Values) -> Point:
        """The model-space point of complete library values."""
        return [c.encode(values[c.name]) for c in self.coordinates]
