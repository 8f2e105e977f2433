"""After a failover: notice the new primary, hold refresh, and undo a store that went back in time.

Replication is asynchronous, so a promoted replica may miss the last writes
of the old primary. Three rules keep that from costing an account:

* Durable rotations (conn.py, creds.py): a spend intent must reach
  ``min_replicas`` replicas (``WAIT``) before the POST, and a committed
  rotation keeps its intent until a replica has it; short of that it stays
  in this machine's journal and is re-sent by every run.
* A new primary is noticed by its replication id (``INFO replication``,
  stamped in ``meta``). If the server was promoted (it carries a second
  replication id) no refresh lock is granted for ``lock_ttl`` after the
  first machine noticed it (``failover_ms``): a holder that took its lock
  on the old primary finishes or gives up, and machines that saw newer
  records push them before anyone refreshes. The event goes to the audit log.
* Each machine's mirror keeps the highest version it has seen per profile;
  a store record older than that is replaced by the mirror (highest version
  wins) before the profile is read or refreshed, and audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import BackendDown

if TYPE_CHECKING:
    from .ops import StoreOps

NO_REPLID = "0" * 40
_ESCAPES = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def audit(backend: "StoreOps", event: str, profile: str, note: str) -> None:
    """One audit-log line (picks.log's columns), written like every other event."""
    import os

    from roost_core.api import AUDIT_COLUMNS, PICKS_LOG, utc_now_iso

    values = {"ts": utc_now_iso(backend.now()), "event": event, "profile": profile,
              "argv0": "roost", "pid": os.getpid(), "note": note}
    line = "\t".join(str(values.get(column, "")).translate(_ESCAPES) for column in AUDIT_COLUMNS)
    backend.append_line(PICKS_LOG, line)


def primary_identity(backend: "StoreOps") -> tuple[str, bool] | None:
    """(replication id, promoted) of the server answering as primary; None if INFO is not granted."""
    info: Any = backend.conn.info("replication", "reading the primary's replication id")
    if not info or info.get("role") != "master" or not info.get("master_replid"):
        return None
    return str(info["master_replid"]), str(info.get("master_replid2") or NO_REPLID) != NO_REPLID


def check_primary(backend: "StoreOps") -> None:
    identity = primary_identity(backend)
    if identity is None:
        return
    replid, promoted = identity
    result = backend.script("mark_primary", "recording the primary", [backend.keys.meta],
                             [replid, "1" if promoted else "0"])
    if int(result[0]) == 1:
        note = (f"the store failed over to a new primary ({backend.settings.display_url}); refresh held "
                f"{backend.settings.lock_ttl:g}s")
        backend.warn(note)
        try:
            audit(backend, "store_failover", "", note)
        except BackendDown:
            pass  # spooled by append_line; never stops the caller


def rolled_back(backend: "StoreOps", profile: str, store_v: int, seen_v: int, pushed: bool) -> None:
    what = "pushed this machine's copy" if pushed else "another machine pushed a newer copy first"
    note = (f"the store held v{store_v} of {profile!r} but this machine had seen v{seen_v} (a failover lost "
            f"writes?); {what} before using it")
    backend.warn(note)
    audit(backend, "store_rollback", profile, note)
