"""Hook implementations of tune-pbt: registers the ``pbt``, ``pbt_replay`` and ``pb2`` schedulers."""

from __future__ import annotations

from collections.abc import Callable

import tunecore
from tune_pbt.pb2 import PB2
from tune_pbt.pbt import PopulationBasedTraining
from tune_pbt.replay import PopulationBasedTrainingReplay


@tunecore.hookimpl
def tunecore_register_schedulers(register: Callable[..., None]) -> None:
    """pbt, pbt_replay and pb2."""
    register("pbt", PopulationBasedTraining, "Population Based Training: the worst copy the best and perturb")
    register("pbt_replay", PopulationBasedTrainingReplay, "Replay a PBT policy file on one trial")
    register("pb2", PB2, "Population Based Bandits: PBT exploring with a time-varying GP-UCB bandit")
