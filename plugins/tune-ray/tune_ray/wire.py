"""The messages between the driver and a trial actor, over one authenticated TCP connection per actor.

Results and answers do not go through Ray's task system: each actor connects back to the driver
(:class:`multiprocessing.connection.Connection` framing, HMAC challenge with a per-executor key) and the
pipelined protocol of :mod:`tunecore.executors` runs over that connection, as fast as over a pipe. Ray
places, starts and kills the actors and carries the trainable (object store).

Driver to actor: ``(LAUNCH, launch, checkpoint_blob)``, ``(ANSWER, seq, action_value)``, ``(EXIT,)``.
Actor to driver: ``(HELLO, actor_key, node_id, pid, shared)``, ``(RESULT, seq, result, checkpoint, blob)``,
``(END, kind, error, log_blob)``.
"""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle

LAUNCH = 1
"""``(LAUNCH, trial_launch, checkpoint_blob)``: run a trial (the blob: its checkpoint packed, or None)."""
ANSWER = 2
"""``(ANSWER, seq, action_value)``: the decision about result ``seq``."""
EXIT = 3
"""``(EXIT,)``: exit when idle."""
HELLO = 10
"""``(HELLO, actor_key, node_id, pid, shared)``: the actor is placed, connected and ready."""
RESULT = 11
"""``(RESULT, seq, result, checkpoint_path, checkpoint_blob)``: one result of the running trial."""
END = 12
"""``(END, outcome_value, error, log_blob)``: the running trial ended."""

PROTOCOL = 5
"""The pickle protocol of every message."""


def dumps(message: tuple[Any, ...]) -> bytes:
    """``message`` pickled (with cloudpickle when plain pickle cannot: a function in a config)."""
    try:
        return pickle.dumps(message, PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return cloudpickle.dumps(message, PROTOCOL)


loads = pickle.loads
"""Unpickle a message (only ever from an authenticated connection)."""
