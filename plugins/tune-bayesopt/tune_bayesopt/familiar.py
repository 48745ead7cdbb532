"""Ray Tune's class names for the searchers, with Ray's constructor arguments.

Each class is the tunecore searcher (:class:`OptunaSearcher`, :class:`HyperoptSearcher`, :class:`SkoptSearcher`,
:class:`BOHBSearcher`) with Ray's argument names mapped onto its options; the behaviour is the searcher's own.
Ray's arguments that have no equivalent here (an Optuna ``storage``, a ready ``skopt.Optimizer``, ...) are
ValueErrors naming them. ``space``, when given, is a search space of tunecore domains that the searcher uses
instead of the Tuner's ``param_space`` (which may then hold constants only), as in Ray.
"""

from __future__ import annotations

import numbers
from typing import Any

from tune_bayesopt.bohb import BOHBSearcher
from tune_bayesopt.hyperopt_searcher import HyperoptSearcher
from tune_bayesopt.optuna_searcher import OptunaSearcher
from tune_bayesopt.skopt_searcher import SkoptSearcher
from tunecore.options import check_dict
from tunecore.protocols import Finished


def _refuse(cls: str, argument: str, value: Any, why: str) -> None:
    if value is not None:
        raise ValueError(f"{cls}: {argument} is not supported ({why}), got {value!r}")


class OptunaSearch(OptunaSearcher):
    """Ray Tune's ``OptunaSearch``: the ``optuna`` searcher with Ray's arguments.

    ``sampler`` is an Optuna sampler instance (seeded by you) or a sampler name of :class:`OptunaSearcher`;
    None is TPE seeded with ``seed`` (else ``TuneConfig.seed``). ``evaluated_rewards`` (one per point of
    ``points_to_evaluate``, a list per point for several metrics) are told to the study at setup and not run.
    ``study_name`` and ``storage`` are refused: the study lives in memory and is saved with the experiment.
    ``sampler_options`` and ``prune_stopped`` are :class:`OptunaSearcher`'s.
    """

    def __init__(
        self,
        space: dict[str, Any] | None = None,
        metric: str | list[str] | None = None,
        mode: str | list[str] | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        sampler: Any = None,
        study_name: str | None = None,
        storage: Any = None,
        seed: int | None = None,
        evaluated_rewards: list[Any] | None = None,
        *,
        sampler_options: dict[str, Any] | None = None,
        prune_stopped: bool = False,
    ) -> None:
        why = "the study is kept in memory and saved with the experiment, which resume continues"
        _refuse("OptunaSearch", "study_name", study_name, why)
        _refuse("OptunaSearch", "storage", storage, why)
        super().__init__(
            sampler="tpe" if sampler is None else sampler,
            sampler_options=sampler_options,
            prune_stopped=prune_stopped,
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self._set_own_space(space, "OptunaSearch")


class HyperOptSearch(HyperoptSearcher):
    """Ray Tune's ``HyperOptSearch``: the ``hyperopt`` searcher's TPE with Ray's arguments.

    ``random_state_seed`` is the seed (else ``TuneConfig.seed``); ``n_initial_points`` and ``gamma`` are
    TPE's, None meaning Hyperopt's defaults (20 and 0.25) as in Ray. ``evaluated_rewards`` (one per point of
    ``points_to_evaluate``) go into the trials at setup and are not run: an extension, Ray's class has none.
    """

    def __init__(
        self,
        space: dict[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        n_initial_points: int | None = 20,
        random_state_seed: int | None = None,
        gamma: float | None = 0.25,
        *,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(
            algo="tpe",
            n_initial_points=20 if n_initial_points is None else n_initial_points,
            gamma=0.25 if gamma is None else gamma,
            metric=metric,
            mode=mode,
            seed=random_state_seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self._set_own_space(space, "HyperOptSearch")


class SkOptSearch(SkoptSearcher):
    """Ray Tune's ``SkOptSearch``: the ``skopt`` searcher with Ray's arguments.

    ``evaluated_rewards`` (one per point of ``points_to_evaluate``) are told to the optimizer at setup and not
    run. A ready ``optimizer`` is refused: the searcher builds its ``skopt.Optimizer`` from the space, with
    scikit-optimize's defaults (a GP, ``gp_hedge``, 10 initial points) or :class:`SkoptSearcher`'s options
    ``base_estimator``, ``acq_func``, ``n_initial_points``, ``optimizer_options`` and ``seed`` (keywords).
    Configs always hold Python values, so ``convert_to_python`` must stay True.
    """

    def __init__(
        self,
        optimizer: Any = None,
        space: dict[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        evaluated_rewards: list[Any] | None = None,
        convert_to_python: bool = True,
        *,
        base_estimator: str = "GP",
        acq_func: str = "gp_hedge",
        n_initial_points: int = 10,
        optimizer_options: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        _refuse(
            "SkOptSearch",
            "optimizer",
            optimizer,
            "the optimizer is built from the space; give base_estimator, acq_func, n_initial_points,"
            " optimizer_options and seed instead",
        )
        if convert_to_python is not True:
            raise ValueError(
                f"SkOptSearch: convert_to_python={convert_to_python!r} is not supported: configs always hold"
                " Python values (convert_to_python=True)"
            )
        super().__init__(
            base_estimator=base_estimator,
            acq_func=acq_func,
            n_initial_points=n_initial_points,
            optimizer_options=optimizer_options,
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self._set_own_space(space, "SkOptSearch")


BOHB_CONFIG = (
    "min_points_in_model",
    "top_n_percent",
    "num_samples",
    "random_fraction",
    "bandwidth_factor",
    "min_bandwidth",
)
"""The keys of :class:`TuneBOHB`'s ``bohb_config``: hpbandster's BOHB arguments that :class:`BOHBSearcher` has."""


class TuneBOHB(BOHBSearcher):
    """Ray Tune's ``TuneBOHB``: the ``bohb`` searcher with Ray's arguments (no hpbandster or ConfigSpace needed).

    ``bohb_config`` holds hpbandster's BOHB arguments (:data:`BOHB_CONFIG`, the searcher's options of the same
    names); any other key is a ValueError naming it. ``max_concurrent`` > 0 makes ``suggest`` answer None
    ("not now") while that many trials are pending, as in Ray; 0 or less is no limit. A ConfigSpace space is
    refused: give tunecore domains. ``time_attr`` (keyword only) is the budget's result field.
    """

    def __init__(
        self,
        space: dict[str, Any] | None = None,
        bohb_config: dict[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        seed: int | None = None,
        max_concurrent: int = 0,
        *,
        time_attr: str = "training_iteration",
    ) -> None:
        options = check_dict("bohb_config", bohb_config)
        unknown = sorted(set(options) - set(BOHB_CONFIG))
        if unknown:
            raise ValueError(f"TuneBOHB: bohb_config keys {unknown} are not supported; use {', '.join(BOHB_CONFIG)}")
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, numbers.Integral):
            raise ValueError(
                f"TuneBOHB: max_concurrent must be an integer (0 or less: no limit), got {max_concurrent!r}"
            )
        self.max_concurrent: int = int(max_concurrent)
        """Pending trials at most (0 or less: no limit)."""
        super().__init__(
            **options,
            time_attr=time_attr,
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
        )
        self._set_own_space(space, "TuneBOHB")

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished | None:
        """The searcher's next config, or None while ``max_concurrent`` trials are pending."""
        if self.max_concurrent > 0 and len(self._pending) >= self.max_concurrent:
            return None
        return super().suggest(trial_id)
