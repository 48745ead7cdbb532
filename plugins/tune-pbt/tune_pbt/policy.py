"""Policy files: every exploit as one JSON line, per trial (its lineage) and for the whole experiment.

A trial's file ``<prefix>_policy_<trial_id>.jsonl`` describes the schedule behind its current state: when a
trial exploits a donor, the donor's file is copied to the trial's and the exploit appended, as Ray Tune does.
Its first line's ``donor_config`` is therefore the config the lineage started with, and each line's
``step`` the training iteration (of that lineage) at which ``new_config`` took over: what ``pbt_replay``
replays. ``<prefix>_global.jsonl`` lists every exploit of the experiment in order.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import attrs

from tune_pbt.population import Exploit

FIELDS = ("trial_id", "donor", "step", "new_config")
"""Fields every policy line has (and ``pbt_replay`` needs, with ``donor_config`` on the first line)."""


@attrs.frozen
class PolicyLog:
    """Writes the policy files of one scheduler (``prefix`` is ``"pbt"`` or ``"pb2"``)."""

    prefix: str = "pbt"
    """File name prefix."""

    def policy_path(self, experiment_dir: str, trial_id: str) -> str:
        """The policy file of ``trial_id``."""
        return os.path.join(experiment_dir, f"{self.prefix}_policy_{trial_id}.jsonl")

    def write(self, experiment_dir: str, record: dict[str, Any]) -> None:
        """Append ``record`` to the global file; make the trial's file the donor's plus ``record``."""
        line = json.dumps(record, default=repr) + "\n"
        with open(os.path.join(experiment_dir, f"{self.prefix}_global.jsonl"), "a", encoding="utf-8") as file:
            file.write(line)
        donor = self.policy_path(experiment_dir, record["donor"])
        lineage = ""
        if os.path.isfile(donor):
            with open(donor, encoding="utf-8") as file:
                lineage = file.read()
        target = self.policy_path(experiment_dir, record["trial_id"])
        temporary = target + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(lineage + line)
        os.replace(temporary, target)


def policy_record(
    trial_id: str, time_attr: str, time_value: float, iteration: int, old: dict[str, Any], exploit: Exploit
) -> dict[str, Any]:
    """One policy line: when, who copied whom, the configs and how they changed."""
    return {
        "trial_id": trial_id,
        "donor": exploit.donor,
        "time_attr": time_attr,
        "time": time_value,
        "training_iteration": iteration,
        "donor_iteration": exploit.donor_iteration,
        "step": exploit.step,
        "old_config": old,
        "donor_config": exploit.donor_config,
        "new_config": exploit.config,
        "operations": exploit.operations,
        "checkpoint": exploit.checkpoint,
        "timestamp": time.time(),
    }


def read_policy(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """The initial config and the ``(step, new_config)`` changes of a policy file (ValueError if malformed)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"policy_file {path!r} does not exist: give a pbt_policy_<trial>.jsonl of an experiment")
    changes: list[tuple[int, dict[str, Any]]] = []
    initial: dict[str, Any] | None = None
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"policy_file {path!r}, line {number}: not JSON ({exc})") from None
            missing = [key for key in FIELDS if not isinstance(record, dict) or key not in record]
            if missing:
                raise ValueError(f"policy_file {path!r}, line {number}: no {', '.join(missing)}; is it a policy file?")
            if initial is None:
                initial = record.get("donor_config")
                if not isinstance(initial, dict):
                    raise ValueError(f"policy_file {path!r}, line {number}: no donor_config (the initial config)")
            changes.append((int(record["step"]), record["new_config"]))
    if initial is None:
        raise ValueError(f"policy_file {path!r} is empty: the trial never exploited another, nothing to replay")
    return initial, changes


def replay_config(policy_file: str | os.PathLike[str]) -> dict[str, Any]:
    """The config a replay starts with: use it as ``param_space`` of the ``pbt_replay`` experiment."""
    return read_policy(policy_file)[0]
