"""What ``tunecore plot`` and ``tunecore importance`` do, for :mod:`tunecore.cli` to call."""

from __future__ import annotations

import inspect
import os
import sys
from typing import TextIO

from tunecore.errors import TuneError


def plot_command(directory: str, kind: str, output: str, metric: str | None = None, mode: str | None = None) -> str:
    """Draw the ``kind`` plot of the experiment in ``directory`` into ``output`` (png, svg, html); its path.

    TuneError (with what to do) for an unknown kind, a bad file name or a plot the experiment cannot have;
    :class:`~tunecore.plot.MissingDependencyError` (a TuneError) when matplotlib is missing.
    """
    import tunecore.plot as plot
    from tunecore.results import ResultGrid

    if kind not in plot.KINDS:
        raise TuneError(f"unknown plot kind {kind!r}: choose one of {', '.join(plot.KINDS)}")
    plot.output.check_path(output)
    grid = ResultGrid.from_path(directory)
    draw = getattr(plot, kind)
    accepted = inspect.signature(draw).parameters
    options = {name: value for name, value in (("metric", metric), ("mode", mode)) if value is not None}
    ignored = sorted(set(options) - set(accepted))
    if ignored:
        raise TuneError(f"the {kind} plot takes no --{' --'.join(ignored)}: leave it out")
    fig = draw(grid, **options)
    return plot.save(fig, output, title=f"{kind}: {os.path.basename(os.path.abspath(directory))}")


def importance_command(directory: str, metric: str | None = None, out: TextIO | None = None) -> dict[str, float]:
    """Print the parameter importance of the experiment in ``directory``, most important first; returns it."""
    from tunecore.results import ResultGrid

    shares = ResultGrid.from_path(directory).importance(metric)
    out = out or sys.stdout
    width = max(len(name) for name in shares)
    for name, share in shares.items():
        out.write(f"{name:<{width}}  {share:6.3f}  {'#' * round(40 * share)}\n")
    return shares
