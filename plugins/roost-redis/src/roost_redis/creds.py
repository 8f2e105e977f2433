"""Credentials in the store: sealed, versioned, committed by compare-and-set.

The store is the truth. Each record carries a version ``v`` that grows by one
per write, the Fernet blob (profile name and ``v`` sealed inside) and a keyed
fingerprint of its refresh token. A write names the version and fingerprint
it read; the commit script stores it only if the record is still exactly
that one, so a late or duplicate writer can never roll a rotated token back.

On each read the machine refreshes two local copies: the sealed record in
its mirror (for ``restore`` and degraded reads) and the profile directory's
``.credentials.json`` rewritten *without* the refresh token, which is what a
``claude`` child sees: it can use the access token but never rotate it.

Durable commits: with replicas, a commit is followed by ``WAIT`` (conn.py)
and keeps the spend intent, so no machine uses the rotation before a replica
has it; short of that the journal entry stays (``unreplicated``) and is
re-sent by every run until a replica confirms it. Meanwhile every read of the
profile, on every machine, sees the intent outlive the commit (the record is
past the intent's version) and withholds the record (``withheld``): nothing
is copied into the tree, status/show/pick report the profile as ``unknown``
and out of picks, refresh and exec refuse (exit 7). The rotating machine
keeps it sealed in its journal and mirror only. A store that went back in
time (a failover to a replica that missed writes) is caught on read: the
mirror remembers the highest version this machine has seen, and a newer
mirror is pushed (the same highest-version-wins write as a restore) before
the record is used, and reported through ``on_rollback``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from roost_core.api import atomic_write, ensure_private_dir
from roost_core.api import OAUTH_KEY, Credentials, CredentialsError
from roost_core.api import Conflict, ExitCode, NotFound, RoostError, Unavailable

from .client import BackendDown
from .conn import Durable
from .crypto import Sealer
from .journal import Journal, JournalEntry
from .keys import Keyspace
from .tombstones import Tombstone
from .localstate import LocalState


@dataclass(frozen=True)
class ReadMark:
    """What this backend instance last read for a profile: the CAS anchor."""

    v: int
    fp: str


@dataclass(frozen=True)
class StoredRecord:
    v: int
    blob: bytes
    fp: str
    expires_at_ms: int
    fence: int
    updated_ms: int

    @classmethod
    def from_hash(cls, raw: dict[bytes, bytes]) -> "StoredRecord | None":
        fields = {k.decode(): v for k, v in raw.items()}
        if "blob" not in fields:
            return None
        try:
            return cls(int(fields.get("v", b"0")), fields["blob"], fields.get("fp", b"").decode(),
                       int(fields.get("expires_at_ms", b"0") or 0), int(fields.get("fence", b"0") or 0),
                       int(fields.get("updated_ms", b"0") or 0))
        except (ValueError, KeyError):
            return None

    def to_mirror(self) -> dict[str, Any]:
        return {"v": self.v, "blob": self.blob.decode("ascii"), "fp": self.fp,
                "expires_at_ms": self.expires_at_ms, "updated_ms": self.updated_ms}


def access_only(data: bytes) -> bytes | None:
    """The credentials document without its refresh token (None if not parseable)."""
    try:
        creds = Credentials.parse(data)
    except CredentialsError:
        return None
    document = json.loads(json.dumps(creds.document))
    oauth = document.get(OAUTH_KEY)
    if isinstance(oauth, dict):
        oauth.pop("refreshToken", None)
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _expires_at_ms(data: bytes) -> int:
    try:
        return Credentials.parse(data).expires_at_ms or 0
    except CredentialsError:
        return 0


def refresh_token_of(data: bytes) -> str | None:
    try:
        return Credentials.parse(data).refresh_token
    except CredentialsError:
        return None


def has_refresh_token(data: bytes) -> bool:
    return bool(refresh_token_of(data))


def store_profiles(backend: Any) -> list[str]:
    """The names the store's ``profiles`` hash lists, sorted."""
    names = backend.call("listing profiles", lambda c: c.hvals(backend.keys.profiles))
    return sorted({raw.decode("utf-8", "replace") for raw in names})


def unreplicated_intent(record: StoredRecord, intent: dict[str, str]) -> bool:
    """The record holds a rotation no replica has confirmed yet: its spend intent outlived the commit.

    A commit clears its intent at once unless replicas are needed (``keep_intent``); then only a
    replica's confirmation clears it (``CLEAR_INTENT``). So an intent on a version older than the
    record is such a rotation. An intent on the record's own version is a rotation in flight (the
    record is still the one being spent): not this case.
    """
    if not intent.get("owner"):
        return False
    try:
        return record.v > int(intent.get("v", ""))
    except ValueError:
        return True  # a malformed intent: fail closed (it lapses with its TTL)


def withheld(profile: str, record_v: int, host: str, ttl_ms: int, this_host: str) -> Unavailable:
    """The error every read of an unreplicated rotation raises: exit 7 for refresh/exec/snapshot; for
    status/show/pick (the core's per-profile ``store`` error, ``withheld``) an ``unknown`` record kept
    out of picks, re-read on every run (never cached)."""
    where = "this machine" if host == this_host else (host or "another machine")
    bound = f"; the hold ends within {max(ttl_ms, 0) // 1000 + 1}s" if ttl_ms > 0 else ""
    return Unavailable(
        f"profile {profile!r} is withheld: a rotation on {where} (v{record_v}) is not replicated yet (stored, "
        f"but no replica has confirmed it) and no machine uses it before one does ({where} re-sends it on each "
        f"roost run{bound}); retry in a moment",
        details={"profile": profile, "store": "redis", "reason": "rotation_unreplicated", "withheld": True,
                 "host": host or None, "version": record_v,
                 "intent_ttl_s": max(ttl_ms, 0) / 1000 if ttl_ms > 0 else None},
        exit_code=ExitCode.CONFLICT)


class CredentialStore:
    def __init__(self, call_script: Callable[..., Any], call: Callable[..., Any], keys: Keyspace,
                 sealer: Callable[[], Sealer], local: LocalState, journal: Journal, host: str,
                 profiles_tree: Path, warn: Callable[[str], None],
                 durable: Callable[..., Durable] | None = None, needed: Callable[[], int] = lambda: 0,
                 on_rollback: Callable[[str, int, int, bool], None] = lambda *_: None, wait_timeout: float = 2.0,
                 on_journal_commit: Callable[[str], None] = lambda _name: None):
        self._script = call_script
        self._on_journal_commit = on_journal_commit
        self._durable = durable or (lambda *a: Durable(call_script(*a), 0, 0))
        self._needed = needed
        self._on_rollback = on_rollback
        self.wait_timeout = wait_timeout
        self._call = call
        self.keys = keys
        self._sealer = sealer
        self.local = local
        self.journal = journal
        self.host = host
        self.profiles_tree = profiles_tree
        self._warn = warn
        self.reads: dict[str, ReadMark] = {}

    # -- reading -------------------------------------------------------------
    def fetch(self, profile: str) -> StoredRecord | None:
        raw = self._call("reading credentials", lambda c: c.hgetall(self.keys.cred(profile)))
        return StoredRecord.from_hash(raw) if raw else None

    def fetch_with_intent(self, profile: str) -> tuple[StoredRecord | None, dict[str, str], int]:
        """The record, then its spend intent and the intent's PTTL (ms), in one round trip.

        The intent is read after the record (one connection, in order): a record seen with a
        rotation that is not replicated yet is always seen with the intent that guards it,
        unless a replica confirmed it in between (then the intent is rightly gone).
        """
        cred, intent = self.keys.cred(profile), self.keys.intent(profile)
        raw, raw_intent, pttl = self._call("reading credentials", lambda c: c.pipeline(transaction=False)
                                           .hgetall(cred).hgetall(intent).pttl(intent).execute())
        record = StoredRecord.from_hash(raw) if raw else None
        fields = {k.decode(): v.decode("utf-8", "replace") for k, v in (raw_intent or {}).items()}
        return record, fields, int(pttl or 0)

    def read(self, profile: Any) -> bytes:
        """The profile's credentials from the store (importing a local login once).

        A record whose rotation no replica has confirmed yet is withheld (``withheld``): not
        opened, mirrored or copied into the tree.
        """
        record, intent, ttl_ms = self.fetch_with_intent(profile.name)
        if record is not None and self._catch_up(profile.name, record):
            record, intent, ttl_ms = self.fetch_with_intent(profile.name)
        if record is not None and unreplicated_intent(record, intent):
            raise withheld(profile.name, record.v, intent.get("host", ""), ttl_ms, self.host)
        if record is None:
            record = self._import(profile)
            if record is None:
                return profile.credentials_path.read_bytes()
        _, data = self._sealer().open(profile.name, record.v, record.blob)
        self.reads[profile.name] = ReadMark(record.v, record.fp)
        self._keep_local_copies(profile, record, data)
        return data

    def _catch_up(self, name: str, record: StoredRecord) -> bool:
        """The store holds an older version than this machine has seen: push ours first (True: read again)."""
        mirrored = self.local.mirrored_cred(name)
        try:
            seen = int(mirrored.get("v", 0))
        except (TypeError, ValueError):
            return False
        if seen <= record.v or not mirrored.get("blob"):
            return False
        stored, _ = self.put_if_newer(name, mirrored)
        self._on_rollback(name, record.v, seen, stored)
        return True

    def read_mirror(self, profile: Any) -> bytes | None:
        """The last sealed copy this machine saw (for degraded reads).

        A copy that is this machine's own rotation not yet confirmed by a replica is withheld
        here too, as it is on a read from the store.
        """
        mirrored = self.local.mirrored_cred(profile.name)
        if not mirrored.get("blob"):
            return None
        pending = [e for e in self.journal.unreplicated() if e.profile == profile.name]
        if any(str(e.new_v) == str(mirrored.get("v")) for e in pending):
            raise withheld(profile.name, int(mirrored.get("v", 0)), self.host, 0, self.host)
        try:
            _, data = self._sealer().open(profile.name, int(mirrored.get("v", 0)), mirrored["blob"].encode())
        except (RoostError, ValueError):
            return None
        return data

    def _keep_local_copies(self, profile: Any, record: StoredRecord, data: bytes, tree: bool = True) -> None:
        """Mirror and (``tree``) access-only file; a local failure is a warning, the store already has it."""
        try:
            self._write_local_copies(profile, record, data, tree)
        except OSError as exc:
            self._warn(f"could not update this machine's copy of {profile.name!r} "
                       f"({exc.strerror or type(exc).__name__}); the store holds it")

    def _write_local_copies(self, profile: Any, record: StoredRecord, data: bytes, tree: bool = True) -> None:
        self.local.mirror_cred(profile.name, record.to_mirror())
        if not tree or Path(profile.directory).parent != self.profiles_tree:
            return  # never rewrite a login outside roost's tree ($CLAUDE_CONFIG_DIR's "default")
        child_copy = access_only(data)
        if child_copy is None:
            return
        path = profile.credentials_path
        # Every machine stamps its copy with the record's commit time, so the core's
        # "same credentials file as probed" check (mtime) agrees across the fleet.
        stamp_ns = record.updated_ms * 1_000_000
        try:
            current = path.read_bytes()
            same = current == child_copy
            if not same:
                self._set_aside_unknown_login(profile.name, current, record.fp)
            if same and (not stamp_ns or os.stat(path).st_mtime_ns == stamp_ns):
                return
        except OSError:
            same = False
        if not same:
            ensure_private_dir(Path(profile.directory))
            # Claude Code's .storage-write.lock around the write, as claude itself takes it.
            with self.local.storage_write_guard(profile, self.profiles_tree):
                atomic_write(path, child_copy, 0o600)
        if stamp_ns:
            os.utime(path, ns=(stamp_ns, stamp_ns))

    def _set_aside_unknown_login(self, name: str, current: bytes, stored_fp: str) -> None:
        """A local file holding a refresh token the store does not have is a login
        (``claude login`` into the tree?) that overwriting would destroy: keep a copy."""
        token = refresh_token_of(current)
        if not token or self._sealer().fingerprint(token) == stored_fp:
            return
        aside = self.local.root / "aside" / f"{name}-{int(time.time() * 1000)}.json"
        ensure_private_dir(aside.parent)
        atomic_write(aside, current, 0o600)
        self._warn(f"this machine's copy of {name!r} held a refresh token the store does not know; "
                   f"kept it in {aside} before taking the store's login (re-add it with "
                   f"'roost add NAME --from {aside}' if it is the one you want)")

    def _import(self, profile: Any) -> StoredRecord | None:
        """First sight of a profile in the store: push this machine's newest copy.

        The sealed mirror wins over the local file (it carries a version); a
        local file with no refresh token (an access-only cache) is never
        imported. ``create`` succeeds only while the record is still absent,
        so two machines importing at once keep one copy.
        """
        stone = self.tombstone(profile.name)
        if stone is not None:
            raise NotFound(f"profile {profile.name!r} was {stone.describe()}; this machine's copy is not "
                           "imported again (bring it back with 'roost add NAME --force --from FILE')",
                           details={"profile": profile.name})
        mirrored = self.local.mirrored_cred(profile.name)
        if mirrored.get("blob"):
            self.put_if_newer(profile.name, mirrored)
            return self.fetch(profile.name)
        try:
            data = profile.credentials_path.read_bytes()
        except OSError:
            return None
        if not refresh_token_of(data):
            return None
        try:
            self.commit(profile.name, data, ReadMark(0, ""), fence=0, rotation_id=f"import-{uuid.uuid4().hex}",
                        journal=False)
        except Conflict:
            return self.fetch(profile.name)  # another machine imported it first: the store's copy wins
        self._warn(f"imported profile {profile.name!r} into the redis store (first sight); "
                   "the store is its source of truth from now on")
        return self.fetch(profile.name)

    # -- writing -------------------------------------------------------------
    def write(self, profile: Any, data: bytes, fence: int, rotation_id: str | None = None) -> int:
        mark = self.reads.get(profile.name)
        base_v = None
        if mark is None:
            # No read in this run: only a brand-new record may be created blind. Its
            # version continues a removed namesake's, so no old mirror outranks it.
            mark = ReadMark(0, "")
            stone = self.tombstone(profile.name)
            base_v = stone.v if stone else None
        entry, updated_ms = self.commit(profile.name, data, mark, fence=fence, rotation_id=rotation_id,
                                        base_v=base_v)
        # A rotation no replica has confirmed is kept sealed (journal, mirror) but not copied into the
        # tree: a claude pointed at it would use it first. The next read after a replica confirms does it.
        self._keep_local_copies(profile, StoredRecord(entry.new_v, entry.blob.encode("ascii"), entry.new_fp,
                                                      entry.expires_at_ms, entry.fence, updated_ms), data,
                                tree=not (entry.unreplicated and rotation_id is not None))
        return entry.new_v

    def commit(self, profile: str, data: bytes, mark: ReadMark, *, fence: int, rotation_id: str | None = None,
               journal: bool = True, base_v: int | None = None) -> tuple[JournalEntry, int]:
        """Journal (fsync'd), then the compare-and-set; returns the entry and its commit time (ms)."""
        sealer = self._sealer()
        new_v = max(mark.v, base_v or 0) + 1
        entry = JournalEntry(profile=profile, rotation_id=rotation_id or uuid.uuid4().hex, expected_v=mark.v,
                             expected_fp=mark.fp, new_v=new_v, new_fp=sealer.fingerprint(refresh_token_of(data)),
                             blob=sealer.seal(profile, new_v, data).decode("ascii"),
                             expires_at_ms=_expires_at_ms(data), fence=fence, host=self.host)
        if journal:
            self.journal.write(entry)
        try:
            status, stored_v, updated_ms, replicated = self.send(entry)
        except BackendDown as exc:
            if journal:
                raise BackendDown(f"{exc.message}; the new credentials of {profile!r} are kept in the local "
                                  "journal and will be committed on the next run", details=exc.details) from None
            raise
        if status == 0:
            aside = self.journal.set_aside(entry) if journal else None
            raise Conflict(f"credentials of {profile!r} changed in the store since they were read "
                           f"(read v{mark.v}, store now v{stored_v}); not overwritten"
                           + (f" (kept the unstored copy sealed in {aside})" if aside else ""),
                           details={"profile": profile, "read_version": mark.v, "stored_version": stored_v})
        self.reads[profile] = ReadMark(new_v, entry.new_fp)
        if replicated:
            self._settled(entry, journal)
        elif journal:
            entry.unreplicated = True
            self.journal.write(entry)
            withheld_note = " (no machine, this one included, uses them before)" if rotation_id is not None else ""
            self._warn(f"the new credentials of {profile!r} (v{new_v}) are stored, but no replica confirmed them "
                       f"within {self.wait_timeout:g}s; kept in this machine's journal and re-sent by every roost run "
                       f"until one does{withheld_note}")
        else:
            self._warn(f"the credentials of {profile!r} (v{new_v}) are stored, but no replica confirmed them yet")
        return entry, updated_ms

    def _settled(self, entry: JournalEntry, journal: bool = True) -> None:
        """A replica has the rotation (or none is needed): clear its intent, then drop its journal entry
        (in that order: an intent left by a failed clear would withhold the profile with nobody to
        re-send it; a journal entry left behind is re-sent, answers "already committed" and settles)."""
        if entry.unreplicated or self._needed():  # the commit kept the intent (keep_intent)
            self._script("clear_intent", "clearing a spend intent", [self.keys.intent(entry.profile)],
                         [entry.rotation_id])
        if journal:
            self.journal.remove(entry)

    def send(self, entry: JournalEntry) -> tuple[int, int, int, bool]:
        """The commit script (then WAIT when replicas are needed):
        (1|2, v, updated_ms, replicated) committed or already committed, (0, v, 0, _) conflict."""
        keep_intent = "1" if self._needed() else "0"  # until a replica confirms (see _settled)
        done = self._durable(
            "cas_cred", "committing credentials",
            [self.keys.cred(entry.profile), self.keys.intent(entry.profile), self.keys.profiles],
            [entry.expected_v, entry.expected_fp, entry.new_v, entry.blob, entry.new_fp, entry.rotation_id,
             entry.expires_at_ms, entry.host, entry.fence, self.keys.profile_id(entry.profile), entry.profile,
             keep_intent])
        result = done.result
        return int(result[0]), int(result[1]), int(result[2]), done.replicated

    def put_if_newer(self, profile: str, mirrored: dict[str, Any]) -> tuple[bool, int]:
        done = self._durable(
            "put_if_newer", "restoring credentials",
            [self.keys.cred(profile), self.keys.profiles, self.keys.intent(profile)],
            [int(mirrored.get("v", 0)), mirrored["blob"], mirrored.get("fp", ""),
             int(mirrored.get("expires_at_ms", 0) or 0), self.host, self.keys.profile_id(profile), profile,
             int(mirrored.get("updated_ms", 0) or 0)])
        stored = bool(int(done.result[0]))
        if stored and not done.replicated:
            self._warn(f"pushed this machine's copy of {profile!r} (v{int(done.result[1])}), but no replica "
                       "confirmed it yet; the next run pushes it again if the store loses it")
        return stored, int(done.result[1])

    def unreplicated_in_store(self, names: list[str]) -> list[dict[str, Any]]:
        """Every profile whose stored rotation no replica has confirmed yet, from the store itself
        (so every machine can list them, not only the one that rotated)."""
        if not names:
            return []

        def run(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.hmget(self.keys.cred(name), ["v", "updated_ms"]).hgetall(self.keys.intent(name)) \
                    .pttl(self.keys.intent(name))
            return pipe.execute()

        replies = self._call("reading spend intents", run)
        found = []
        for index, name in enumerate(names):
            (raw_v, raw_updated), raw_intent, pttl = replies[3 * index: 3 * index + 3]
            if raw_v is None:
                continue
            intent = {k.decode(): v.decode("utf-8", "replace") for k, v in (raw_intent or {}).items()}
            record = StoredRecord(int(raw_v), b"", "", 0, 0, int(raw_updated or 0))
            if unreplicated_intent(record, intent):
                host = intent.get("host", "")
                found.append({"profile": name, "version": record.v, "host": host or None,
                              "this_machine": host == self.host,
                              "intent_ttl_s": int(pttl) / 1000 if pttl and int(pttl) > 0 else None})
        return found

    def tombstone(self, name: str) -> Tombstone | None:
        return Tombstone.parse(self._call("reading a tombstone",
                                          lambda c: c.hget(self.keys.removed, self.keys.profile_id(name))))

    # -- the journal ---------------------------------------------------------
    def flush_journal(self, profile: str | None = None) -> list[str]:
        """Commit what a crashed or cut-off run left behind; returns warnings."""
        notes = []
        for path, entry in list(self.journal.entries(profile)):
            if entry is None:
                notes.append(f"unreadable redis journal entry {path}; left in place")
                continue
            status, stored_v, _, replicated = self.send(entry)
            if status == 1:  # stored only now: health cached for the spent credentials is stale fleet-wide
                self._on_journal_commit(entry.profile)
            if status == 0:
                aside = self.journal.set_aside(entry)
                notes.append(f"journalled credentials of {entry.profile!r} (spent v{entry.expected_v}) conflict "
                             f"with the store (now v{stored_v}); set aside in {aside}")
            elif replicated:
                self._settled(entry)
                notes.append(f"{'a replica now has' if entry.unreplicated else 'committed'} journalled credentials "
                             f"of {entry.profile!r} (v{entry.new_v})")
            else:
                if not entry.unreplicated:
                    entry.unreplicated = True
                    self.journal.write(entry)
                notes.append(f"journalled credentials of {entry.profile!r} (v{entry.new_v}) are stored but no "
                             "replica confirmed them yet; kept in the journal")
        return notes
