"""The population as a PBT scheduler sees it: one :class:`Member` per live trial, ranked into quantiles."""

from __future__ import annotations

import math
from typing import Any

import attrs


@attrs.frozen
class Exploit:
    """A decided exploit: restart a member from ``checkpoint`` of ``donor`` with ``config``."""

    donor: str
    """The trial whose checkpoint is copied."""
    donor_config: dict[str, Any]
    """The donor's config when the exploit was decided."""
    donor_score: float
    """The donor's score at its last perturbation point (higher is better)."""
    config: dict[str, Any]
    """The explored config the member restarts with."""
    checkpoint: str
    """The donor's checkpoint directory."""
    step: int
    """Training iterations behind the donor's checkpoint along its lineage (its age)."""
    donor_iteration: int
    """The donor's own ``training_iteration`` when it saved the checkpoint."""
    operations: dict[str, str]
    """How each explored hyperparameter changed, by ``a/b`` name (e.g. ``"* 1.2"``, ``"resample"``)."""


@attrs.define
class Member:
    """What the scheduler knows about one live trial of the population."""

    config: dict[str, Any]
    """Its current config (changed by exploits only)."""
    time: float = 0.0
    """Its latest value of ``time_attr``."""
    iteration: int = 0
    """Its latest ``training_iteration``."""
    score: float | None = None
    """Its score at its last perturbation point, higher is better (NaN and infinities give -inf)."""
    last_perturbation: float = 0.0
    """``time_attr`` at its last perturbation point (or restart)."""
    checkpoint: str | None = None
    """Its latest checkpoint it may donate (None until it saved one since its last restart)."""
    checkpoint_iteration: int = 0
    """Its ``training_iteration`` when it saved ``checkpoint``."""
    checkpoint_step: int = 0
    """The age of ``checkpoint``: training iterations behind it along the member's lineage."""
    seen_checkpoint: str | None = None
    """The trial's checkpoint at its previous result, to notice new ones."""
    fresh_checkpoint: bool = False
    """True when its latest result came with a checkpoint (pausing it then loses nothing)."""
    offset: int = 0
    """``training_iteration`` minus the age of its state: grows when it restarts from a younger checkpoint."""
    waiting: bool = True
    """True while it is pending or paused (not running)."""
    arrived: bool = False
    """Synchronous mode: it reached the current perturbation point and waits for the others."""
    plan: Exploit | None = None
    """Synchronous mode: an exploit decided while it was paused, applied at its next result."""


def quantiles(scores: dict[str, float], fraction: float) -> tuple[list[str], list[str]]:
    """The bottom and top ``fraction`` of the scored members (worst first, best last); ties go by trial id.

    As in Ray Tune: ``ceil(n * fraction)`` members each, at most ``floor(n / 2)``, none with fewer than two.
    """
    ranked = sorted(scores, key=lambda trial_id: (scores[trial_id], trial_id))
    if len(ranked) <= 1:
        return [], []
    size = math.ceil(len(ranked) * fraction)
    if size > len(ranked) / 2:
        size = len(ranked) // 2
    if size == 0:
        return [], []
    return ranked[:size], ranked[-size:]
