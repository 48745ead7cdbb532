"""Directories as bytes: how checkpoints and logs travel between nodes that share no filesystem."""

from __future__ import annotations

import io
import os
import shutil
import tarfile


def pack(directory: str) -> bytes:
    """The files under ``directory`` as an uncompressed tar archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(directory, arcname=".")
    return buffer.getvalue()


def unpack(blob: bytes, directory: str) -> str:
    """Write the archive ``blob`` (from :func:`pack`) to ``directory`` and return it.

    The files are staged in a hidden directory and renamed into place (a crash never leaves half a
    checkpoint under its name); what was at ``directory`` before is replaced, as ``store_checkpoint`` does.
    """
    parent = os.path.dirname(directory) or "."
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, f".incoming-{os.path.basename(directory)}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as archive:
        archive.extractall(staging, filter="data")
    shutil.rmtree(directory, ignore_errors=True)
    os.rename(staging, directory)
    return directory
