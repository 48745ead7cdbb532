"""tune_ray.logship: a trial's log on a node reaches the driver as it grows, in order, each byte once, also
when nobody asks (its helper thread) and what is left at the end. No Ray."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tune_ray import logship
from tune_ray.wire import LOG


class Posts:
    def __init__(self) -> None:
        self.messages: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def __call__(self, message: tuple[Any, ...]) -> None:
        with self.lock:
            self.messages.append(message)

    def text(self) -> str:
        with self.lock:
            assert all(message[0] == LOG for message in self.messages)
            return b"".join(message[1] for message in self.messages).decode()


def test_the_log_travels_as_it_grows_in_order_and_once(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(logship, "CHUNK_BYTES", 16)
    path = tmp_path / "stdout.log"
    posts = Posts()
    shipper = logship.LogShipper(str(path), posts)
    shipper.ship()  # no file yet: nothing
    assert posts.messages == []
    with path.open("a") as log:
        log.write("line 1 of the trial\n")
        log.flush()
        shipper.ship()
        assert posts.text() == "line 1 of the trial\n" and len(posts.messages) == 2  # 16 bytes at most each
        shipper.start()
        log.write("line 2, printed between reports\n")
        log.flush()
        deadline = time.monotonic() + 5
        while "line 2" not in posts.text():  # the helper thread sends it unasked
            assert time.monotonic() < deadline, "the helper thread never sent the new output"
            time.sleep(0.05)
        log.write("line 3, the last\n")
    shipper.close()
    assert posts.text() == "line 1 of the trial\nline 2, printed between reports\nline 3, the last\n"
    shipper.close()  # again: nothing more
    assert posts.text().count("line 3") == 1


def test_a_post_that_fails_stops_the_helper_thread_quietly(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(logship, "INTERVAL_S", 0.05)
    path = tmp_path / "stdout.log"
    path.write_text("something\n")

    class Gone(BaseException):
        pass

    def post(message: tuple[Any, ...]) -> None:
        raise Gone

    shipper = logship.LogShipper(str(path), post).start()
    thread = shipper._thread
    assert thread is not None
    thread.join(5)
    assert not thread.is_alive(), "the helper thread outlived its connection"
    shipper.stop()
