"""Helpers for testing plugins against the core's contracts (needs pytest).

* :mod:`tunecore.testing.executors`: ``ExecutorConformance``, the suite every executor must pass.
* :mod:`tunecore.testing.trainables`: the trainables it runs (importable by any worker, no pytest).
"""
