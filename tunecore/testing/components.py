"""Conformance suites for searchers, schedulers, stoppers and loggers: :mod:`tunecore.protocols`, checked.

Subclass a suite in a test module (the name must start with ``Test``) and build the component in its
factory method; class attributes say what the component legitimately cannot do, and those checks are
skipped saying why::

    from tunecore.testing.components import SearcherConformance, StopperConformance

    class TestMySearcher(SearcherConformance):
        unsupported_domains = {"grid_search": "it cannot enumerate a grid"}

        def make_searcher(self, **options):
            return MySearcher(**options)

    class TestMyStopper(StopperConformance):
        def make_stopper(self):
            return MyStopper(patience=2)

The suites drive the component directly through its protocol, as the controller would (no controller; for
schedulers a miniature one, :meth:`SchedulerConformance.simulate`), and end with a short real experiment on
the ``inline`` executor. docs/plugins.md ("Testing a plugin") lists the checks of each suite.
"""

from __future__ import annotations

from tunecore.testing.loggers import LoggerConformance
from tunecore.testing.schedulers import SchedulerConformance, make_trial
from tunecore.testing.searchers import SearcherConformance
from tunecore.testing.spaces import DOMAIN_NAMES, all_domains_space, check_within_space
from tunecore.testing.stoppers import StopperConformance

__all__ = [
    "DOMAIN_NAMES",
    "LoggerConformance",
    "SchedulerConformance",
    "SearcherConformance",
    "StopperConformance",
    "all_domains_space",
    "check_within_space",
    "make_trial",
]
