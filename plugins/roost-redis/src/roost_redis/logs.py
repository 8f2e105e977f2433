"""Size and truncation of a log stream (the redis backend's ``log_stats``/``truncate_log``).

A log is one Redis Stream (``<prefix>log:<hash>``). Lines this machine wrote
while the store was down sit in its spool until the next append or read; both
functions flush the spool first, so the figures and the truncation include
them (other machines' spools are flushed by their next run, after a truncate
as well: a line written during an outage may come back once).

* ``log_stats`` answers even when the store is down: ``records`` and
  ``bytes`` are None, ``degraded`` is True with the reason, and ``spooled``
  counts this machine's unsent lines. Entries are counted with XLEN (a
  duplicate left by a retried XADD counts twice; readers drop it by its eid).
* ``truncate_log`` fails closed (UNAVAILABLE, exit 9) when the store is down,
  and returns the number of stream *entries* dropped (the files backend
  returns bytes). ``XTRIM MAXLEN 0`` is one atomic command: a line appended
  concurrently lands either before it (dropped) or after it (kept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import BackendDown
from .localstate import read_spool

if TYPE_CHECKING:
    from .ops import StoreOps


def location(backend: "StoreOps", log: str) -> str:
    """Where the log lives, with no secret in it (the password-redacted URL)."""
    return f"{backend.settings.display_url} {backend.keys.log(log)} (stream)"


def spooled(backend: "StoreOps", log: str) -> int:
    """Lines of ``log`` this machine wrote while the store was down, not yet sent."""
    return sum(entry["log"] == log for path in backend.local.spooled_files() for entry in read_spool(path))


def log_stats(backend: "StoreOps", log: str) -> dict[str, Any]:
    stats: dict[str, Any] = {"location": location(backend, log), "records": None, "bytes": None,
                             "backend": backend.name, "degraded": False}
    try:
        backend.flush_spool()
        stats["records"] = int(backend.call("counting a log", lambda c: c.xlen(backend.keys.log(log))))
    except BackendDown as exc:
        backend.degrade(exc)
        stats.update(degraded=True, reason=exc.message)
    stats["spooled"] = spooled(backend, log)
    return stats


def truncate_log(backend: "StoreOps", log: str) -> int:
    """Empty the stream; the number of entries dropped. UNAVAILABLE when the store is down."""
    backend.flush_spool()
    key = backend.keys.log(log)
    return int(backend.call("truncating a log", lambda c: c.xtrim(key, maxlen=0, approximate=False)))
