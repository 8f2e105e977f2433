"""The "leases" document, stored as one Redis key per lease with a TTL.

The core reads and edits leases as one document (roost_core.leases); here
that document is assembled from the live lease keys and an edit is applied
as a difference: new or changed entries are (re)written with the TTL left
on them, removed entries are deleted. Edits by other machines to other
leases are never overwritten, and Redis expires a lease on its own clock.
On reading, each ``expires_at`` is re-based on this machine's clock from
the key's remaining TTL, so clock skew between machines cannot make a live
lease look expired.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

from roost_core.api import Conflict

from .keys import Keyspace, short_hash

DOC = "leases"


class LeaseIndex:
    def __init__(self, script: Callable[..., Any], keys: Keyspace, now: Callable[[], float],
                 warn: Callable[[str], None]):
        self._script = script
        self.keys = keys
        self._now = now
        self._warn = warn

    def read(self) -> dict[str, Any]:
        flat = self._script("lease_list", "reading leases", [self.keys.leases], [self.keys.lease_prefix])
        now = self._now()
        leases: dict[str, Any] = {}
        for raw, pttl in zip(flat[0::2], flat[1::2]):
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            if int(pttl) > 0:
                entry["expires_at"] = now + int(pttl) / 1000.0
            leases[entry["id"]] = entry
        return {"leases": leases}

    def update(self, fn: Callable[[dict[str, Any]], dict[str, Any] | None],
               owner_for: Callable[[str], str]) -> dict[str, Any]:
        """Apply ``fn`` to the assembled document and write back only the difference."""
        old = self.read()
        work = copy.deepcopy(old)
        result = fn(work)
        new = work if result is None else result
        old_leases = old.get("leases", {})
        new_leases = new.get("leases")
        new_leases = new_leases if isinstance(new_leases, dict) else {}
        now = self._now()
        for lease_id, entry in new_leases.items():
            if old_leases.get(lease_id) == entry:
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("profile"), str):
                self._warn(f"lease {lease_id!r} names no profile; not stored")
                continue
            ttl_ms = int((float(entry.get("expires_at", 0)) - now) * 1000)
            if ttl_ms <= 0:
                self._delete(lease_id, entry["profile"])
            else:
                self._put(lease_id, {**entry, "id": lease_id}, ttl_ms, owner_for(entry["profile"]))
        for lease_id, entry in old_leases.items():
            if lease_id not in new_leases and isinstance(entry, dict):
                self._delete(lease_id, str(entry.get("profile", "")))
        return new

    def _put(self, lease_id: str, entry: dict[str, Any], ttl_ms: int, owner: str) -> None:
        profile = entry["profile"]
        result = self._script("lease_put", "adding a lease",
                              [self.keys.lease(lease_id), self.keys.leases, self.keys.profile_leases(profile),
                               self.keys.intent(profile)],
                              [short_hash(lease_id), json.dumps(entry, sort_keys=True), ttl_ms, owner])
        if int(result[0]) != 1:
            host = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
            raise Conflict(f"profile {profile!r} is being refreshed right now (on {host or 'another machine'}); "
                           "no lease while its token rotates, retry in a moment",
                           details={"profile": profile, "host": host})

    def _delete(self, lease_id: str, profile: str) -> None:
        self._script("lease_del", "removing a lease",
                     [self.keys.lease(lease_id), self.keys.leases, self.keys.profile_leases(profile)],
                     [short_hash(lease_id)])
