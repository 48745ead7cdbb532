"""What observers are told about the experiment they observe."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class ExperimentInfo:
    """The running experiment, as the event hooks receive it."""

    name: str
    """Experiment name (the directory name under the storage path)."""
    path: str
    """Absolute experiment directory."""
    metric: str | None
    """The metric being optimised, if any."""
    mode: str | None
    """``"min"`` or ``"max"``, if a metric is set."""
    spec: dict[str, Any] = attrs.field(factory=dict)
    """The experiment specification as plain data (what ``experiment.json`` holds)."""
    interrupted: bool = False
    """True once Ctrl+C, SIGTERM or ``fail_fast`` stopped the experiment early, resumable (``tunecore resume``)."""
    failed: str | None = None
    """Set when the run itself ended with an exception (a component's error, a second Ctrl+C): its summary."""
