"""Directories as tar archives: how checkpoints travel between nodes that share no filesystem.

An archive comes from another process, often on another machine, so :func:`unpack` trusts nothing in it and
does not rely on :mod:`tarfile`'s extraction filters (absent before Python 3.10.12 / 3.11.4, and bypassed
by CVE-2025-4517 where present). Every member is checked before anything is written:

* only regular files, directories and symbolic links; no hard links, devices, FIFOs or sparse files;
* names are relative, without ``..`` or empty components, each at most once;
* no member lies under a symbolic link of the archive (nothing is ever written through a link);
* a link is relative and, walked component by component from its directory, stays inside the archive
  and passes through no other link of the archive (pure path arithmetic: nothing is resolved on disk).

Files are then created with ``O_EXCL | O_NOFOLLOW`` in a fresh staging directory, with permission bits only
(no set-uid, set-gid or sticky bits). :func:`stage` writes that directory and :func:`commit` renames it into
place, so the slow part can run in a helper thread and the part that decides (which checkpoint exists) on
the driver's own thread. An archive is read from any buffer (an object store's shared memory) without a
copy of it.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import tempfile
from typing import IO, Any

_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)


class TransferError(ValueError):
    """An archive that :func:`unpack` refuses (it would write outside its directory, or holds what a
    checkpoint may not: links out of it, hard links, devices)."""


def pack(directory: str) -> bytes:
    """The files under ``directory`` as an uncompressed tar archive (see :func:`pack_into`)."""
    buffer = io.BytesIO()
    pack_into(directory, buffer)
    return buffer.getvalue()


def pack_into(directory: str, file: IO[bytes]) -> int:
    """Write the files under ``directory`` to ``file`` as an uncompressed tar archive; its size in bytes.

    Raises :class:`TransferError` for what :func:`unpack` would refuse on the other side (a symbolic link
    to an absolute path or out of ``directory``, a device, a FIFO), so the trial that wrote it fails with
    the reason.
    """
    start = file.tell()
    with tarfile.open(fileobj=file, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(directory, arcname=".")
        _check_members(archive.getmembers())
    return file.tell() - start


def _split(name: str) -> tuple[str, ...]:
    """A member's name as components ("" for the archive's root); TransferError when it is not plain."""
    if name.startswith("/") or "\\" in name or "\x00" in name:
        raise TransferError(f"archive member {name!r}: absolute or unusual name")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise TransferError(f"archive member {name!r}: '..' in its name")
    return tuple(parts)


def _check_members(members: list[tarfile.TarInfo]) -> list[tuple[tuple[str, ...], tarfile.TarInfo]]:
    """The members with their checked names (see the module's docstring); TransferError otherwise."""
    named: list[tuple[tuple[str, ...], tarfile.TarInfo]] = []
    seen: set[tuple[str, ...]] = set()
    links: set[tuple[str, ...]] = set()
    for member in members:
        parts = _split(member.name)
        if member.type in _REGULAR or member.isdir() or member.issym():
            pass
        elif member.islnk():
            raise TransferError(f"archive member {member.name!r}: hard links are not accepted")
        else:
            raise TransferError(f"archive member {member.name!r}: not a regular file, directory or symbolic link")
        if not parts and not member.isdir():
            raise TransferError(f"archive member {member.name!r}: the archive's root must be a directory")
        if parts in seen and parts:
            raise TransferError(f"archive member {member.name!r}: appears twice")
        seen.add(parts)
        if member.issym():
            links.add(parts)
        named.append((parts, member))
    for parts, member in named:
        for end in range(1, len(parts)):
            if parts[:end] in links:
                raise TransferError(
                    f"archive member {member.name!r}: lies under the symbolic link {'/'.join(parts[:end])!r}"
                )
        if member.issym():
            _check_link(parts, member.linkname, links)
    return named


def _check_link(parts: tuple[str, ...], target: str, links: set[tuple[str, ...]]) -> None:
    shown = f"symbolic link {'/'.join(parts)!r} -> {target!r}"
    if not target or target.startswith("/") or "\x00" in target:
        raise TransferError(f"{shown}: only relative links inside the checkpoint are accepted")
    where = list(parts[:-1])
    steps = [step for step in target.split("/") if step not in ("", ".")]
    for index, step in enumerate(steps):
        if step == "..":
            if not where:
                raise TransferError(f"{shown}: points outside the checkpoint")
            where.pop()
            continue
        where.append(step)
        if index < len(steps) - 1 and tuple(where) in links:
            raise TransferError(f"{shown}: goes through another symbolic link")


def unpack(blob: Any, directory: str) -> str:
    """Write the archive ``blob`` (from :func:`pack`; bytes or any buffer) to ``directory`` and return it.

    The archive is checked first (:class:`TransferError` if refused, see the module's docstring); what was
    at ``directory`` before is replaced, as ``store_checkpoint`` does. :func:`stage`, then :func:`commit`.
    """
    return commit(stage(blob, directory), directory)


def stage(blob: Any, directory: str) -> str:
    """Check the archive ``blob`` and write its files to a new hidden directory beside ``directory``; return
    that directory (for :func:`commit` or :func:`discard`). A refused or failed archive leaves nothing.
    """
    with _Reader(blob) as reader:
        try:
            archive = tarfile.open(fileobj=reader, mode="r:")
        except tarfile.TarError as exc:
            raise TransferError(f"not a tar archive: {exc}") from None
        with archive:
            try:
                named = _check_members(archive.getmembers())
            except tarfile.TarError as exc:
                raise TransferError(f"a damaged archive: {exc}") from None
            parent = os.path.dirname(directory) or "."
            os.makedirs(parent, exist_ok=True)
            staging = tempfile.mkdtemp(prefix=f".incoming-{os.path.basename(directory)}-", dir=parent)
            try:
                directories = _write(archive, named, staging)
                for path, mode in reversed(directories):  # deepest first, once their files are written
                    os.chmod(path, mode)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    return staging


def commit(staging: str, directory: str) -> str:
    """Put the staged checkpoint ``staging`` at ``directory`` (replacing what was there); return ``directory``.
    A crash never leaves half a checkpoint under its name."""
    try:
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(staging, directory)
    except BaseException:
        discard(staging)
        raise
    return directory


def discard(staging: str) -> None:
    """Remove a staged checkpoint that will not be committed."""
    shutil.rmtree(staging, ignore_errors=True)


class _Reader(io.RawIOBase):
    """A seekable read-only file over a buffer, without copying it (``io.BytesIO`` copies all but bytes)."""

    def __init__(self, buffer: Any) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        count = max(min(len(target), len(self._view) - self._position), 0)
        target[:count] = self._view[self._position : self._position + count]
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._view.release()
        super().close()


def _write(
    archive: tarfile.TarFile, named: list[tuple[tuple[str, ...], tarfile.TarInfo]], staging: str
) -> list[tuple[str, int]]:
    directories: list[tuple[str, int]] = []
    for parts, member in sorted(named, key=lambda item: (len(item[0]), item[0])):
        path = os.path.join(staging, *parts)
        if len(parts) > 1:  # a parent the archive does not list: no prefix is a link (checked)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        mode = stat.S_IMODE(member.mode) & 0o777
        if member.isdir():
            if parts:
                os.mkdir(path, 0o700)
            directories.append((path, mode | 0o700))
        elif member.issym():
            os.symlink(member.linkname, path)
        else:
            source = archive.extractfile(member)
            assert source is not None
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as file:
                shutil.copyfileobj(source, file)
            os.chmod(path, mode | 0o600)
    return directories
