"""Close-match suggestions for error messages ("did you mean ...?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate at least ``cutoff`` similar, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f" Did you mean '{matches[0]}'?" if matches else ""


def listing(names: Iterable[str]) -> str:
    """Join names for a message: ``a, b, c`` or ``(none)``."""
    names = sorted(names)
    return ", ".join(names) if names else "(none)"
