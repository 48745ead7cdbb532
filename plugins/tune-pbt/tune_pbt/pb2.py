"""Population Based Bandits (PB2, Parker-Holder et al. 2020): PBT whose explore step is a GP-UCB bandit."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tune_pbt.population import Exploit, Member
from tune_pbt.scheduler import PopulationScheduler
from tunecore.options import is_finite_number
from tunecore.space import get_path, set_path

MAX_OBSERVATIONS = 200
"""The GP is fitted on the most recent observations only (as Ray Tune's PB2 caps its data), to stay fast."""
MIN_OBSERVATIONS = 2
"""Below this many observations new values are drawn uniformly within the bounds."""

Path = tuple[str, ...]
"""Where a hyperparameter sits in a config: the keys from the top."""


def parse_bounds(bounds: Mapping[str, Any] | None) -> dict[Path, tuple[float, float]]:
    """``{path: (low, high)}`` from nested tables and ``"a/b"`` names; ValueError for anything else."""
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError(
            f"the pb2 scheduler needs hyperparam_bounds, a table like {{'lr': [1e-4, 1e-1]}}, got {bounds!r}"
        )
    parsed: dict[Path, tuple[float, float]] = {}

    def visit(node: Mapping[str, Any], prefix: Path) -> None:
        for key, value in node.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"hyperparam_bounds: keys must be non-empty strings, got {key!r}")
            path = (*prefix, *key.split("/"))
            name = "/".join(path)
            if isinstance(value, Mapping) and value:
                visit(value, path)
                continue
            if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(map(is_finite_number, value))):
                raise ValueError(f"hyperparam_bounds[{name!r}] must be [low, high] (two numbers), got {value!r}")
            low, high = float(value[0]), float(value[1])
            if not low < high:
                raise ValueError(f"hyperparam_bounds[{name!r}] needs low < high, got {value!r}")
            parsed[path] = (low, high)

    visit(bounds, ())
    return parsed


class PB2(PopulationScheduler):
    """PB2: PBT whose explore step picks new values inside ``hyperparam_bounds`` with a time-varying GP-UCB bandit.

    The GP learns how fast the score improves for given hyperparameters, time and starting score from every
    member's progress between its perturbation points; an exploited member takes the donor's checkpoint and
    config with the bounded hyperparameters set to the values that maximise the upper confidence bound at the
    donor's current time and score (see :mod:`tune_pbt.gp`). With fewer than two observations, values are drawn
    uniformly within the bounds. Integer hyperparameters (an int in the config) stay integers.
    """

    name = "pb2"
    explore_option = "hyperparam_bounds"

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        perturbation_interval: float = 60.0,
        hyperparam_bounds: Mapping[str, Any] | None = None,
        quantile_fraction: float = 0.25,
        log_config: bool = True,
        require_attrs: bool = True,
        synch: bool = False,
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            time_attr=time_attr,
            metric=metric,
            mode=mode,
            perturbation_interval=perturbation_interval,
            burn_in_period=0.0,
            quantile_fraction=quantile_fraction,
            custom_explore_fn=custom_explore_fn,
            log_config=log_config,
            require_attrs=require_attrs,
            synch=synch,
            seed=seed,
        )
        self.hyperparam_bounds = parse_bounds(hyperparam_bounds)
        """``{path: (low, high)}`` of every hyperparameter the bandit chooses."""
        self.observations: list[list[float]] = []
        """Rows ``(t, r, h..., y)``: the score's change per unit of time ``y`` over an interval ending at ``t``
        that started at score ``r`` with hyperparameters ``h`` (scaled to the unit cube)."""
        self.anchors: dict[str, tuple[float, float, list[float]]] = {}
        """Per member: ``(time, score, h)`` at the start of its current interval."""
        self.batch: list[list[float]] = []
        """Unit-cube proposals made since the latest observation time."""
        self.batch_time = -math.inf

    def mutated_keys(self) -> list[Path]:
        """The paths of ``hyperparam_bounds``."""
        return list(self.hyperparam_bounds)

    def observe(self, trial_id: str, member: Member) -> None:
        """Record the score's change since the member's previous perturbation point (same hyperparameters)."""
        h = self._unit(member.config)
        anchor = self.anchors.get(trial_id)
        score = member.score if member.score is not None else -math.inf
        if anchor is not None and anchor[2] == h and member.time > anchor[0] and math.isfinite(anchor[1] + score):
            y = (score - anchor[1]) / (member.time - anchor[0])
            self.observations.append([member.time, anchor[1], *h, y])
            del self.observations[:-MAX_OBSERVATIONS]
        self.anchors[trial_id] = (member.time, score, h)

    def restarted(self, trial_id: str, member: Member, exploit: Exploit) -> None:
        """The member's next interval starts now from the donor's score with the new hyperparameters."""
        self.anchors[trial_id] = (member.time, exploit.donor_score, self._unit(member.config))

    def new_config(self, trial_id: str, donor_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The donor's config with the bounded hyperparameters chosen by GP-UCB (uniformly while data is short)."""
        donor = self.members[donor_id]
        config = copy.deepcopy(donor.config)
        if self.observations:
            latest = max(row[0] for row in self.observations)
            if latest > self.batch_time:
                self.batch, self.batch_time = [], latest
        if len(self.observations) < MIN_OBSERVATIONS:
            unit, how = self.rng.random(len(self.hyperparam_bounds)), "random"
        else:
            from tune_pbt.gp import propose  # scikit-learn is imported only when PB2 needs it

            rewards = [row[1] for row in self.observations]
            score = donor.score if donor.score is not None and math.isfinite(donor.score) else min(rewards)
            data = np.array(self.observations, dtype=float)
            unit = propose(data, (donor.time, score), [np.array(b) for b in self.batch], self.rng)
            how = "gp-ucb"
        self.batch.append([float(u) for u in unit])
        operations = {}
        for (path, (low, high)), u in zip(self.hyperparam_bounds.items(), unit, strict=True):
            value: float | int = min(max(low + float(u) * (high - low), low), high)
            current = get_path(donor.config, path)
            if isinstance(current, numbers.Integral) and not isinstance(current, bool):
                value = int(min(max(round(value), math.ceil(low)), math.floor(high)))
            set_path(config, path, value)
            operations["/".join(path)] = how
        return config, operations

    def extra_state(self) -> dict[str, Any]:
        """The bandit's data."""
        return {
            "observations": self.observations,
            "anchors": self.anchors,
            "batch": self.batch,
            "batch_time": self.batch_time,
        }

    def restore_extra(self, state: dict[str, Any]) -> None:
        """Restore the bandit's data."""
        self.observations, self.anchors = state["observations"], state["anchors"]
        self.batch, self.batch_time = state["batch"], state["batch_time"]

    def _unit(self, config: dict[str, Any]) -> list[float]:
        """The bounded hyperparameters of ``config`` scaled to the unit cube (not clipped)."""
        unit = []
        for path, (low, high) in self.hyperparam_bounds.items():
            value = get_path(config, path)
            unit.append((float(value) - low) / (high - low) if is_finite_number(value) else 0.5)
        return unit
