"""The ``skopt`` searcher: scikit-optimize's ``Optimizer`` (GP, random forest, extra trees or GBRT models)."""

from __future__ import annotations

from typing import Any

from tune_bayesopt.base import LibrarySearcher, Values
from tune_bayesopt.skopt_space import skopt_space
from tune_bayesopt.values import ValueMap
from tunecore.errors import ConfigError
from tunecore.options import check_choice, check_dict, check_int
from tunecore.space import Parameter

BASE_ESTIMATORS = ("GP", "RF", "ET", "GBRT")
"""The ``base_estimator`` option."""
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")
"""The ``acq_func`` option."""
_OWN_OPTIONS = ("dimensions", "random_state", "base_estimator", "acq_func", "n_initial_points")
"""``skopt.Optimizer`` arguments the searcher sets itself (not in ``optimizer_options``)."""


class SkoptSearcher(LibrarySearcher):
    """scikit-optimize's ask-and-tell ``Optimizer``, with a constant liar for trials still running.

    The first ``n_initial_points`` suggestions are random. After that, while other trials are pending, the
    suggestion comes from a copy of the optimizer told that every pending point scored the best value seen so
    far (scikit-optimize's ``cl_min`` strategy), so parallel trials never get the same point. A trial that
    failed or reported no metric is skipped. ``optimizer_options`` go to ``skopt.Optimizer`` (e.g.
    ``acq_optimizer``, ``n_points``, ``acq_func_kwargs``).
    """

    searcher_name = "skopt"

    def __init__(
        self,
        base_estimator: str = "GP",
        acq_func: str = "gp_hedge",
        n_initial_points: int = 10,
        optimizer_options: dict[str, Any] | None = None,
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
        self.base_estimator = check_choice("base_estimator", base_estimator, BASE_ESTIMATORS)
        self.acq_func = check_choice("acq_func", acq_func, ACQ_FUNCS)
        self.n_initial_points = check_int("n_initial_points", n_initial_points, minimum=1)
        self.optimizer_options = check_dict("optimizer_options", optimizer_options)
        reserved = sorted(set(self.optimizer_options) & set(_OWN_OPTIONS))
        if reserved:
            raise ValueError(
                f"optimizer_options {reserved}: give these as the searcher's own options (seed for the"
                " random state); the dimensions come from the space"
            )
        self.dimensions: list[Any] = []
        """The scikit-optimize dimensions of the searched parameters, in space order."""
        self.optimizer: Any = None
        """The ``skopt.Optimizer``, told every finished trial."""

    def _convert(self, parameters: list[Parameter]) -> dict[str, ValueMap]:
        maps, self.dimensions = skopt_space(parameters, self.searcher_name)
        return maps

    def _start(self) -> None:
        from skopt import Optimizer

        from tune_bayesopt.skopt_gbrt import gbrt

        if not self.dimensions:  # nothing to search: every parameter has one value
            self.optimizer = None
            return
        options = {"model_queue_size": 1, **self.optimizer_options}  # keep one fitted model, not every one
        try:
            self.optimizer = Optimizer(
                self.dimensions,
                base_estimator=gbrt(self.seed) if self.base_estimator == "GBRT" else self.base_estimator,
                acq_func=self.acq_func,
                n_initial_points=self.n_initial_points,
                random_state=self.seed,
                **options,
            )
        except TypeError as exc:
            raise ConfigError(f"searcher 'skopt': optimizer_options {self.optimizer_options!r}: {exc}") from exc

    def _tell_evaluated(self, points: list[Values], rewards: list[list[float]]) -> None:
        if self.optimizer is not None:
            self.optimizer.tell([self._point(values) for values in points], [self._loss(r) for r in rewards])

    def _ask(self, trial_id: str, fixed: dict[str, Any] | None) -> Values:
        if self.optimizer is None:
            x: list[Any] = []
        elif fixed is not None:
            x = self._point(self._encode(self._complete(0, fixed)))
        elif self._pending and len(self.optimizer.yi) >= self.n_initial_points:
            liar = self.optimizer.copy(random_state=int(self._rng.integers(2**31 - 1)))
            lie = min(self.optimizer.yi)
            liar.tell(list(self._pending.values()), [lie] * len(self._pending))
            x = liar.ask()
        else:
            x = self.optimizer.ask()
        x = [v.item() if hasattr(v, "item") else v for v in x]
        self._pending[trial_id] = x
        return {m.name: value for m, value in zip(self.searched, x, strict=True)}

    def _tell(self, handle: list[Any], values: list[float] | None, *, stopped: bool, error: bool) -> None:
        if values is not None and self.optimizer is not None:
            self.optimizer.tell(handle, self._loss(values))

    def _state(self) -> Any:
        return self.optimizer

    def _set_state(self, state: Any, pending: dict[str, Any]) -> None:
        self.optimizer = state
        self._pending = pending

    def _point(self, values: Values) -> list[Any]:
        return [values[m.name] for m in self.searched]
