"""Redis key layout (all under the configured prefix, default ``roost:``).

Profile and lock names are untrusted text, so keys carry ``sha256(name)[:16]``;
the readable name lives in the ``profiles`` hash. One primary, no Cluster:
scripts touch a profile's keys and the global lease index together.

=====================  ======  ===============================================
key                    type    content
=====================  ======  ===============================================
meta                   hash    epoch, created_ms, restored_ms, schema
profiles               hash    profile id -> name
removed                hash    profile id -> JSON tombstone {name, v, at_ms, host,
                               renamed_to} of a profile removed or renamed
cred:<id>              hash    v, blob (Fernet), fp, rotation_id, expires_at_ms,
                               updated_ms, host, fence, prior_fps (no secret
                               in clear)
rlock:<id>             string  refresh-lock owner ``host:pid:uuid``, PX lock_ttl
fence:<id>             int     INCR per refresh-lock grant
intent:<id>            hash    spend intent: owner, v, host, pid, boot, pstart,
                               at_ms; PX intent_ttl, cleared by commit/release
lease:<lease id>       string  lease JSON, PX = lease TTL
leases                 zset    lease id scored by expiry (server ms)
leases:<id>            zset    the profile's lease ids scored by expiry
lock:<hash>            string  any other named lock's owner, PX lock_ttl
claim:<hash>           string  claim owner (one prober per profile), PX
doc:<name>             hash    v, json
log:<name>             stream  eid, line; XADD MAXLEN ~ stream_maxlen
=====================  ======  ===============================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

REFRESH_LOCK_PREFIX = "refresh:"


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Keyspace:
    prefix: str = "roost:"

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def meta(self) -> str:
        return self._k("meta")

    @property
    def profiles(self) -> str:
        return self._k("profiles")

    @property
    def removed(self) -> str:
        return self._k("removed")

    @property
    def leases(self) -> str:
        return self._k("leases")

    @property
    def lease_prefix(self) -> str:
        return self._k("lease", "")

    def cred(self, profile: str) -> str:
        return self._k("cred", short_hash(profile))

    def rlock(self, profile: str) -> str:
        return self._k("rlock", short_hash(profile))

    def fence(self, profile: str) -> str:
        return self._k("fence", short_hash(profile))

    def intent(self, profile: str) -> str:
        return self._k("intent", short_hash(profile))

    def profile_leases(self, profile: str) -> str:
        return self._k("leases", short_hash(profile))

    def lease(self, lease_id: str) -> str:
        return self._k("lease", short_hash(lease_id))

    def lock(self, name: str) -> str:
        return self._k("lock", short_hash(name))

    def claim(self, name: str) -> str:
        return self._k("claim", short_hash(name))

    def doc(self, name: str) -> str:
        return self._k("doc", short_hash(name))

    def log(self, name: str) -> str:
        return self._k("log", short_hash(name))

    @staticmethod
    def profile_id(profile: str) -> str:
        return short_hash(profile)


def refresh_lock_target(lock_name: str) -> str | None:
    """What a refresh lock names: a profile name, or (the core's form) the realpath
    of a credentials file, which differs between machines and must be mapped back
    to the profile name before it can name a fleet-wide key."""
    if lock_name.startswith(REFRESH_LOCK_PREFIX):
        return lock_name[len(REFRESH_LOCK_PREFIX):] or None
    return None
