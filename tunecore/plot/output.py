"""Saving a figure as png, svg or html (one offline file: the svg inline, no script, no CDN)."""

from __future__ import annotations

import html
import io
import os
from typing import TYPE_CHECKING

from tunecore.errors import TuneError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("png", "svg", "html")
"""The formats :func:`save` writes, chosen by the file's extension."""
SVG_SALT = "tunecore"
"""Fixed ids in svg output, so that the same figure gives the same file."""


def save(fig: Figure, path: str | os.PathLike[str], title: str | None = None) -> str:
    """Write ``fig`` to ``path`` as png, svg or html (by its extension); returns the path written."""
    path = os.fspath(path)
    kind = check_path(path)
    try:  # as the report does: the folder is made, and a file that cannot be written is a clear error
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if kind == "png":
            fig.savefig(path, format="png", dpi=120, metadata={"Software": None})
            return path
        svg = to_svg(fig)
        text = svg if kind == "svg" else html_page(svg, title or _title(fig))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise TuneError(f"cannot write the plot to {path}: {exc.strerror or exc}") from exc
    return path


def check_path(path: str | os.PathLike[str]) -> str:
    """The format of ``path`` by its extension; TuneError unless it is one of :data:`FORMATS`."""
    kind = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if kind not in FORMATS:
        raise TuneError(f"cannot save a plot as {os.fspath(path)!r}: give a file name ending in .png, .svg or .html")
    return kind


def to_svg(fig: Figure) -> str:
    """The figure as an svg document (deterministic: no date, fixed ids)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def html_page(svg: str, title: str) -> str:
    """A self-contained html page showing ``svg`` inline."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def _title(fig: Figure) -> str:
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    titles = [suptitle, *(ax.get_title() for ax in fig.axes)]
    titles = [t for t in titles if t]
    return titles[0] if titles else "tunecore plot"
