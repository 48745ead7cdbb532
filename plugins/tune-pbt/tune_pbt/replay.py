"""Replaying a PBT policy file on one trial: the same config changes at the same training iterations."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import tunecore
from tune_pbt.policy import read_policy


class PopulationBasedTrainingReplay(tunecore.Scheduler):
    """Replay the schedule of ``policy_file`` (a ``pbt_policy_<trial>.jsonl``) on a single trial.

    The trial must start with the lineage's first config (:func:`tune_pbt.replay_config` gives it: use it as
    the ``param_space``). At its first result at or past each recorded ``step`` (its ``training_iteration``),
    it restarts from its own latest checkpoint with the recorded ``new_config``: the trainable should save a
    checkpoint with every result.
    """

    name = "pbt_replay"

    def __init__(self, policy_file: str | os.PathLike[str]) -> None:
        if not isinstance(policy_file, (str, os.PathLike)):
            raise ValueError(f"policy_file must be the path of a pbt_policy_<trial>.jsonl file, got {policy_file!r}")
        self.policy_file = os.path.abspath(os.path.expanduser(os.fspath(policy_file)))
        self.initial_config, self.changes = read_policy(self.policy_file)
        self.trial_id: str | None = None
        self.next_change = 0
        """Index of the next change to apply."""

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """Accept the one trial, if it starts with the policy's initial config."""
        if self.trial_id is not None and trial.trial_id != self.trial_id:
            raise ValueError(
                f"pbt_replay replays a policy on one trial, but a second trial ({trial.trial_id}) was added:"
                " set num_samples=1 and a param_space without grid_search"
            )
        self.trial_id = trial.trial_id
        if _plain(trial.config) != _plain(self.initial_config):
            raise ValueError(
                f"pbt_replay: trial {trial.trial_id} starts with {trial.config!r}, but the policy starts with"
                f" {self.initial_config!r}: use param_space=tune_pbt.replay_config({self.policy_file!r})"
                " (in a TOML file, write those values under [param_space])"
            )

    def on_trial_result(self, trial: tunecore.Trial, result: dict[str, Any]) -> tunecore.Decision:
        """RESTART with the next config once ``training_iteration`` reaches its step, else CONTINUE."""
        iteration = result.get("training_iteration")
        if not isinstance(iteration, int) or self.next_change >= len(self.changes):
            return tunecore.CONTINUE
        config = None
        while self.next_change < len(self.changes) and iteration >= self.changes[self.next_change][0]:
            config = self.changes[self.next_change][1]
            self.next_change += 1
        if config is None:
            return tunecore.CONTINUE
        return tunecore.Decision.restart(copy.deepcopy(config), checkpoint=trial.checkpoint)

    def save(self) -> dict[str, Any]:
        """The trial replayed and how far the policy went."""
        return {"trial_id": self.trial_id, "next_change": self.next_change}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from the state returned by :meth:`save`."""
        self.trial_id, self.next_change = state["trial_id"], state["next_change"]


def _plain(config: Any) -> Any:
    """The config as JSON would give it back (tuples become lists), to compare with the policy's."""
    return json.loads(json.dumps(config, default=repr))
