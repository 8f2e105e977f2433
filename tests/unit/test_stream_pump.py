"""roost exec's stdout pass-through with the stream-json tap: every byte in order, every rate_limit_event once.

exec copies the child's pipe to roost's stdout and hands each chunk to the
passive StreamTap: on Linux through tee+splice with the tap on a scanner
thread (dispatch/teepump.py), else, or where the kernel refuses, through the
read/write loop (childproc.pump). Each test that moves bytes runs every way:
the read/write loop, tee+splice, tee+splice whose first splice the kernel
refuses (the rest by read/write, the tee'd bytes not scanned twice), and a
system without tee. Between real pipes (and regular files), with chunk edges
wherever the kernel puts them; the tap alone with chunk edges chosen to cut
the marker and the lines apart.
"""

from __future__ import annotations

import errno
import json
import os
import random
import sys
import threading
import time

import pytest

from roost_plugins.dispatch import teepump
from roost_plugins.dispatch.childproc import PUMP_CHUNK, big_pipe, pump
from roost_plugins.fakeserver.passive_docs import rate_limit_event, stream_json
from roost_plugins.passive.recording import StreamTap, substring_finder
from roost_plugins.passive.stream import StreamSource

NEEDLE = b'"rate_limit_event"'


class Recorder(StreamTap):
    """The real scan and parser; readings kept in memory instead of the state backend."""

    def __init__(self):
        super().__init__(None, "work", "/nonexistent", [StreamSource()])
        self.seen: list[dict] = []
        self.lines: list[bytes] = []
        self.ended = 0

    def _lines(self, data):
        for line in data.split(b"\n"):
            if NEEDLE in line:
                self.lines.append(line)
            reading = self.sources[0].read("stream", line, 1.0)
            if reading:
                self.seen.append(reading)

    def close(self):
        self.ended += 1


WAYS = ["read/write", "tee+splice", "splice refused", "no tee"]


def kernel_pass_through() -> bool:
    read_end, write_end = os.pipe()
    try:
        return teepump.usable(read_end, write_end)
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.fixture(params=WAYS)
def move(request, monkeypatch):
    """``move(src, dst, tap)`` as exec runs it, one way per parameter."""
    way = request.param
    if way == "read/write":
        return pump
    if way != "no tee" and not kernel_pass_through():
        pytest.skip("no tee(2)/splice(2) on this system")
    if way == "splice refused":
        real, calls = os.splice, []

        def refuse_first(*args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise OSError(errno.EINVAL, "refused")
            return real(*args, **kwargs)

        monkeypatch.setattr(teepump.os, "splice", refuse_first)
    if way == "no tee":
        monkeypatch.setattr(teepump, "_tee", lambda: None)
    return lambda src, dst, tap: teepump.pass_through(src, dst, tap, pump)


def pumped(move, payload: bytes, tap, *, pieces: list[int] | None = None) -> bytes:
    """``payload`` written into a pipe (in ``pieces`` sizes), pumped into a second pipe; what came out."""
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    out = bytearray()

    def produce():
        at, sizes = 0, iter(pieces or [])
        while at < len(payload):
            step = next(sizes, len(payload))
            view = memoryview(payload)[at:at + step]
            while view:
                view = view[os.write(src_w, view):]
            at += step
        os.close(src_w)

    def consume():
        while chunk := os.read(dst_r, 1 << 16):
            out.extend(chunk)
        os.close(dst_r)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    move(src_r, dst_w, tap)
    os.close(dst_w)
    for thread in threads:
        thread.join()
    return bytes(out)


def session(events: int, rng: random.Random, filler_lines: int = 4000) -> tuple[bytes, int]:
    """stream-json of ``filler_lines`` assistant/tool lines with ``events`` rate_limit_event lines among them."""
    lines = []
    for i in range(filler_lines):
        text = "x" * rng.randint(0, 3000) + (" rate_limit_event" if i % 7 == 0 else "")  # unquoted: not an event
        lines.append(json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}}))
    for at in sorted(rng.sample(range(len(lines) + 1), events), reverse=True):
        lines.insert(at, json.dumps(rate_limit_event("allowed_warning", "five_hour", 0.91)))
    return ("\n".join(lines) + "\n").encode(), events


def test_a_large_random_stream_comes_out_byte_for_byte(move):
    payload = random.Random(1).randbytes(6 * 1024 * 1024 + 13)
    tap = Recorder()
    assert pumped(move, payload, tap, pieces=[1, 4095, 65536, 100_000] * 40) == payload
    assert tap.seen == [] and tap.ended == 1


def test_every_rate_limit_event_of_a_long_stream_is_read_once(move):
    rng = random.Random(2)
    payload, events = session(25, rng)
    sizes = [rng.choice([1, 17, 18, 19, 4096, 65535, 300_000]) for _ in range(2000)]
    tap = Recorder()
    assert pumped(move, payload, tap, pieces=sizes) == payload
    assert len(tap.seen) == events
    assert {r["health"] for r in tap.seen} == {"ok"}


def test_the_tap_sees_every_byte_in_order_then_the_end(move):
    payload = stream_json(rate_limit_event()) * 3000
    got: list[bytes] = []
    assert pumped(move, payload, got.append, pieces=[777] * 10_000) == payload
    assert b"".join(got) == payload and got[-1] == b"" and b"" not in got[:-1]


def bytes_find(haystack: bytes, needle: bytes, start: int = 0) -> int:
    return haystack.find(needle, start)


@pytest.mark.parametrize("search", ["memmem", "bytes.find"])
def test_chunk_edges_anywhere_cut_no_event_and_invent_none(search):
    """Markers cut by the chunk edge, a marker twice on a line, an unquoted one, a last line without a newline;
    with libc's memmem and with the search used where there is none."""
    rng = random.Random(3)
    for trial in range(400):
        lines = []
        for i in range(rng.randint(0, 25)):
            kind = rng.random()
            if kind < 0.3:
                lines.append(b'{"type":"rate_limit_event","n":%d}' % i)
            elif kind < 0.4:
                lines.append(b'{"a":"rate_limit_event","b":"rate_limit_event","n":%d}' % i)
            elif kind < 0.5:
                lines.append(b'{"text":"rate_limit_event is a word","n":%d}' % i)
            else:
                lines.append(bytes(rng.choice(b'ab"{}_ \\') for _ in range(rng.randint(0, 60))))
        data = b"\n".join(lines) + (b"\n" if rng.random() < 0.5 else b"")
        tap, at = Recorder(), 0
        if search == "bytes.find":
            tap._find = bytes_find
        while at < len(data):
            step = rng.choice([1, 2, 5, 17, 18, 19, 40, 1000])
            tap(data[at:at + step])
            at += step
        tap(b"")
        assert tap.lines == [line for line in data.split(b"\n") if NEEDLE in line], trial


def test_the_memmem_search_answers_as_bytes_find():
    find = substring_finder()
    rng = random.Random(5)
    for _ in range(2000):
        haystack = bytes(rng.choice(b'ab"_') for _ in range(rng.randint(0, 80)))
        needle = bytes(rng.choice(b'ab"_') for _ in range(rng.randint(1, 4)))
        start = rng.randint(0, 90)
        assert find(haystack, needle, start) == haystack.find(needle, start), (haystack, needle, start)


def test_a_last_event_line_without_a_newline_is_read_at_the_end(move):
    payload = stream_json() + json.dumps(rate_limit_event("rejected", "seven_day", 1.0)).encode()
    tap = Recorder()
    assert pumped(move, payload, tap, pieces=[5] * 10_000) == payload
    assert [r["health"] for r in tap.seen] == ["weekly_limit"]


def test_a_reader_that_goes_away_ends_the_copy_and_the_child_gets_its_broken_pipe(move):
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    os.close(dst_r)  # `roost exec ... | head -c0`: nobody reads roost's stdout
    seen = {}

    def child():
        try:
            for _ in range(1000):
                os.write(src_w, b'{"type":"assistant"}\n' * 1000)
        except OSError as exc:
            seen["errno"] = exc.errno
        finally:
            os.close(src_w)

    writer = threading.Thread(target=child)
    writer.start()
    tap = Recorder()
    move(src_r, dst_w, tap)  # returns, no exception
    writer.join(10)
    os.close(dst_w)
    assert not writer.is_alive() and seen["errno"] == errno.EPIPE
    assert tap.ended == 1
    try:
        os.fstat(src_r)
    except OSError as exc:
        assert exc.errno == errno.EBADF  # the pump closed its end of the child's pipe
    else:
        raise AssertionError("the pump left the child's pipe open")


def test_roost_stdout_a_regular_file_or_one_opened_for_append(move, tmp_path):
    payload, events = session(5, random.Random(4), filler_lines=1500)
    for flags in (os.O_WRONLY | os.O_CREAT | os.O_TRUNC, os.O_WRONLY | os.O_CREAT | os.O_APPEND):
        target = tmp_path / f"out-{flags}.jsonl"
        if flags & os.O_APPEND:
            target.write_bytes(b"before\n")
        src_r, src_w = os.pipe()
        dst = os.open(target, flags, 0o600)
        writer = threading.Thread(target=lambda fd=src_w: (os.write(fd, payload), os.close(fd)))
        writer.start()
        tap = Recorder()
        move(src_r, dst, tap)
        writer.join()
        os.close(dst)
        expected = (b"before\n" if flags & os.O_APPEND else b"") + payload
        assert target.read_bytes() == expected and len(tap.seen) == events


def test_a_tap_that_raises_is_dropped_and_the_copy_goes_on(move):
    payload = stream_json(rate_limit_event()) * 5000
    calls: list[int] = []

    def broken(chunk: bytes) -> None:
        calls.append(len(chunk))
        if len(calls) == 2:
            raise ValueError("a plugin's bug")

    assert pumped(move, payload, broken, pieces=[1000] * 10_000) == payload
    assert len(calls) == 2  # never called again, not even for the end of the stream


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes (F_GETPIPE_SZ) are Linux's")
def test_exec_raises_its_pipes_to_a_chunk_and_leaves_anything_else_alone(tmp_path):
    import fcntl

    get_size = 1032  # F_GETPIPE_SZ (Linux)
    read_end, write_end = os.pipe()
    try:
        try:
            small = fcntl.fcntl(write_end, get_size)
        except OSError:
            pytest.skip("no pipe sizes on this system")
        big_pipe(write_end)  # roost's stdout when it is a pipe: the reader's side of it grows too
        assert fcntl.fcntl(read_end, get_size) == max(small, PUMP_CHUNK)
    finally:
        os.close(read_end)
        os.close(write_end)
    with open(tmp_path / "out", "wb") as regular:
        big_pipe(regular.fileno())  # a file: nothing to do, no error
    big_pipe(9999)  # not open: no error


def test_tee_and_splice_carry_a_pipe_to_a_pipe_a_socket_or_a_plain_file_only(tmp_path, monkeypatch):
    import socket

    if not kernel_pass_through():
        pytest.skip("no tee(2)/splice(2) on this system")
    src_r, src_w = os.pipe()
    left, right = socket.socketpair()
    plain = os.open(tmp_path / "plain", os.O_WRONLY | os.O_CREAT, 0o600)
    append = os.open(tmp_path / "append", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        assert teepump.usable(src_r, left.fileno()) and teepump.usable(src_r, plain)
        assert not teepump.usable(src_r, append)  # splice refuses O_APPEND
        assert not teepump.usable(plain, src_w)  # the child's side must be a pipe
        ways = []
        monkeypatch.setattr(teepump, "_tee_pump", lambda *args: ways.append("tee"))
        teepump.pass_through(src_r, left.fileno(), print, lambda *args: ways.append("read/write"))
        teepump.pass_through(src_r, append, print, lambda *args: ways.append("read/write"))
        assert ways == ["tee", "read/write"]
    finally:
        for fd in (src_r, src_w, plain, append):
            os.close(fd)
        left.close()
        right.close()


def test_a_socket_as_roost_stdout_gets_every_byte(move):
    import socket

    payload, events = session(8, random.Random(6), filler_lines=2000)
    left, right = socket.socketpair()
    src_r, src_w = os.pipe()
    out = bytearray()

    def consume():
        while chunk := right.recv(1 << 16):
            out.extend(chunk)

    reader = threading.Thread(target=consume)
    writer = threading.Thread(target=lambda: (os.write(src_w, payload), os.close(src_w)))
    reader.start()
    writer.start()
    tap = Recorder()
    move(src_r, left.fileno(), tap)
    writer.join()
    left.shutdown(socket.SHUT_WR)
    reader.join()
    left.close()
    right.close()
    assert bytes(out) == payload and len(tap.seen) == events


def test_a_non_blocking_stdout_with_a_slow_reader_still_gets_every_byte(move):
    """A stdout whose O_NONBLOCK flag another process set (it is shared): EAGAIN means wait, not drop."""
    payload, events = session(4, random.Random(7), filler_lines=1000)
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    os.set_blocking(dst_w, False)
    out = bytearray()

    def slow_reader():
        while chunk := os.read(dst_r, 4096):
            out.extend(chunk)
            if len(out) % 7 == 0:
                time.sleep(0.001)

    reader = threading.Thread(target=slow_reader)
    writer = threading.Thread(target=lambda: (os.write(src_w, payload), os.close(src_w)))
    reader.start()
    writer.start()
    tap = Recorder()
    move(src_r, dst_w, tap)
    writer.join()
    os.close(dst_w)
    reader.join()
    os.close(dst_r)
    assert bytes(out) == payload and len(tap.seen) == events
