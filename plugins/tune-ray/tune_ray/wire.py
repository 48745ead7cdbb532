"""The messages between the driver and a trial actor, over one authenticated TCP connection per actor.

Results and answers do not go through Ray's task system: each actor connects back to the driver
(:class:`multiprocessing.connection.Connection` framing, HMAC challenge with a per-executor key) and the
pipelined protocol of :mod:`tunecore.executors` runs over that connection, as fast as over a pipe. Ray
places, starts and kills the actors and carries the trainable and the checkpoints that travel (object store,
:mod:`tune_ray.objects`): a message holds at most a reference to one, never its bytes.

Driver to actor: ``(LAUNCH, launch, checkpoint_ref)``, ``(ANSWER, seq, action_value)``, ``(EXIT,)``.
Actor to driver: ``(HELLO, actor_key, node_id, pid, shared)``, ``(RESULT, seq, result, checkpoint, ref)``,
``(LOG, data)``, ``(END, kind, error)``.
"""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle

LAUNCH = 1
"""``(LAUNCH, trial_launch, checkpoint_ref)``: run a trial (the reference of its checkpoint in the object store,
as :func:`tune_ray.objects.share` writes it, when the trial works in scratch; else None)."""
ANSWER = 2
"""``(ANSWER, seq, action_value)``: the decision about result ``seq``; it also tells the actor that the driver
has that result's checkpoint (sent for a result with a checkpoint in the object store even when no decision
is due)."""
EXIT = 3
"""``(EXIT,)``: exit when idle."""
HELLO = 10
"""``(HELLO, actor_key, node_id, pid, shared)``: the actor is placed, connected and ready."""
RESULT = 11
"""``(RESULT, seq, result, checkpoint, checkpoint_ref)``: one result of the running trial; ``checkpoint`` is a
path (shared storage) or, with a reference to it in the object store, the checkpoint's directory name."""
LOG = 13
"""``(LOG, data)``: more of what the running trial wrote to its ``stdout.log`` on the node (scratch only)."""
END = 12
"""``(END, outcome_value, error)``: the running trial ended."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest message either end accepts: a longer one ends the connection (its trial WORKER_DIED)."""

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
