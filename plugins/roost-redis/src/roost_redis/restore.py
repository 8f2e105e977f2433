"""``roost state restore``: rebuild a store that lost its data from the machines' mirrors.

Each machine keeps the newest sealed record it saw of every profile. Pushing
them with "highest version wins" gives the right answer whatever the order
of machines, because only the newest refresh token of a profile is alive.
Leases this machine still knows about are pushed back too (a child that is
still running keeps its protection). Refresh stays refused for
``restore_hold`` after a restore so a holder from before the reset
finishes and the other machines can push their copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .leasedoc import DOC as LEASES_DOC
from .store import StoreInfo, new_epoch

if TYPE_CHECKING:
    from .ops import StoreOps


@dataclass
class RestoreReport:
    epoch: str
    created: bool
    pushed: dict[str, int] = field(default_factory=dict)  # profile -> version now stored
    kept: dict[str, int] = field(default_factory=dict)  # profile -> store already as new (its version)
    leases: int = 0
    journal: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "created": self.created, "pushed": self.pushed, "kept": self.kept,
                "leases": self.leases, "journal": self.journal}


def push_mirrors(backend: "StoreOps") -> dict[str, int]:
    """Put every mirrored record whose version is newer than the store's; returns the pushed ones."""
    pushed: dict[str, int] = {}
    for record in backend.local.mirrored_profiles():
        stored, version = backend.creds.put_if_newer(str(record["profile"]), record)
        if stored:
            pushed[str(record["profile"])] = version
    return pushed


def _push_leases(backend: "StoreOps") -> int:
    from roost_core.api import Lease

    mirrored = backend.local.mirrored_doc(LEASES_DOC).get("leases", {})
    now = backend.now()
    keep = {}
    for lease_id, entry in (mirrored.items() if isinstance(mirrored, dict) else []):
        try:
            lease = Lease(**entry)
        except TypeError:
            continue
        if lease.expires_at > now and not lease.holder_dead():
            keep[lease_id] = entry
    if keep:
        backend.leases.update(lambda doc: {"leases": {**doc.get("leases", {}), **keep}},
                              backend.intent_owner_for)
    return len(keep)


def init_store(backend: "StoreOps") -> tuple[bool, str]:
    """Create the epoch if the store has none: (created, epoch)."""
    result = backend.script("init_meta", "initialising the store", [backend.keys.meta], [new_epoch(), "0"])
    epoch = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
    backend.local.remember_epoch(epoch)
    return bool(int(result[0])), epoch


def restore(backend: "StoreOps") -> RestoreReport:
    result = backend.script("init_meta", "restoring the store", [backend.keys.meta],
                             [new_epoch(), "1"])
    created = bool(int(result[0]))
    epoch = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
    report = RestoreReport(epoch, created)
    report.journal = backend.creds.flush_journal()
    for record in backend.local.mirrored_profiles():
        name = str(record["profile"])
        stored, version = backend.creds.put_if_newer(name, record)
        (report.pushed if stored else report.kept)[name] = version
    report.leases = _push_leases(backend)
    backend.local.remember_epoch(epoch)
    backend.epoch.forget()
    return report


def store_status(backend: "StoreOps") -> dict[str, Any]:
    """What ``roost state status`` and doctor report (no secrets)."""
    info: StoreInfo | None = backend.store_info()

    def config(name: str) -> str | None:
        import redis.exceptions as rx

        try:  # straight to the client: a refusal here must not mark the store as down
            value = backend.conn.client.config_get(name)
        except (rx.RedisError, OSError):
            return None  # the ACL may (rightly) forbid CONFIG
        raw = value.get(name) if isinstance(value, dict) else None
        return raw.decode() if isinstance(raw, bytes) else raw

    server = backend.call("reading server info", lambda c: c.info("server"))
    replication = replication_status(backend)
    profiles = backend.call("listing profiles", lambda c: c.hgetall(backend.keys.profiles))
    return {
        "url": backend.settings.display_url,
        "tls": backend.settings.url.startswith("rediss://"),
        "server_version": server.get("redis_version"),
        "epoch": info.epoch if info else None,
        "seen_epoch": backend.local.seen_epoch(),
        "initialised": info is not None,
        "restored_at_ms": info.restored_ms if info and info.restored_ms else None,
        "appendonly": config("appendonly"),
        "appendfsync": config("appendfsync"),
        "profiles": sorted(v.decode() for v in profiles.values()),
        "pending_journal": sum(1 for _ in backend.journal.entries()),
        "journal_conflicts": [str(p) for p in backend.journal.conflicts()],
        "replication": replication,
        "unreplicated": unreplicated_rotations(backend, sorted(v.decode() for v in profiles.values())),
    }


def unreplicated_rotations(backend: "StoreOps", names: list[str]) -> list[dict[str, Any]]:
    """Rotations stored but not yet confirmed by a replica: every one the store shows (its spend
    intent outlived the commit, naming the machine that rotated), so any machine lists them, plus
    this machine's own journal entries the store no longer shows that way (re-sent on its next run).

    Each: ``{profile, version, host, this_machine, intent_ttl_s, in_store, in_journal}``.
    """
    listed = {(u["profile"], u["version"]): {**u, "in_store": True, "in_journal": False}
              for u in backend.creds.unreplicated_in_store(names)}
    for entry in backend.journal.unreplicated():
        key = (entry.profile, entry.new_v)
        if key in listed:
            listed[key]["in_journal"] = True
        else:
            listed[key] = {"profile": entry.profile, "version": entry.new_v, "host": entry.host or backend.host,
                           "this_machine": True, "intent_ttl_s": None, "in_store": False, "in_journal": True}
    return [listed[key] for key in sorted(listed)]


def replication_status(backend: "StoreOps") -> dict[str, Any]:
    """Replicas of the primary and their lag, what a rotation waits for, the Sentinels' view."""
    info = backend.conn.info("replication", "reading replication info") or {}  # {}: INFO not granted
    offset = int(info.get("master_repl_offset", 0)) if info else 0
    replicas = []
    for index in range(int(info.get("connected_slaves", 0)) if info else 0):
        entry = info.get(f"slave{index}") or {}
        if isinstance(entry, dict):
            replicas.append({"address": f"{entry.get('ip')}:{entry.get('port')}", "state": entry.get("state"),
                             "lag_s": entry.get("lag"), "behind_bytes": max(offset - int(entry.get("offset", 0)), 0)})
    failover = backend.call("reading the store's failover mark",
                             lambda c: c.hget(backend.keys.meta, "failover_ms"))
    status: dict[str, Any] = {
        "role": info.get("role") if info else None,
        "replicas": replicas if info else None,  # None: INFO not granted
        "min_replicas": backend.conn.required_replicas(),
        "min_replicas_setting": backend.settings.min_replicas,
        "wait_timeout_s": backend.settings.wait_timeout,
        "last_failover_ms": int(failover) if failover else None,
    }
    if backend.settings.sentinels:
        host, port = backend.call("asking the Sentinels for the primary",
                                   lambda c: c.connection_pool.get_master_address())
        status.update(service=backend.settings.service, primary=f"{host}:{port}",
                      sentinels=[f"{h}:{p}" for h, p in backend.settings.sentinels])
    return status
