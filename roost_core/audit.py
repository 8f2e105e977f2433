"""picks.log: the audit trail of every pick and exec (format in docs/files.md).

One tab-separated line per event, written with a single append so many
processes can log at once; readers skip lines they cannot parse (a torn tail).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

from .records import AuditEvent

if TYPE_CHECKING:
    from .context import RoostContext

PICKS_LOG = "picks.log"
COLUMNS = [f.name for f in fields(AuditEvent)]
_ESCAPES = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def utc_now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_event(event: AuditEvent) -> str:
    values = []
    for name in COLUMNS:
        value = getattr(event, name)
        values.append("" if value is None else str(value).translate(_ESCAPES))
    return "\t".join(values)


def finite_float(text: str) -> float:
    """``float(text)``, or ValueError for NaN and ±inf (``nan``, ``inf``, ``1e400``): a damaged field."""
    value = float(text)
    if value - value != 0.0:  # NaN and ±inf only (no math import on the pick path)
        raise ValueError(f"not a finite number: {text!r}")
    return value


def parse_line(line: str) -> AuditEvent | None:
    parts = line.rstrip("\n").split("\t")
    if len(parts) != len(COLUMNS):
        return None
    raw = dict(zip(COLUMNS, parts))
    try:
        datetime.fromisoformat(raw["ts"].replace("Z", "+00:00"))
        return AuditEvent(
            ts=raw["ts"], event=raw["event"], profile=raw["profile"], strategy=raw["strategy"],
            rc=int(raw["rc"]) if raw["rc"] else None,
            duration_s=finite_float(raw["duration_s"]) if raw["duration_s"] else None,
            argv0=raw["argv0"], pid=int(raw["pid"] or 0), note=raw["note"])
    except (ValueError, KeyError):
        return None


def append(ctx: "RoostContext", event: AuditEvent) -> None:
    ctx.state.append_line(PICKS_LOG, format_event(event),
                          max_bytes=ctx.settings.get("picks_log_max_bytes"))


def read(ctx: "RoostContext") -> Iterator[AuditEvent]:
    """Every parseable event, oldest first, across rotated generations."""
    for line in ctx.state.iter_lines(PICKS_LOG):
        event = parse_line(line)
        if event is not None:
            yield event
