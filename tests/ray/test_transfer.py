"""tune_ray.transfer: archives from the other end of a connection are checked before anything is written."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tune_ray import transfer


def archive(*members: tuple[str, str, object]) -> bytes:
    """A tar of (name, kind, data): kind "file" (data: bytes), "dir", "sym" / "hard" (data: target), "fifo"."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                assert isinstance(data, bytes)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "sym": tarfile.SYMTYPE,
                "hard": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
                "chr": tarfile.CHRTYPE,
            }[kind]
            info.mode = 0o755
            if kind in ("sym", "hard"):
                info.linkname = str(data)
            tar.addfile(info)
    return buffer.getvalue()


def refused(tmp_path: Path, blob: bytes) -> None:
    """unpack refuses ``blob``, and nothing at all is left under tmp_path but the untouched 'outside'."""
    target = tmp_path / "exp" / "trial" / "checkpoint_000001"
    with pytest.raises(transfer.TransferError):
        transfer.unpack(blob, str(target))
    assert os.listdir(tmp_path / "exp" / "trial") == []  # no staging directory left behind
    assert sorted(os.listdir(tmp_path)) == ["exp", "outside"]
    assert os.listdir(tmp_path / "outside") == []


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "exp" / "trial").mkdir(parents=True)
    return tmp_path / "outside"


@pytest.mark.parametrize(
    "members",
    [
        [("../../evil", "file", b"x")],
        [("./a/../../../evil", "file", b"x")],
        [("/tmp/absolute-evil", "file", b"x")],
        [("l", "sym", "OUTSIDE"), ("l/f", "file", b"x")],
        [("l", "sym", "../../../outside"), ("l/f", "file", b"x")],
        [("l", "sym", "../../../outside")],
        [("d", "dir", None), ("d/l", "sym", "../..")],
        [("a", "sym", "d"), ("d", "dir", None), ("e", "sym", "a/../../..")],
        [("h", "hard", "OUTSIDE/f")],
        [("h", "hard", "x"), ("x", "file", b"x")],
        [("p", "fifo", None)],
        [("c", "chr", None)],
        [("f", "file", b"1"), ("f", "file", b"2")],
        [("f", "file", b"1"), ("./f", "file", b"2")],
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "absolute",
        "abs-link-then-write",
        "rel-link-out-then-write",
        "rel-link-out",
        "link-up-out",
        "link-through-link",
        "hard-abs",
        "hard",
        "fifo",
        "device",
        "duplicate",
        "duplicate-dot",
    ],
)
def test_crafted_archives_are_refused_and_leave_nothing(tmp_path: Path, outside: Path, members: list[Any]) -> None:
    members = [
        (
            name,
            kind,
            str(outside)
            if data == "OUTSIDE"
            else (str(outside) + data[7:] if isinstance(data, str) and data.startswith("OUTSIDE/") else data),
        )
        for name, kind, data in members
    ]
    refused(tmp_path, archive(*members))


def test_the_long_symlink_chain_of_cve_2025_4517_is_refused(tmp_path: Path, outside: Path) -> None:
    """Links whose resolved path exceeds PATH_MAX made tarfile's "data" filter check the wrong path."""
    root = tmp_path / "exp" / "trial"
    steps = "abcdefghijklmnop"
    component = "d" * ((os.pathconf(str(tmp_path), "PC_PATH_MAX") - len(str(root)) - 40) // (len(steps) + 1))
    members: list[tuple[str, str, object]] = []
    path = ""
    for step in steps:
        members += [(os.path.join(path, component), "dir", None), (os.path.join(path, step), "sym", component)]
        path = os.path.join(path, component)
    link = os.path.join(*steps, "l" * 254)
    members.append((link, "sym", os.path.join(*[".."] * len(steps))))
    members.append(("escape", "sym", os.path.join(link, "..", "..", "..", "outside")))
    members.append(("escape/PWNED", "file", b"written outside the checkpoint\n"))
    refused(tmp_path, archive(*members))


def test_plain_checkpoints_round_trip_with_links_inside(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "model.bin").write_bytes(b"\x00\x01" * 1000)
    (source / "sub" / "deeper" / "state.json").write_text("{}")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    os.symlink("model.bin", source / "latest")
    os.symlink("../model.bin", source / "sub" / "up")
    target = tmp_path / "trial" / "checkpoint_000001"
    target.mkdir(parents=True)
    (target / "stale").write_text("replaced")
    assert transfer.unpack(transfer.pack(str(source)), str(target)) == str(target)
    assert (target / "model.bin").read_bytes() == b"\x00\x01" * 1000
    assert (target / "sub" / "deeper" / "state.json").read_text() == "{}"
    assert os.readlink(target / "latest") == "model.bin" and (target / "sub" / "up").read_bytes()[:2] == b"\x00\x01"
    assert os.stat(target / "run.sh").st_mode & 0o777 == 0o755
    assert not (target / "stale").exists()
    assert os.listdir(tmp_path / "trial") == ["checkpoint_000001"]


def test_a_member_without_its_directory_entry_is_written(tmp_path: Path) -> None:
    target = tmp_path / "trial" / "ck"
    transfer.unpack(archive(("a/b/f", "file", b"x")), str(target))
    assert (target / "a" / "b" / "f").read_bytes() == b"x"


def test_pack_refuses_a_link_that_unpack_would_refuse(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    os.symlink("/etc/hostname", source / "base")
    with pytest.raises(transfer.TransferError, match="only relative links"):
        transfer.pack(str(source))


def test_setuid_bits_are_dropped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.mode, info.size = 0o4755, 1
        tar.addfile(info, io.BytesIO(b"x"))
    target = tmp_path / "ck"
    transfer.unpack(buffer.getvalue(), str(target))
    assert os.stat(target / "f").st_mode & 0o7777 == 0o755
