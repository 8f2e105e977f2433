"""Passive readings recorded through the state backend: the full path of statusline/hook, and exec's tap.

``read_observation`` asks every passive source of a kind (built-in and a
site's) for readings; ``record`` stores them in the ``passive`` document
through the state backend (the fast path, fast.py, writes the same document
itself). ``StreamTap`` reads stream-json ``rate_limit_event`` lines of an exec
child on the way (exec_tap.py hands it to exec). The core's merge rule
(roost_core.passive) decides what they mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .doc import DOC as passive_doc_name
from .doc import repeats as passive_doc_repeats
from .doc import with_reading as passive_doc_with_reading

if TYPE_CHECKING:
    from roost_core.api import RoostContext


# -- recording ---------------------------------------------------------------------

def sources(ctx: "RoostContext") -> dict[str, Any]:
    """Registered passive sources by name (built-in and a site's)."""
    return ctx.host.registry("passive")


def read_observation(ctx: "RoostContext", kind: str, observation: Any, now: float) -> list[dict[str, Any]]:
    """Every passive source that reads ``kind`` turns ``observation`` into readings."""
    found = []
    for name, source in sorted(sources(ctx).items()):
        if kind not in getattr(source, "kinds", ()):
            continue
        try:
            result = source.read(kind, observation, now)
        except Exception as exc:  # a site plugin's bug never breaks the turn
            debug_note(ctx, f"passive source {name!r} failed on {kind}: {type(exc).__name__}: {exc}")
            continue
        for reading in result if isinstance(result, list) else [result]:
            if isinstance(reading, dict) and isinstance(reading.get("observed_at"), (int, float)):
                found.append({**reading, "source": reading.get("source") or name})
    return found


def current_profile(ctx: "RoostContext") -> tuple[str, str] | None:
    """(name, directory) of the roost profile this process runs under."""
    from .where import resolve_profile

    return resolve_profile(ctx.env)


def record(ctx: "RoostContext", name: str, readings: list[dict[str, Any]], cred_mtime_ns: int | None) -> None:
    """Store readings for profile ``name`` in the ``passive`` document (one update)."""
    if not readings:
        return

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        for reading in readings:
            doc = passive_doc_with_reading(doc, name, reading, cred_mtime_ns)
        return doc

    ctx.state.update_doc(passive_doc_name, edit)


def debug_note(ctx: "RoostContext", message: str) -> None:
    from .where import debug_note as note

    note(ctx.env, message)


# -- stream-json under roost exec ---------------------------------------------------------

STREAM_MARKER = b"rate_limit_event"
MAX_LINE = 1 << 20  # a longer line is not a rate_limit_event


def substring_finder() -> Callable[..., int]:
    """``find(haystack, needle, start=0)``: ``haystack.find(needle, start)`` through libc's memmem
    where there is one (several times faster than bytes' own search on stream-json text)."""
    try:
        import ctypes

        memmem = ctypes.CDLL(None).memmem
    except (ImportError, OSError, TypeError, AttributeError):  # Windows, or a libc without memmem
        return lambda haystack, needle, start=0: haystack.find(needle, start)
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    char_p, void_p, cast = ctypes.c_char_p, ctypes.c_void_p, ctypes.cast

    def find(haystack: bytes, needle: bytes, start: int = 0) -> int:
        if start >= len(haystack):
            return -1
        base = cast(char_p(haystack), void_p).value  # the bytes' own buffer, not a copy
        if base is None:
            return haystack.find(needle, start)
        at = memmem(base + start, len(haystack) - start, needle, len(needle))
        return -1 if at is None else at - base

    return find


class StreamTap:
    """Finds ``rate_limit_event`` lines in a child's stdout chunks and records their readings.

    Cheap on the bytes that matter least: a chunk without the marker costs one
    substring search (libc's memmem for the quoted JSON string
    ``"rate_limit_event"``, about 10 GB/s here, three times bytes' own search)
    and one ``rfind`` of its last newline. In a chunk holding the marker only
    the lines holding it are cut out and parsed (splitting the whole chunk
    into lines cost more than the search of every byte). Readings are written
    by a writer thread, so the copy never waits on the state backend's lock
    and fsync (a burst within ``FLUSH_EVERY_S`` is one write of the latest
    readings); ``tap(b"")`` ends the stream and returns once the last readings
    are written. The passive sources are resolved up front (the plugin host is
    not thread-safe); the state backend writes under its own lock.
    """

    FLUSH_EVERY_S = 1.0  # a burst of events is one write of the latest readings
    CLOSE_WAIT_S = 10.0  # at the end of the stream: how long the last write may take
    NEEDLE = b'"' + STREAM_MARKER + b'"'  # a JSON "type" value is always quoted

    def __init__(self, ctx: "RoostContext", name: str, cred_path: str, sources_: list[Any]):
        import threading

        self.ctx, self.name, self.cred_path, self.sources = ctx, name, cred_path, sources_
        self.tail = b""
        self.pending = False
        self.recorded = 0
        self.repeated = 0  # readings not written: the stored ones said the same (doc.repeats)
        self.unwritten: list[dict[str, Any]] = []
        self.flushed_at = float("-inf")
        self._mutex = threading.Lock()
        self._wake, self._closing = threading.Event(), threading.Event()
        self._writer: Any = None
        self._find = substring_finder()

    def __call__(self, chunk: bytes) -> None:
        self.scan(chunk)

    def scan(self, chunk: bytes) -> None:
        """Find marker lines in the next chunk (b"": end of stream: the last line, then the last write)."""
        if not chunk:
            if self.pending and self.tail:
                self._lines(self.tail)
            self.tail, self.pending = b"", False
            self.close()
            return
        needle, tail, find = self.NEEDLE, self.tail, self._find
        at = find(chunk, needle)  # the first marker, or -1
        hit = at >= 0
        if tail and not self.pending:  # a marker cut in two by the chunk edge
            edge = len(needle) - 1
            self.pending = needle in tail[-edge:] + chunk[:edge]
        newline = chunk.rfind(b"\n")
        if newline < 0:
            if len(tail) + len(chunk) <= MAX_LINE:
                self.tail = tail + chunk
                self.pending = self.pending or hit
            else:
                self.tail, self.pending = b"", False
            return
        lines, start = [], 0
        if self.pending:  # the line the tail began ends in this chunk
            start = chunk.find(b"\n") + 1
            lines.append(tail + chunk[:start - 1])
        if hit:  # cut out only the lines holding the marker: a whole chunk is not split
            if at < start:
                at = find(chunk, needle, start)
            while 0 <= at < newline:
                begin = chunk.rfind(b"\n", 0, at) + 1
                end = chunk.find(b"\n", at)
                lines.append((tail if begin == 0 else b"") + chunk[begin:end])
                at = find(chunk, needle, end + 1)
        if lines:
            self._lines(b"\n".join(lines))
        rest = chunk[newline + 1:]
        self.tail = rest if len(rest) <= MAX_LINE else b""
        self.pending = hit and needle in self.tail

    def _lines(self, data: bytes) -> None:
        import time

        readings = []
        for line in data.split(b"\n"):
            if STREAM_MARKER not in line:
                continue
            now = time.time()
            for source in self.sources:
                try:
                    reading = source.read("stream", line, now)
                except Exception as exc:
                    debug_note(self.ctx, f"passive source {source.name!r} failed on a stream line: {exc}")
                    continue
                if isinstance(reading, dict):
                    readings.append({**reading, "source": reading.get("source") or source.name})
        if readings:
            with self._mutex:
                self.unwritten.extend(readings)
            self._kick()

    def _kick(self) -> None:
        """Wake the writer thread (started on the first reading)."""
        if self._writer is None:
            import threading

            self._writer = threading.Thread(target=self._write_loop, name="roost-stream-readings", daemon=True)
            self._writer.start()
        self._wake.set()

    def _write_loop(self) -> None:
        while not self._closing.is_set():
            self._wake.wait()
            self._wake.clear()
            self.flush()
            if self._closing.wait(self.FLUSH_EVERY_S):  # readings of the next second: one write
                return

    def close(self) -> None:
        """End of the stream: let the writer finish, then write what is left."""
        self._closing.set()
        if self._writer is not None:
            self._wake.set()
            self._writer.join(self.CLOSE_WAIT_S)
        self.flush()

    def flush(self) -> None:
        """Record what arrived since the last write, but for readings the stored ones already say."""
        import os
        import time

        with self._mutex:
            readings, self.unwritten = self.unwritten, []
        if not readings:
            return
        self.flushed_at = time.monotonic()
        try:
            mtime = os.stat(self.cred_path).st_mtime_ns
        except OSError:
            mtime = None
        try:
            news = self._news(readings, mtime)
            if news:
                record(self.ctx, self.name, news, mtime)
            with self._mutex:
                self.recorded += len(news)
                self.repeated += len(readings) - len(news)
        except Exception as exc:  # passive health must never disturb the child's output
            debug_note(self.ctx, f"stream: could not record a reading for {self.name!r}: {exc}")

    def _news(self, readings: list[dict[str, Any]], mtime: int | None) -> list[dict[str, Any]]:
        """The readings not repeating the stored ones: the status line's rule (doc.repeats: the same
        health, reason and figures less than REPEAT_S after the stored reading is not written again),
        so a stream's steady events cost no write. Read without the lock: a write it saves can only
        be of figures the document held a moment ago."""
        doc = self.ctx.state.read_doc(passive_doc_name)
        news = []
        for reading in readings:
            if not passive_doc_repeats(doc, self.name, reading, mtime):
                doc = passive_doc_with_reading(doc, self.name, reading, mtime)
                news.append(reading)
        return news


def stream_tap(ctx: "RoostContext", profile: Any) -> StreamTap | None:
    """A tap for ``profile``'s child, or None when no passive source reads stream lines."""
    try:
        chosen = [s for _, s in sorted(sources(ctx).items()) if "stream" in getattr(s, "kinds", ())]
        _ = ctx.state  # build the backend on this thread, before the pump thread uses it
    except Exception as exc:
        debug_note(ctx, f"stream: no passive sources ({type(exc).__name__}: {exc})")
        return None
    if not chosen:
        return None
    return StreamTap(ctx, profile.name, str(profile.credentials_path), chosen)
