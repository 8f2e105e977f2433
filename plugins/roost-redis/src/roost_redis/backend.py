"""RedisBackend: roost's StateBackend protocol on one Redis primary.

Same semantics as the built-in files backend, shared by every machine:

* documents: versioned JSON, read-modify-write by compare-and-set (the edit
  is re-applied on a lost race, so it must be a pure function of the doc);
* ``lock(name)``: SET NX PX with a random owner and a watchdog; the refresh
  lock of a profile also honours spend intents and the store epoch;
* logs: one Redis Stream per log, trimmed to ``stream_maxlen``;
* credentials: Fernet-sealed, versioned compare-and-set (see creds.py).

Fail closed: when the store is unreachable, locks, credential writes and
lease changes raise UNAVAILABLE (exit 9) naming the backend. Reads of
documents and credentials fall back to this machine's last copy with a
"degraded" warning, so ``status`` and ``pick`` still answer; log lines are
spooled locally and flushed later.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, cast

from roost_core.api import Conflict, LeaseHeld, RoostError, StateBackendBase

from .client import BackendDown
from .conn import Conn
from .creds import CredentialStore, ReadMark
from .journal import Journal
from .keys import Keyspace, refresh_lock_target
from .leasedoc import DOC as LEASES_DOC
from .leasedoc import LeaseIndex
from .localstate import LocalState, read_spool
from .locks import HeldLock, backoff_delays
from .settings import RedisSettings
from .store import EpochGuard, StoreInfo, StoreNotReady

# Documents whose loss of a write would break a guarantee: refuse instead of degrading.
CRITICAL_DOCS = frozenset({LEASES_DOC})
DOC_CAS_DEADLINE_S = 10.0
LOG_PAGE = 500


def _proc_start(pid: int) -> str | None:
    from roost_core.api import process_start

    return process_start(pid)


def _boot_id() -> str | None:
    from roost_core.api import boot_id

    return boot_id()


class RedisBackend(StateBackendBase):
    """Keeps no pending-grant journal of the core's kind: ``write_credentials`` keeps
    its own sealed local journal until the store has committed (journal.py)."""

    name = "redis"
    shared = True  # every machine sees the same state

    def __init__(self, settings: RedisSettings, config_dir: Path, paths: Any,
                 warn: Callable[[str], None], now: Callable[[], float]):
        self.settings = settings
        self.keys = Keyspace(settings.prefix)
        self.conn = Conn(settings)
        self.warn = warn
        self.now = now
        self.host = socket.gethostname()
        self.local = LocalState(config_dir / "redis", warn)
        self.journal = Journal(self.local.journal_dir)
        self._sealer: Any = None
        self.paths = paths
        self.creds = CredentialStore(self.script, self.call, self.keys, self.sealer, self.local, self.journal,
                                     self.host, paths.profiles_tree, warn, durable=self.conn.script_durable,
                                     needed=self.conn.required_replicas, on_rollback=self._rolled_back,
                                     wait_timeout=settings.wait_timeout, on_journal_commit=self._journal_committed)
        self.leases = LeaseIndex(self.script, self.keys, now, warn)
        self.epoch = EpochGuard(self.store_info, self.local.seen_epoch, self.local.remember_epoch,
                                self._join_restore, settings.display_url)
        self._held: dict[str, HeldLock] = {}
        self._spends: dict[str, str] = {}  # profile -> rotation id of the spend in flight
        self._journal_flushed = False
        self._primary_checked = False
        self._spool_flushed = False
        self.degraded_reason: str | None = None

    # -- plumbing ------------------------------------------------------------
    def sealer(self) -> Any:
        if self._sealer is None:
            from .crypto import Sealer

            self._sealer = Sealer.from_key_file(self.settings.key_file)
        return self._sealer

    def call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        return self.conn.call(what, fn)

    def script(self, name: str, what: str, keys: list[str], args: list[Any]) -> Any:
        return self.conn.script(name, what, keys, args)

    @property
    def degraded(self) -> bool:
        return self.degraded_reason is not None

    def degrade(self, exc: RoostError) -> None:
        if self.degraded_reason is None:
            self.degraded_reason = exc.message
            self.warn(f"{exc.message.split('; ')[0]}; showing this machine's last copy (degraded)")

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "shared": True, "url": self.settings.display_url,
                "degraded": self.degraded, "reason": self.degraded_reason}

    def store_info(self) -> StoreInfo | None:
        return StoreInfo.from_hash(self.call("reading the store epoch", lambda c: c.hgetall(self.keys.meta)))

    def ready_for_credentials(self) -> StoreInfo:
        """The epoch is known and this machine's journal is flushed (before any lock or commit)."""
        info = self.epoch.ensure()
        if not self._journal_flushed:
            for note in self.creds.flush_journal():
                self.warn(note)
            self._journal_flushed = True
        return info

    # -- failover: a new primary, a store that went back in time (failover.py) ----------
    def _audit(self, event: str, profile: str, note: str) -> None:
        from .failover import audit

        audit(self, event, profile, note)

    def _rolled_back(self, profile: str, store_v: int, seen_v: int, pushed: bool) -> None:
        from .failover import rolled_back

        rolled_back(self, profile, store_v, seen_v, pushed)

    def _journal_committed(self, profile: str) -> None:
        """A rotation from the journal (a run cut off after its POST) reached the store only now: drop
        the profile's shared health entry, as the core does after a refresh writes, so no machine keeps
        serving a verdict on the spent credentials (or picks a profile whose rotation is withheld)."""
        from types import SimpleNamespace

        from roost_core.api import drop_health

        try:
            drop_health(cast(Any, SimpleNamespace(state=self)), profile)  # it uses only ctx.state
        except (RoostError, OSError) as exc:
            self.warn(f"committed the journalled credentials of {profile!r} but could not drop its cached "
                      f"health ({getattr(exc, 'message', None) or exc})")

    def _check_primary(self) -> None:
        """Once per run, before a refresh lock: notice a failover (and hold refresh after it)."""
        if not self._primary_checked:
            from .failover import check_primary

            check_primary(self)
            self._primary_checked = True

    def _join_restore(self) -> None:
        from .restore import push_mirrors

        pushed = push_mirrors(self)
        if pushed:
            self.warn(f"the redis store was restored elsewhere; pushed this machine's newer copies of "
                       f"{', '.join(sorted(pushed))}")

    # -- documents -------------------------------------------------------------
    def _read_versioned(self, name: str) -> tuple[int, dict[str, Any]]:
        raw_v, raw = self.call("reading state", lambda c: c.hmget(self.keys.doc(name), ["v", "json"]))
        version = int(raw_v or 0)
        if raw is None:
            return version, {}
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict):
            self.warn(f"state document {name!r} in redis is corrupt; rebuilding it")
            return version, {}
        return version, doc

    def read_doc(self, name: str) -> dict[str, Any]:
        try:
            if name == LEASES_DOC:
                doc = self.leases.read()
                self.local.mirror_doc(name, -1, doc)
                return doc
            version, doc = self._read_versioned(name)
        except BackendDown as exc:
            self.degrade(exc)
            return self.local.mirrored_doc(name)
        self.local.mirror_doc(name, version, doc)
        return doc

    def update_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        try:
            if name == LEASES_DOC:
                doc = self.leases.update(fn, self.intent_owner_for)
                self.local.mirror_doc(name, -1, doc)
                return doc
            return self._cas_doc(name, fn)
        except BackendDown as exc:
            if name in CRITICAL_DOCS:
                raise
            self.degrade(exc)
            work = copy.deepcopy(self.local.mirrored_doc(name))
            result = fn(work)
            new = work if result is None else result
            self.local.mirror_doc(name, -1, new)  # -1: the next good read replaces it
            return new

    def _cas_doc(self, name: str, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        deadline = time.monotonic() + DOC_CAS_DEADLINE_S
        delays = backoff_delays(0.005, 0.1)
        while True:
            version, doc = self._read_versioned(name)
            result = fn(doc)
            new = doc if result is None else result
            payload = json.dumps(new, sort_keys=True, separators=(",", ":"))
            stored = int(self.script("cas_doc", "writing state", [self.keys.doc(name)], [version, payload]))
            if stored >= 0:
                self.local.mirror_doc(name, stored, new)
                return new
            if time.monotonic() > deadline:
                raise Conflict(f"state document {name!r} kept changing under this write for "
                               f"{DOC_CAS_DEADLINE_S:g}s; retry later", details={"doc": name})
            time.sleep(next(delays))

    # -- locks -----------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> Iterator[None]:
        held = self._acquire(name, timeout)
        try:
            yield
        finally:
            self._release(held)

    def _lock_profile(self, name: str) -> str | None:
        """The profile a refresh lock protects, the same on every machine.

        The core names the lock after the credentials file's realpath, which is
        machine-specific; it is mapped back to the profile name. An unknown path
        is refused rather than locked under a key no other machine would use.
        """
        target = refresh_lock_target(name)
        if target is None or "/" not in target:
            return target
        from roost_core.api import is_valid_name
        from roost_core.api import discover_profiles as discover

        found = [p for p in discover(self.paths) if os.path.realpath(p.credentials_path) == target]
        directory = os.path.dirname(target)
        if (not found and os.path.dirname(directory) == os.path.realpath(self.paths.profiles_tree)
                and is_valid_name(os.path.basename(directory))):
            return os.path.basename(directory)  # a profile being added: <tree>/<name>/ names it
        if not found:
            raise Conflict(f"refresh lock for {target} names no profile of this machine; not locking",
                           details={"lock": name})
        exact = [p for p in found if os.path.realpath(p.directory) == os.path.dirname(target)]
        return (exact or found)[0].name

    def _acquire(self, name: str, timeout: float) -> HeldLock:
        profile = self._lock_profile(name)
        epoch = self.ready_for_credentials().epoch if profile else ""
        if profile:
            self._check_primary()
        key = self.keys.rlock(profile) if profile else self.keys.lock(name)
        intent = self.keys.intent(profile) if profile else key
        fence = self.keys.fence(profile) if profile else key + ":fence"
        owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex}"
        ttl_ms = int(self.settings.lock_ttl * 1000)
        hold_ms = int(self.settings.restore_hold * 1000)
        failover_hold_ms = int(self.settings.lock_ttl * 1000)
        deadline = time.monotonic() + max(timeout, 0.0)
        delays = backoff_delays()
        why = "held by another roost process"
        while True:
            result = self.script("acquire", "taking a lock", [key, intent, fence, self.keys.meta],
                                  [owner, ttl_ms, "1" if profile else "0", epoch, hold_ms, failover_hold_ms])
            status = int(result[0])
            if status == 1:
                held = HeldLock(name, key, owner, self.settings.lock_ttl, int(result[1]), profile)
                held.start_watchdog(self._extend)
                self._held[name] = held
                return held
            if status == -2:
                self.epoch.forget()
                epoch = self.ready_for_credentials().epoch  # raises when the store was reset
                continue
            if status == -3:
                why = f"the store was restored moments ago; refresh resumes in {int(result[1]) // 1000 + 1}s"
            elif status == -4:
                why = (f"the store failed over to a new primary moments ago; refresh resumes in "
                       f"{int(result[1]) // 1000 + 1}s (a holder on the old primary finishes, machines push "
                       "newer copies first)")
            elif status == -1:
                host = result[2].decode() if isinstance(result[2], bytes) else str(result[2])
                if self._clear_dead_intent(profile):
                    continue
                why = (f"a rotation is in flight on {host or 'another machine'} (spend intent, "
                       f"{max(int(result[1]), 0) // 1000}s left); retry after it commits")
            if time.monotonic() >= deadline:
                kind = name.split(":")[0]
                raise Conflict(f"could not take the {kind} lock{f' of {profile!r}' if profile else ''} "
                               f"within {timeout:g}s: {why}", details={"lock": name, "backend": "redis"})
            time.sleep(min(next(delays), max(deadline - time.monotonic(), 0.001)))

    def _extend(self, held: HeldLock) -> bool:
        return bool(int(self.script("extend", "extending a lock", [held.key],
                                     [held.owner, int(held.ttl_s * 1000)])))

    def _release(self, held: HeldLock) -> None:
        held.stop_watchdog()
        self._held.pop(held.name, None)
        clear_intent = held.profile is not None and not self.journal.pending(held.profile)
        if held.profile is not None:
            self._spends.pop(held.profile, None)
        intent = self.keys.intent(held.profile) if held.profile else held.key
        try:
            self.script("release", "releasing a lock", [held.key, intent],
                         [held.owner, "1" if clear_intent else "0"])
        except BackendDown as exc:
            self.warn(f"could not release the {held.name.split(':')[0]} lock ({exc.message.split('; ')[0]}); "
                       f"it lapses by itself within {self.settings.lock_ttl:g}s")

    def held_refresh(self, profile: str) -> HeldLock | None:
        return next((h for h in self._held.values() if h.profile == profile), None)

    def intent_owner_for(self, profile: str) -> str:
        held = self.held_refresh(profile)
        return held.owner if held else ""

    def _clear_dead_intent(self, profile: str | None) -> bool:
        """A spend intent left by a dead roost on this very host: settle it now.

        With a journal entry, commit it (the rotation happened); without one,
        the POST never left or its answer was never stored anywhere, so the
        intent protects nothing and only blocks the fleet.
        """
        if profile is None:
            return False
        raw = self.call("reading a spend intent", lambda c: c.hgetall(self.keys.intent(profile)))
        fields = {k.decode(): v.decode() for k, v in raw.items()} if raw else {}
        if not fields or fields.get("host") != self.host or fields.get("boot") != (_boot_id() or ""):
            return False
        try:
            pid = int(fields.get("pid", "0"))
        except ValueError:
            return False
        if pid <= 0 or _proc_start(pid) == fields.get("pstart"):
            return False  # the owner is alive
        if self.journal.pending(profile):
            for note in self.creds.flush_journal(profile):
                self.warn(note)
            if self.journal.pending(profile):
                return False  # stored but not yet on a replica: its intent still guards it
        self.script("drop_intent", "clearing a dead spend intent", [self.keys.intent(profile)],
                     [fields.get("owner", "")])
        return True

    # -- claims (one prober per profile across the fleet) -----------------------
    @contextlib.contextmanager
    def claim(self, name: str, ttl_s: float) -> Iterator[bool]:
        """Yield True to the one process (fleet-wide) that may do ``name`` now."""
        owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex}"
        key = self.keys.claim(name)
        ttl_ms = max(int(ttl_s * 1000), 1)
        won = bool(self.call("claiming", lambda c: c.set(key, owner, nx=True, px=ttl_ms)))
        try:
            yield won
        finally:
            if won:
                try:
                    self.script("del_if_owner", "releasing a claim", [key], [owner])
                except BackendDown:
                    pass  # it lapses with its TTL

    # -- logs ------------------------------------------------------------------
    def append_line(self, log: str, line: str, max_bytes: int | None = None) -> None:
        eid = uuid.uuid4().hex[:20]
        try:
            self.flush_spool()
            self._xadd(log, eid, line)
        except BackendDown as exc:
            self.local.spool(log, eid, line)
            self.degrade(exc)

    def _xadd(self, log: str, eid: str, line: str) -> None:
        self.call("appending to a log", lambda c: c.xadd(self.keys.log(log), {"eid": eid, "line": line},
                                                           maxlen=self.settings.stream_maxlen, approximate=True))

    def flush_spool(self) -> None:
        if self._spool_flushed:
            return
        for path in self.local.spooled_files():
            claimed = self.local.take_spool(path)
            if claimed is None:
                continue
            for entry in read_spool(claimed):
                self._xadd(entry["log"], entry["eid"], entry["line"])
            with contextlib.suppress(FileNotFoundError):
                os.unlink(claimed)
        self._spool_flushed = True

    def iter_lines(self, log: str) -> Iterator[str]:
        """Every line, oldest first, once (a re-sent spool entry is de-duplicated by its eid)."""
        self.flush_spool()
        key = self.keys.log(log)
        seen: set[bytes] = set()
        start = "-"
        while True:
            page = self.call("reading a log", lambda c: c.xrange(key, min=start, max="+", count=LOG_PAGE))
            for entry_id, fields in page:
                eid = fields.get(b"eid", entry_id)
                if eid in seen:
                    continue
                seen.add(eid)
                line = fields.get(b"line", b"").decode("utf-8", "replace")
                yield line if line.endswith("\n") else line + "\n"
            if len(page) < LOG_PAGE:
                return
            start = "(" + page[-1][0].decode()

    def log_stats(self, log: str) -> dict[str, Any]:
        """{location, records (stream entries), bytes (None), ...}; degraded, not raised, when down."""
        from .logs import log_stats

        return log_stats(self, log)

    def truncate_log(self, log: str) -> int:
        """Empty the log's stream; returns the entries dropped (UNAVAILABLE when the store is down)."""
        from .logs import truncate_log

        return truncate_log(self, log)

    # -- credentials -------------------------------------------------------------
    def read_credentials(self, profile: Any) -> bytes:
        try:
            self.ready_for_credentials()
            return self.creds.read(profile)
        except (BackendDown, StoreNotReady) as exc:
            if self.held_refresh(profile.name) is not None:
                raise
            self.degrade(exc)
            data = self.creds.read_mirror(profile)  # withheld: this machine's own unreplicated rotation
            if data is None:
                return profile.credentials_path.read_bytes()
            return data

    def write_credentials(self, profile: Any, data: bytes) -> None:
        self.ready_for_credentials()
        held = self.held_refresh(profile.name)
        if held is not None and held.lost and profile.name not in self._spends:
            raise Conflict(f"lost the refresh lock of {profile.name!r} before writing; nothing written",
                           details={"profile": profile.name})
        self.creds.write(profile, data, fence=held.fence if held else 0,
                         rotation_id=self._spends.pop(profile.name, None))

    def guard_refresh(self, profile: Any, deadline: float) -> Any:
        """Claude Code's lock directories on this machine's tree (localstate.py)."""
        return self.local.refresh_guard(profile, deadline)

    def begin_spend(self, profile: Any) -> None:
        """Call right before POSTing ``profile``'s refresh token (holding its refresh lock).

        Atomically: still the lock owner, no live lease anywhere, the stored
        version is the one read; then extend the lock and record the spend
        intent peers must respect. Raises instead of letting the POST go.
        """
        name = profile.name
        held = self.held_refresh(name)
        if held is None:
            raise Conflict(f"refusing to refresh {name!r} without holding its refresh lock")
        if held.lost:
            raise Conflict(f"lost the refresh lock of {name!r} (paused past its {held.ttl_s:g}s TTL?); "
                           "not refreshing", details={"profile": name})
        mark = self.creds.reads.get(name) or ReadMark(0, "")
        rotation_id = uuid.uuid4().hex
        for attempt in range(2):
            done = self.conn.script_durable(
                "begin_spend", "recording a spend intent",
                [held.key, self.keys.intent(name), self.keys.profile_leases(name), self.keys.cred(name)],
                [held.owner, int(held.ttl_s * 1000), int(self.settings.intent_ttl * 1000), mark.v, self.host,
                 os.getpid(), _boot_id() or "", _proc_start(os.getpid()) or "", rotation_id])
            result, status = done.result, int(done.result[0])
            if status == 1 and not done.replicated:
                raise BackendDown(
                    f"state backend 'redis': the spend intent of {name!r} reached {done.acked} of {done.needed} "
                    f"replica(s) within {self.settings.wait_timeout:g}s (WAIT); not refreshing, since a failover "
                    "now could let another machine spend the same token (fail closed); retry in a moment",
                    details={"backend": "redis", "profile": name, "reason": "not_replicated",
                             "acked": done.acked, "needed": done.needed})
            if status == 1:
                held.last_extended = time.monotonic()
                self._spends[name] = rotation_id
                return
            if status == 0:
                held.mark_lost()
                raise Conflict(f"lost the refresh lock of {name!r} before sending; not refreshing",
                               details={"profile": name})
            if status == -2:
                raise Conflict(f"credentials of {name!r} changed in the store since they were read; "
                               "not refreshing a token that may be spent", details={"profile": name})
            if attempt == 0 and self._prune_dead_leases(name):
                continue
            raise LeaseHeld(f"profile {name!r} is leased by a running roost exec (on some machine of the "
                            "fleet); retry after it exits", details={"profile": name, "leases": int(result[1])})

    def _prune_dead_leases(self, profile: str) -> bool:
        """Drop leases whose holder is provably dead on this host; True if any went."""
        from roost_core.api import Lease

        dead = []
        for lease_id, entry in self.leases.read().get("leases", {}).items():
            try:
                lease = Lease(**entry)
            except TypeError:
                continue
            if lease.profile == profile and lease.holder_dead():
                dead.append(lease_id)
        if not dead:
            return False
        self.leases.update(lambda doc: {"leases": {k: v for k, v in doc.get("leases", {}).items()
                                                   if k not in dead}}, self.intent_owner_for)
        return True

    # -- the fleet's profiles (fleet.py) ---------------------------------------------
    def sync_profiles(self) -> None:
        """Bring this machine's tree in line with the store (before discovery)."""
        from .fleet import sync_tree

        sync_tree(self)

    def remove_profile(self, profile: Any) -> None:
        """Drop ``profile`` from the store (its refresh lock held); raises to stop the removal."""
        from .fleet import remove

        remove(self, profile)

    def rename_profile(self, profile: Any, new: str, replace: bool = False) -> None:
        """Move ``profile``'s record to ``new`` (both refresh locks held); raises to stop the rename."""
        from .fleet import rename

        rename(self, profile, new, replace)

    def child_credentials_dir(self, profile: Any, lease: Any = None) -> Path:
        """Give a child an access-token-only copy (no refresh token): strict, never degraded."""
        self.ready_for_credentials()
        self.creds.read(profile)  # rewrites <tree>/<name>/.credentials.json without the refresh token
        return Path(profile.directory)

    def close(self) -> None:
        for held in list(self._held.values()):
            self._release(held)
        self.conn.close()
