"""Population Based Training for tunecore: the ``pbt``, ``pbt_replay`` and ``pb2`` schedulers."""

from tune_pbt.mutations import explore, parse_mutations
from tune_pbt.pb2 import PB2
from tune_pbt.pbt import PopulationBasedTraining
from tune_pbt.policy import read_policy, replay_config
from tune_pbt.replay import PopulationBasedTrainingReplay

__all__ = [
    "PB2",
    "PopulationBasedTraining",
    "PopulationBasedTrainingReplay",
    "explore",
    "parse_mutations",
    "read_policy",
    "replay_config",
]
__version__ = "0.2.0"
