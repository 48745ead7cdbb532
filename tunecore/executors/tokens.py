"""Launch tokens: a reused worker never applies an answer or a stop request meant for an earlier launch.

The rule, for every executor whose workers run one launch after another:

* every launch has a token unique in the driver process (:attr:`TrialLaunch.token`, from :func:`new_token`;
  build a new ``TrialLaunch`` for every launch, a retry included);
* every message to a worker that concerns one launch and may arrive late — a stop request, an answer to a
  result — names it: a stop request carries the launch's token; an answer names the result it answers,
  by a number that is never reused on that worker (which names the launch too);
* the worker acts on such a message only when it is for the launch it runs now (:class:`CurrentLaunch`),
  and ignores it between launches;
* the driver, likewise, drops what a worker sends for a launch it no longer tracks (ended, or stopped by
  force and replaced).
"""

from __future__ import annotations

import itertools

NO_LAUNCH = 0
"""The token of "no launch" (tokens start at 1)."""

_counter = itertools.count(NO_LAUNCH + 1)


def new_token() -> int:
    """A launch token never handed out before in this process."""
    return next(_counter)


class CurrentLaunch:
    """Which launch a worker (or a driver's record of it) serves now: a message naming another is stale."""

    __slots__ = ("token",)

    def __init__(self) -> None:
        self.token = NO_LAUNCH
        """The token of the launch served now, or :data:`NO_LAUNCH`."""

    def begin(self, token: int) -> None:
        """Start serving the launch ``token``."""
        self.token = token

    def end(self) -> None:
        """The launch ended: every message naming it is stale from now on."""
        self.token = NO_LAUNCH

    def is_current(self, token: int) -> bool:
        """True when ``token`` names the launch served now (never between launches)."""
        return token == self.token and token != NO_LAUNCH
