"""Trials on lanes: the fewest lanes (workers) so that no two trials on one lane overlap in time."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

OVERLAP_TOLERANCE_S = 1e-3
"""A trial may start this much before the previous one on its lane ended (clock and bookkeeping jitter)."""


@attrs.frozen
class Span:
    """A time interval of one trial."""

    key: str
    """The trial's id."""
    start: float
    end: float
    status: str = ""


def assign_lanes(spans: Sequence[Span]) -> list[int]:
    """Per span, its lane: in order of start, each takes the lowest lane free by then (greedy interval colouring)."""
    lanes = [0] * len(spans)
    free_at: list[float] = []
    for i in sorted(range(len(spans)), key=lambda i: (spans[i].start, i)):
        span = spans[i]
        lane = next((k for k, end in enumerate(free_at) if end <= span.start + OVERLAP_TOLERANCE_S), len(free_at))
        if lane == len(free_at):
            free_at.append(span.end)
        else:
            free_at[lane] = span.end
        lanes[i] = lane
    return lanes


def idle_gaps(spans: Sequence[Span], lanes: Sequence[int]) -> list[tuple[int, float, float]]:
    """``(lane, start, end)`` of every wait between two consecutive spans of a lane, by lane then time."""
    gaps = []
    for lane in sorted(set(lanes)):
        mine = sorted((s for s, k in zip(spans, lanes, strict=True) if k == lane), key=lambda s: s.start)
        for before, after in itertools.pairwise(mine):
            if after.start > before.end:
                gaps.append((lane, before.end, after.start))
    return gaps
