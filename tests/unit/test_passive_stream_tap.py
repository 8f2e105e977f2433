"""stream-json under exec: the pump copies every byte; the tap finds rate_limit_event lines across chunk edges."""

from __future__ import annotations

import os
import threading

from roost_plugins.dispatch.childproc import pump
from roost_plugins.passive.exec_tap import wants_stream_tap
from roost_plugins.passive.recording import StreamTap
from roost_plugins.fakeserver.passive_docs import rate_limit_event, stream_json
from roost_plugins.passive.stream import StreamSource


class Recorder(StreamTap):
    def __init__(self):
        super().__init__(None, "work", "/nonexistent", [StreamSource()])
        self.seen = []

    def _lines(self, data):  # the parsing half, without the state backend
        for line in data.split(b"\n"):
            reading = self.sources[0].read("stream", line, 1.0)
            if reading:
                self.seen.append(reading)


def feed_in_pieces(data: bytes, size: int) -> Recorder:
    tap = Recorder()
    for i in range(0, len(data), size):
        tap(data[i:i + size])
    tap(b"")
    return tap


def test_every_chunking_finds_each_event_once():
    data = stream_json(rate_limit_event("allowed", "five_hour", 0.3), rate_limit_event("rejected", "seven_day", 1.0))
    for size in (1, 2, 7, 15, 16, 17, 64, 200, len(data)):
        tap = feed_in_pieces(data, size)
        assert [r["health"] for r in tap.seen] == ["ok", "weekly_limit"], size


def test_a_last_line_without_a_newline_is_read_at_the_end():
    data = stream_json() + b'{"type": "rate_limit_event", "rate_limit_info": {"status": "allowed"}}'
    assert [r["health"] for r in feed_in_pieces(data, 10).seen] == ["ok"]


def test_the_pump_copies_every_byte_unchanged():
    payload = stream_json(rate_limit_event()) * 2000 + bytes(range(256)) * 64 + b"no newline at the end"
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    got = bytearray()

    def drain():
        while chunk := os.read(dst_r, 65536):
            got.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    tap = Recorder()
    writer = threading.Thread(target=lambda: (os.write(src_w, payload), os.close(src_w)))
    writer.start()
    pump(src_r, dst_w, tap)
    writer.join()
    os.close(dst_w)
    reader.join()
    os.close(dst_r)
    assert bytes(got) == payload and len(tap.seen) == 2000


def test_the_tap_only_when_asked_for_stream_json_and_not_on_a_terminal():
    assert wants_stream_tap(["claude", "-p", "x", "--output-format", "stream-json"], stdout_is_tty=False)
    assert wants_stream_tap(["claude", "--output-format=stream-json"], stdout_is_tty=False)
    assert not wants_stream_tap(["claude", "--output-format", "stream-json"], stdout_is_tty=True)
    assert not wants_stream_tap(["claude", "--output-format", "json"], stdout_is_tty=False)
    assert not wants_stream_tap(["--output-format", "stream-json"][:1], stdout_is_tty=False)
