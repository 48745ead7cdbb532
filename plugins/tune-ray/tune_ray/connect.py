"""Connecting to Ray: a private local Ray, ``"auto"``, an address or ``ray://`` — and leaving it as found.

Ray started by tunecore (``address=None``) is bound to 127.0.0.1, has no dashboard and is shut down by
tunecore; a connection tunecore opened is closed by it; a Ray the user already initialised is left alone.
``RAY_USAGE_STATS_ENABLED=0`` is set in this process before ``ray`` is imported: a Ray tunecore starts sends
no usage statistics; a cluster tunecore joins keeps the setting it was started with (``ray start`` on its
head decides; set the variable there too).
"""

from __future__ import annotations

import os
from typing import Any

import attrs


@attrs.define
class RayConnection:
    """How this executor reached Ray, so that :meth:`close` undoes exactly that."""

    ray: Any
    """The ``ray`` module."""
    owned: bool
    """tunecore called ``ray.init`` (and calls ``ray.shutdown``)."""

    def close(self) -> None:
        """Shut down or disconnect what tunecore started; leave a user's own Ray session alone."""
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
        self.owned = False


def connect(address: str | None, log_to_driver: bool) -> RayConnection:
    """Initialise Ray unless it is already (then it is used as it is)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    if ray.is_initialized():
        return RayConnection(ray, owned=False)
    options: dict[str, Any] = {"log_to_driver": log_to_driver, "logging_level": "warning"}
    if address is None:  # a private Ray of this machine, on loopback only
        ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1", **options)
    else:
        ray.init(address=address, **options)
    return RayConnection(ray, owned=True)
