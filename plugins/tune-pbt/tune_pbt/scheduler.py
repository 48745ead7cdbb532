"""What PBT and PB2 share: the population, perturbation points (asynchronous or synchronous) and exploits.

Asynchronous mode (Ray Tune's default): a member reaching a perturbation point (``perturbation_interval``
after its last one, past ``burn_in_period``) is ranked among the live members; in the bottom quantile it
restarts from the latest checkpoint of a random member of the top quantile with an explored copy of that
member's config. Members are time-multiplexed when the population does not fit the executor: at a
perturbation point a member pauses while another waits (or while more members may still join), and the
member with the least progress runs next.

Synchronous mode (``synch``): members pause at each perturbation point until every live member reached it
(members that end or fail leave the population); then the bottom quantile is exploited at once, and each of
them restarts at its next result. Donors wait, paused, until their recipients have restarted, so that their
checkpoint is the one ranked (and is pinned by the core from then on).
"""

from __future__ import annotations

import copy
import logging
import math
import numbers
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import tunecore
from tune_pbt.mutations import check_keys
from tune_pbt.policy import PolicyLog, policy_record
from tune_pbt.population import Exploit, Member, quantiles
from tunecore import best
from tunecore.options import (
    check_bool,
    check_callable,
    check_fraction,
    check_metric,
    check_mode,
    check_number,
    check_objective,
    check_seed,
    check_text,
)

logger = logging.getLogger("tune_pbt")
"""Where skipped exploits are reported (at INFO level)."""


class PopulationScheduler(tunecore.Scheduler):
    """The population mechanics of PBT and PB2; subclasses choose the new config (:meth:`new_config`)."""

    name = "pbt"
    """The registered name, for messages (and the prefix of the policy files)."""
    explore_option = "hyperparam_mutations"
    """The option naming the explored hyperparameters, for messages."""

    def __init__(
        self,
        *,
        time_attr: str,
        metric: str | None,
        mode: str | None,
        perturbation_interval: float,
        burn_in_period: float,
        quantile_fraction: float,
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None,
        log_config: bool,
        require_attrs: bool,
        synch: bool,
        seed: int | None,
    ) -> None:
        check_text("time_attr", time_attr)  # raises unless a non-empty string (never returns None here)
        self.time_attr: str = time_attr
        self._metric_option = check_metric(metric)
        self._mode_option = check_mode(mode)
        self.metric, self.mode = self._metric_option, self._mode_option
        self.perturbation_interval = check_number("perturbation_interval", perturbation_interval)
        self.burn_in_period = check_number("burn_in_period", burn_in_period, strict=False)
        self.quantile_fraction = check_fraction("quantile_fraction", quantile_fraction, maximum=0.5)
        self.custom_explore_fn = check_callable("custom_explore_fn", custom_explore_fn)
        self.log_config = check_bool("log_config", log_config)
        self.require_attrs = check_bool("require_attrs", require_attrs)
        self.synch = check_bool("synch", synch)
        self.seed = check_seed(seed)
        self.policy = PolicyLog(self.name)
        self.members: dict[str, Member] = {}
        """The live population, by trial id."""
        self.failed: dict[str, Member] = {}
        """Members that failed: they rejoin if the trial runs again (``Tuner.restore(..., resume_errored=True)``)."""
        self.rng = np.random.default_rng(seed)
        self.next_sync = max(self.perturbation_interval, self.burn_in_period)
        """Synchronous mode: the next perturbation point every member must reach."""
        self.open = True
        """True until the searcher had no trial to give: members may still join."""
        self.skipped_exploits = 0
        """Exploits skipped because the donor had no checkpoint on disk."""

    # --- hooks for subclasses -------------------------------------------------------------------------

    def new_config(self, trial_id: str, donor_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The explored config for ``trial_id`` copying ``donor_id``, and what changed per ``a/b`` name."""
        raise NotImplementedError

    def mutated_keys(self) -> list[tuple[str, ...]]:
        """The config paths the explore step changes (each trial's config must have them)."""
        return []

    def observe(self, trial_id: str, member: Member) -> None:
        """A member reached a perturbation point (its ``time`` and ``score`` are set)."""

    def restarted(self, trial_id: str, member: Member, exploit: Exploit) -> None:
        """A member restarts from a donor's checkpoint (its config is the new one)."""

    def extra_state(self) -> dict[str, Any]:
        """More state to save with the population."""
        return {}

    def restore_extra(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned."""

    # --- the scheduler protocol -----------------------------------------------------------------------

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Take the experiment's metric and mode unless the scheduler's own options set them."""
        self.metric, self.mode = check_objective(
            f"the {self.name} scheduler", metric, mode, own_metric=self._metric_option, own_mode=self._mode_option
        )

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """A new member joins the population (its config must define every explored hyperparameter)."""
        check_keys(trial.config, self.mutated_keys(), trial.trial_id, self.explore_option)
        self.members[trial.trial_id] = Member(config=copy.deepcopy(trial.config))

    def on_trial_result(self, trial: tunecore.Trial, result: dict[str, Any]) -> tunecore.Decision:
        """CONTINUE between perturbation points; at one: exploit (RESTART), PAUSE or CONTINUE."""
        trial_id = trial.trial_id
        member = self._member(trial)
        member.waiting = False
        if member.config != trial.config:  # the trial's is authoritative (e.g. a decision lost in a crash)
            member.config = copy.deepcopy(trial.config)
        if not self._has_attrs(trial_id, result):
            return tunecore.CONTINUE
        member.time = float(result[self.time_attr])
        member.iteration = int(result.get("training_iteration", member.iteration))
        self._note_checkpoint(member, trial.checkpoint)
        score = best.score(result[self.metric or ""], self.mode or "max")
        if member.plan is not None:
            exploit, member.plan = member.plan, None
            return self._restart(trial, member, exploit)
        if self.synch:
            return self._synch_result(trial_id, member, score)
        return self._async_result(trial, member, score)

    def on_trial_complete(self, trial: tunecore.Trial, result: dict[str, Any] | None) -> None:
        """The member leaves the population (a synchronous perturbation point may be complete now)."""
        self._leave(trial.trial_id)

    def on_trial_error(self, trial: tunecore.Trial) -> None:
        """The member leaves the population (a synchronous perturbation point may be complete now)."""
        member = self.members.get(trial.trial_id)
        if member is not None:
            member.arrived, member.plan = False, None
            self.failed[trial.trial_id] = member
        self._leave(trial.trial_id)

    def choose_trial_to_run(
        self, pending: Sequence[tunecore.Trial], paused: Sequence[tunecore.Trial]
    ) -> tunecore.Trial | None:
        """Members to restart first, then the one with the least progress; none waiting at a sync point.

        With nothing pending the searcher had no trial to give: the population is complete, so a
        synchronous perturbation point may be complete too.
        """
        if not pending:
            self.open = False
            if self._round_ready():
                self._round()
        candidates = [*pending, *(trial for trial in paused if self._may_resume(trial.trial_id))]
        if not candidates:
            return None
        chosen = min(candidates, key=self._priority)
        if chosen.trial_id in self.members:
            self.members[chosen.trial_id].waiting = False
        return chosen

    def save(self) -> dict[str, Any]:
        """The population, the random generator and the synchronisation point (a deep copy)."""
        return copy.deepcopy(
            {
                "members": self.members,
                "failed": self.failed,
                "rng": self.rng.bit_generator.state,
                "next_sync": self.next_sync,
                "open": self.open,
                "skipped_exploits": self.skipped_exploits,
                "extra": self.extra_state(),
            }
        )

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from the state returned by :meth:`save`."""
        state = copy.deepcopy(state)
        self.members, self.failed = state["members"], state["failed"]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]
        self.next_sync, self.open = state["next_sync"], state["open"]
        self.skipped_exploits = state["skipped_exploits"]
        self.restore_extra(state["extra"])

    # --- perturbation points --------------------------------------------------------------------------

    def _async_result(self, trial: tunecore.Trial, member: Member, score: float) -> tunecore.Decision:
        time = member.time
        if time < self.burn_in_period or time - member.last_perturbation < self.perturbation_interval:
            return tunecore.CONTINUE
        self._perturbation_point(trial.trial_id, member, score)
        bottom, top = self._quantiles()
        if trial.trial_id in bottom:
            exploit = self._plan_exploit(trial.trial_id, top)
            if exploit is not None:
                return self._restart(trial, member, exploit)
        others_wait = any(m.waiting for trial_id, m in self.members.items() if trial_id != trial.trial_id)
        if member.fresh_checkpoint and (self.open or others_wait):  # time-multiplexing: let another run
            member.waiting = True
            return tunecore.PAUSE
        return tunecore.CONTINUE

    def _synch_result(self, trial_id: str, member: Member, score: float) -> tunecore.Decision:
        if member.time < self.next_sync:
            return tunecore.CONTINUE
        if not member.arrived:
            member.arrived = True
            self._perturbation_point(trial_id, member, score)
        if self._round_ready():
            self._round()  # the member's own exploit, if any, applies at its next result, as for the others
            if not self._held(trial_id):
                return tunecore.CONTINUE
        member.waiting = True
        return tunecore.PAUSE

    def _perturbation_point(self, trial_id: str, member: Member, score: float) -> None:
        member.score = score
        member.last_perturbation = member.time
        self.observe(trial_id, member)

    def _round_ready(self) -> bool:
        members = self.members.values()
        return self.synch and not self.open and any(m.arrived for m in members) and all(m.arrived for m in members)

    def _round(self) -> None:
        """Every live member reached the perturbation point: plan the exploits, move to the next point."""
        bottom, top = self._quantiles()
        for trial_id in bottom:
            self.members[trial_id].plan = self._plan_exploit(trial_id, top)
        latest = max(member.time for member in self.members.values())
        self.next_sync = max(self.next_sync + self.perturbation_interval, latest)
        for member in self.members.values():
            member.arrived = False

    def _quantiles(self) -> tuple[list[str], list[str]]:
        scores = {trial_id: m.score for trial_id, m in self.members.items() if m.score is not None}
        return quantiles(scores, self.quantile_fraction)

    def _plan_exploit(self, trial_id: str, top: list[str]) -> Exploit | None:
        donor_id = top[int(self.rng.integers(len(top)))]
        donor = self.members[donor_id]
        if donor.checkpoint is None or not os.path.isdir(donor.checkpoint):
            self.skipped_exploits += 1
            logger.info("%s: %s has no checkpoint to donate; %s is not exploited", self.name, donor_id, trial_id)
            return None
        config, operations = self.new_config(trial_id, donor_id)
        if self.custom_explore_fn is not None:
            config = self.custom_explore_fn(config)
            if not isinstance(config, dict):
                raise ValueError(f"custom_explore_fn must return the new config (a dict), got {config!r}")
        return Exploit(
            donor=donor_id,
            donor_config=copy.deepcopy(donor.config),
            donor_score=donor.score if donor.score is not None else -math.inf,
            config=config,
            checkpoint=donor.checkpoint,
            step=donor.checkpoint_step,
            donor_iteration=donor.checkpoint_iteration,
            operations=operations,
        )

    def _restart(self, trial: tunecore.Trial, member: Member, exploit: Exploit) -> tunecore.Decision:
        if self.log_config and trial.path:
            when = (self.time_attr, member.time, member.iteration)
            self.policy.write(os.path.dirname(trial.path), policy_record(trial.trial_id, *when, member.config, exploit))
        member.config = copy.deepcopy(exploit.config)
        member.offset = member.iteration - exploit.step
        member.checkpoint = None  # its next checkpoint is the first it may donate
        member.fresh_checkpoint = False
        member.last_perturbation = member.time
        member.waiting = True
        self.restarted(trial.trial_id, member, exploit)
        return tunecore.Decision.restart(copy.deepcopy(exploit.config), checkpoint=exploit.checkpoint)

    # --- bookkeeping ----------------------------------------------------------------------------------

    def _member(self, trial: tunecore.Trial) -> Member:
        member = self.members.get(trial.trial_id)
        if member is None:  # a failed member running again, or a trial never added: (re)join now
            member = self.failed.pop(trial.trial_id, None) or Member(config=copy.deepcopy(trial.config))
            self.members[trial.trial_id] = member
        return member

    def _has_attrs(self, trial_id: str, result: dict[str, Any]) -> bool:
        for option, key in (("time_attr", self.time_attr), ("metric", self.metric)):
            value = result.get(key or "")
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                continue
            if option == "metric" and key in result:  # any other value counts as the worst score
                continue
            if self.require_attrs:
                raise ValueError(
                    f"the {self.name} scheduler's {option} {key!r} is not a number in the result of trial {trial_id}"
                    f" (it reported: {', '.join(sorted(result))}): report it, or set require_attrs=false to let"
                    " such results pass"
                )
            return False
        return True

    @staticmethod
    def _note_checkpoint(member: Member, checkpoint: str | None) -> None:
        member.fresh_checkpoint = checkpoint is not None and checkpoint != member.seen_checkpoint
        if member.fresh_checkpoint:
            member.checkpoint = checkpoint
            member.checkpoint_iteration = member.iteration
            member.checkpoint_step = member.iteration - member.offset
        member.seen_checkpoint = checkpoint

    def _leave(self, trial_id: str) -> None:
        if self.members.pop(trial_id, None) is not None and self._round_ready():
            self._round()

    def _held(self, trial_id: str) -> bool:
        """True while a planned exploit of another member still needs this member's checkpoint."""
        return any(m.plan is not None and m.plan.donor == trial_id for m in self.members.values())

    def _may_resume(self, trial_id: str) -> bool:
        member = self.members.get(trial_id)
        if member is None or not self.synch:
            return True
        return not member.arrived and not self._held(trial_id)

    def _priority(self, trial: tunecore.Trial) -> tuple[Any, ...]:
        member = self.members.get(trial.trial_id)
        if member is None:
            return (1, 0.0, trial.trial_id)
        return (0 if member.plan is not None else 1, member.time, trial.trial_id)
