"""Population Based Training (Jaderberg et al. 2017) with Ray Tune's PopulationBasedTraining options and defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import tunecore
from tune_pbt._checks import check_factors
from tune_pbt.mutations import check_functions, explore, parse_mutations
from tune_pbt.scheduler import PopulationScheduler
from tunecore.options import check_fraction


class PopulationBasedTraining(PopulationScheduler):
    """PBT: at each perturbation point the bottom quantile copies a top member's checkpoint and perturbed config.

    Exploit: a member in the bottom ``quantile_fraction`` restarts from the latest checkpoint of a random member
    of the top ``quantile_fraction``, with that member's config explored: each key of ``hyperparam_mutations``
    is resampled with ``resample_probability``, else a number is multiplied by one of ``perturbation_factors``
    (kept inside its domain's bounds) and a list value moves to a neighbour; ``custom_explore_fn(config)``
    then may change the result. A donor without a checkpoint does not donate (the exploit is skipped).
    ``synch`` waits for the whole population at each perturbation point. See :mod:`tune_pbt.scheduler`.
    """

    name = "pbt"

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        perturbation_interval: float = 60.0,
        burn_in_period: float = 0.0,
        hyperparam_mutations: Mapping[str, Any] | None = None,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: tuple[float, ...] = (1.2, 0.8),
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        log_config: bool = True,
        require_attrs: bool = True,
        synch: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            time_attr=time_attr,
            metric=metric,
            mode=mode,
            perturbation_interval=perturbation_interval,
            burn_in_period=burn_in_period,
            quantile_fraction=quantile_fraction,
            custom_explore_fn=custom_explore_fn,
            log_config=log_config,
            require_attrs=require_attrs,
            synch=synch,
            seed=seed,
        )
        self.hyperparam_mutations = parse_mutations(hyperparam_mutations)
        """``{path: mutation}``: a domain, a list of values or a function per explored hyperparameter."""
        self.resample_probability = check_fraction("resample_probability", resample_probability)
        self.perturbation_factors = check_factors(perturbation_factors)
        if not self.hyperparam_mutations and self.custom_explore_fn is None:
            raise ValueError(
                "the pbt scheduler needs hyperparam_mutations (e.g. {'lr': loguniform(1e-4, 1e-1)}) or a"
                " custom_explore_fn: there is nothing to explore"
            )

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """A new member joins; a ``sample_from`` mutation that fails on its config is an error now."""
        super().on_trial_add(trial)
        check_functions(trial.config, self.hyperparam_mutations, trial.trial_id, "hyperparam_mutations")

    def mutated_keys(self) -> list[tuple[str, ...]]:
        """The paths of ``hyperparam_mutations``."""
        return list(self.hyperparam_mutations)

    def new_config(self, trial_id: str, donor_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The donor's config, perturbed or resampled per ``hyperparam_mutations``."""
        return explore(
            self.members[donor_id].config,
            self.hyperparam_mutations,
            self.rng,
            self.resample_probability,
            self.perturbation_factors,
        )
