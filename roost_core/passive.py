"""Passive health: readings from a running claude, recorded and merged with probes.

Three built-in passive sources (plugins in roost_plugins/passive) read what
claude reports anyway: the statusLine document, the StopFailure hook event
and stream-json ``rate_limit_event`` lines. Each reading carries its
``source`` and ``observed_at``; the ``passive`` document (roost_core.
passive_doc) keeps the latest per profile and source.

Merging (``Evidence``): the freshest evidence decides.

* A passive reading newer than the profile's last probe stands in for a
  probe (no request, no probe budget) until the probe cache would have
  expired: an ``ok`` for ``STANDIN_TTL_S`` (the probe's ok TTL), a limit
  until its reset, a throttle without a reset for ``THROTTLE_TTL_S``.
* An auth verdict from a hook (``auth_dead``: authentication_failed,
  oauth_org_not_allowed, account_on_hold, billing_error) holds until the
  credentials file changes or a newer probe says otherwise; later figures
  from a status line do not clear it (a person must act).
* Once the freshest passive reading has expired, the older probe entry is
  no longer trusted either: the next AUTO run probes.
* Figures: each window the passive readings reported (newer than the
  probe) replaces the probe's figure for that window; a window no passive
  reading reported keeps the probe's figure (or none): nothing is invented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import passive_doc

if TYPE_CHECKING:
    from .context import RoostContext
    from .probe.local import Local
    from .records import HealthRecord

PASSIVE_SOURCES = ("statusline", "hook", "stream")
STANDIN_TTL_S = 300.0  # the probe cache's ok TTL (taxonomy OK_TTL)
THROTTLE_TTL_S = 60.0  # the probe cache's rate_limited TTL without a retry-after
AUTH_HEALTH = "auth_dead"
THROTTLE = ("rate_limited", "session_limit", "weekly_limit")
WINDOW_FIELDS = {"five_hour": ("session_pct", "session_resets_at"),
                 "seven_day": ("weekly_pct", "weekly_resets_at"),
                 "seven_day_opus": ("opus_pct", None), "seven_day_sonnet": ("sonnet_pct", None),
                 "overage": ("overage_pct", None)}


def iso(epoch: float | None) -> str | None:
    from datetime import datetime, timezone

    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def age_text(seconds: float) -> str:
    from .durations import format_duration

    return format_duration(max(0.0, seconds))


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
    """(name, directory) of the roost profile this process runs under (roost_core.passive_fast)."""
    from .passive_fast import resolve_profile

    return resolve_profile(ctx.env)


def record(ctx: "RoostContext", name: str, readings: list[dict[str, Any]], cred_mtime_ns: int | None) -> None:
    """Store readings for profile ``name`` in the ``passive`` document (one update)."""
    if not readings:
        return

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        for reading in readings:
            doc = passive_doc.with_reading(doc, name, reading, cred_mtime_ns)
        return doc

    ctx.state.update_doc(passive_doc.DOC, edit)


def forget(ctx: "RoostContext", *names: str) -> None:
    ctx.state.update_doc(passive_doc.DOC, lambda doc: passive_doc.without_profiles(doc, names))


def debug_note(ctx: "RoostContext", message: str) -> None:
    from .passive_fast import debug_note as note

    note(ctx.env, message)


# -- merging -----------------------------------------------------------------------

def _expires(reading: dict[str, Any]) -> float | None:
    """When a reading stops standing in for a probe (None: when the credentials change)."""
    observed, health, until = reading["observed_at"], reading.get("health"), reading.get("until")
    if health == AUTH_HEALTH:
        return None
    if health in THROTTLE:
        if isinstance(until, (int, float)) and until > observed:
            return float(until)
        return observed + (THROTTLE_TTL_S if health == "rate_limited" else STANDIN_TTL_S)
    return observed + STANDIN_TTL_S


class Evidence:
    """The passive document, read once per run, and the merge rules above."""

    def __init__(self, doc: dict[str, Any] | None):
        self.doc = doc or {}

    @classmethod
    def load(cls, ctx: "RoostContext") -> "Evidence":
        try:
            return cls(ctx.state.read_doc(passive_doc.DOC))
        except Exception as exc:  # passive evidence is a bonus: never break a status or pick
            ctx.warn(f"passive readings unreadable ({type(exc).__name__}); using probes only")
            return cls({})

    def readings(self, name: str) -> dict[str, dict[str, Any]]:
        return passive_doc.readings_of(self.doc, name)

    def newer(self, name: str, probed_at: float | None, cred_mtime_ns: int | None) -> list[dict[str, Any]]:
        """Readings newer than the last probe (an auth reading only while the credentials are unchanged)."""
        found = []
        for reading in self.readings(name).values():
            if probed_at is not None and reading["observed_at"] <= probed_at:
                continue
            if reading.get("health") == AUTH_HEALTH and reading.get("cred_mtime_ns") not in (None, cred_mtime_ns):
                continue  # a new login or refresh since: the person acted
            found.append(reading)
        return sorted(found, key=lambda r: r["observed_at"])

    def supersedes(self, name: str, entry: dict[str, Any] | None, cred_mtime_ns: int | None) -> bool:
        """True when passive evidence newer than the cached probe exists (the probe no longer decides)."""
        return bool(self.newer(name, _probed_at(entry), cred_mtime_ns))

    def decide(self, name: str, entry: dict[str, Any] | None, cred_mtime_ns: int | None,
               now: float) -> dict[str, Any] | None:
        """The deciding reading and its validity, or None when the probe (or a new probe) decides."""
        newer = self.newer(name, _probed_at(entry), cred_mtime_ns)
        if not newer:
            return None
        auth = [r for r in newer if r.get("health") == AUTH_HEALTH]
        chosen = auth[-1] if auth else newer[-1]
        until = _expires(chosen)
        if until is not None and until <= now:
            return None  # the freshest evidence has expired: probe again
        return {"reading": chosen, "valid_until": until, "figures": newer}

    def stand_in(self, local: "Local", entry: dict[str, Any] | None, now: float) -> "HealthRecord | None":
        """A record decided by passive evidence (no probe), or None."""
        decision = self.decide(local.profile.name, entry, local.mtime_ns, now)
        if decision is None:
            return None
        return build_record(local, entry, decision, now)


def _probed_at(entry: dict[str, Any] | None) -> float | None:
    checked = entry.get("checked_at") if isinstance(entry, dict) else None
    return float(checked) if isinstance(checked, (int, float)) else None


def build_record(local: "Local", entry: dict[str, Any] | None, decision: dict[str, Any],
                 now: float) -> "HealthRecord":
    from .probe.cache import _cached_record
    from .probe.local import build_record as local_record
    from .records import Health

    reading = decision["reading"]
    base = _cached_record(entry, valid=True) if entry else None
    record = base or local_record(local, Health.UNKNOWN)
    creds = local.creds
    if creds is not None:
        record.plan, record.expires_at = creds.plan, creds.expires_at_iso()
    try:
        record.health = Health(reading.get("health") or "ok")
    except ValueError:  # a site source's own word for it
        record.health = Health.UNKNOWN
    for item in decision["figures"]:  # oldest first: the freshest figure of each window wins
        for window, block in (item.get("windows") or {}).items():
            pct_field, reset_field = WINDOW_FIELDS.get(window, (None, None))
            if pct_field and isinstance(block, dict) and isinstance(block.get("pct"), (int, float)):
                setattr(record, pct_field, float(block["pct"]))
                if reset_field:
                    setattr(record, reset_field, iso(block.get("resets_at")))
    observed = reading["observed_at"]
    until = reading.get("until")
    record.error = None if record.health is Health.OK else reading.get("reason")
    record.retry_after_s = (round(until - observed, 1) if record.health in (Health.RATE_LIMITED,)
                            and isinstance(until, (int, float)) else None)
    if record.health is Health.SESSION_LIMIT and isinstance(until, (int, float)):
        record.session_resets_at = iso(until)
    if record.health is Health.WEEKLY_LIMIT and isinstance(until, (int, float)):
        record.weekly_resets_at = iso(until)
    record.source = reading.get("source") or "passive"
    record.observed_at = iso(observed)
    record.checked_at = iso(observed)
    record.valid_until = iso(decision["valid_until"])
    record.stale = False
    record.evidence = explain(reading, entry, now)
    return record


def explain(reading: dict[str, Any], entry: dict[str, Any] | None, now: float) -> str:
    """Which evidence decided and why, in one line."""
    source, observed = reading.get("source") or "passive", reading["observed_at"]
    probed = _probed_at(entry)
    versus = (f"newer than the last probe ({age_text(now - probed)} ago)" if probed is not None
              else "no probe yet")
    holds = {AUTH_HEALTH: "holds until the credentials change",
             None: ""}.get(reading.get("health"), "")
    why = reading.get("reason") or "a passive reading"
    text = f"{source} {age_text(now - observed)} ago decided: {why}; {versus}; no probe spent"
    return f"{text}; {holds}" if holds else text


def probe_evidence(record: "HealthRecord", ev: "Evidence", now: float) -> str | None:
    """For a probe-decided record: the passive readings it outranks, if any."""
    readings = ev.readings(record.name)
    if not readings:
        return None
    freshest = max(readings.values(), key=lambda r: r["observed_at"])
    return (f"probe decided: the freshest passive reading ({freshest.get('source')}, "
            f"{age_text(now - freshest['observed_at'])} ago) is older than the probe or has expired")


def describe(record: "HealthRecord", ev: "Evidence", now: float) -> str:
    """Which evidence decided ``record`` and why (show, trace, pick --explain)."""
    if record.evidence:
        return record.evidence
    what = {"probe": "a probe just now", "cache": "the cached probe", "local": "the credentials file alone"}
    base = what.get(record.source, record.source)
    seen = f" from {record.observed_at}" if record.observed_at and record.source != "probe" else ""
    other = probe_evidence(record, ev, now)
    return f"{base}{seen} decided" + (f"; {other.split(': ', 1)[1]}" if other else "; no passive reading")


def summary(ctx: "RoostContext", name: str, now: float) -> dict[str, Any]:
    """``show``/``trace``/doctor detail: the stored readings and their ages."""
    ev = Evidence.load(ctx)
    readings = ev.readings(name)
    return {"readings": {source: {**{k: v for k, v in r.items() if k != "cred_mtime_ns"},
                                  "observed_at": iso(r["observed_at"]), "until": iso(r.get("until")),
                                  "age_s": round(now - r["observed_at"], 1)}
                         for source, r in sorted(readings.items())},
            "last_observed_at": iso(max((r["observed_at"] for r in readings.values()), default=None))}


# -- stream-json under roost exec ---------------------------------------------------------

STREAM_MARKER = b"rate_limit_event"
MAX_LINE = 1 << 20  # a longer line is not a rate_limit_event


def wants_stream_tap(argv: list[str], stdout_is_tty: bool) -> bool:
    """``--output-format stream-json`` in the child's argv and roost's stdout not a terminal."""
    if stdout_is_tty:
        return False
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "--output-format=stream-json":
            return True
        if arg == "--output-format" and i + 1 < len(argv) and argv[i + 1] == "stream-json":
            return True
    return False


def substring_finder() -> Callable[[bytes, bytes], bool]:
    """``needle in haystack``, through libc's memmem where there is one (several times faster
    than bytes' own search on stream-json text), else the ``in`` operator."""
    try:
        import ctypes

        memmem = ctypes.CDLL(None).memmem
    except (ImportError, OSError, TypeError, AttributeError):  # Windows, or a libc without memmem
        return lambda haystack, needle: needle in haystack
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    return lambda haystack, needle: memmem(haystack, len(haystack), needle, len(needle)) is not None


class StreamTap:
    """Finds ``rate_limit_event`` lines in a child's stdout chunks and records their readings.

    Cheap on the bytes that matter least: a chunk without the marker costs one
    substring search (libc's memmem for the quoted JSON string
    ``"rate_limit_event"``, several times faster than bytes' own search) and
    one ``rfind`` of its last newline; only chunks holding the marker are split
    into lines. The scan runs on the pump thread (a scanner thread of its own
    measured slower: the copy then waits for the GIL). Readings are written by
    a writer thread, so the copy never waits on the state backend's lock and
    fsync (a burst within ``FLUSH_EVERY_S`` is one write of the latest
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
        self.unwritten: list[dict[str, Any]] = []
        self.flushed_at = float("-inf")
        self._mutex = threading.Lock()
        self._wake, self._closing = threading.Event(), threading.Event()
        self._writer: Any = None
        self._found = substring_finder()

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
        needle, found = self.NEEDLE, self._found
        edge = len(needle) - 1
        hit = found(chunk, needle) or bool(self.tail) and needle in self.tail[-edge:] + chunk[:edge]
        newline = chunk.rfind(b"\n")
        if newline < 0:
            if len(self.tail) + len(chunk) <= MAX_LINE:
                self.tail += chunk
                self.pending = self.pending or hit
            else:
                self.tail, self.pending = b"", False
            return
        if hit or self.pending:
            self._lines(self.tail + chunk[:newline])
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
        """Record what arrived since the last write."""
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
            record(self.ctx, self.name, readings, mtime)
            with self._mutex:
                self.recorded += len(readings)
        except Exception as exc:  # passive health must never disturb the child's output
            debug_note(self.ctx, f"stream: could not record a reading for {self.name!r}: {exc}")


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
