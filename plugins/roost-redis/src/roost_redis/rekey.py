"""``roost state rekey``: re-seal every stored credential with the key file's first key.

The key file holds one or more Fernet keys (the first encrypts, all decrypt).
To retire a key: put the new key first on every machine, run ``rekey`` on
one, then drop the old line everywhere. Per profile, under its refresh lock
(which honours spend intents: a rotation in flight is never disturbed, the
profile is skipped instead):

* read the record; open it (any key of the file); if the blob already opens
  with the first key alone and its fingerprint is the first key's, it is
  current;
* otherwise re-seal the very same plaintext with the first key
  (``MultiFernet.rotate``), recompute the refresh-token fingerprint (its MAC
  key derives from the first key, crypto.Sealer.from_key_file), and store
  both with the ``rekey_cred`` compare-and-set: only if ``v`` and ``fp`` are
  still the ones read.

Why the version is NOT bumped, and what that means for journals
(creds.py): a commit (``cas_cred``) names the ``v`` and ``fp`` it read and
spent. A machine whose POST went out but whose commit did not (a journal
entry, anchored on ``v``/old ``fp``) normally still holds the spend intent, so
this rekey cannot take the lock and skips the profile. If the intent lapsed
(its machine was gone past ``intent_ttl``), the journal is the only copy of
the live token: bumping ``v`` would make its commit a CONFLICT (set aside,
account lost). Keeping ``v`` and recording the replaced fingerprint in
``prior_fps`` ("v:fp", which ``cas_cred`` accepts at that same version) keeps
that commit valid: it names the same token, only re-sealed. Any real write
moves ``v`` on and clears ``prior_fps``. ``rotation_id`` and ``updated_ms`` stay
too: a retried commit is still "already committed", and every machine's
access-only copy keeps the record's commit time as its mtime.

Other machines' sealed mirrors are refreshed on their next read of the
profile (the fingerprint changed, so ``mirror_cred`` replaces the copy at the
same version); this machine's mirrors are re-sealed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from roost_core.api import Conflict, ExitCode, RoostError

from .client import BackendDown
from .creds import ReadMark, StoredRecord, refresh_token_of, store_profiles
from .keys import REFRESH_LOCK_PREFIX

if TYPE_CHECKING:
    from .ops import StoreOps
    from .crypto import Sealer

REKEYED, CURRENT, SKIPPED, FAILED, ABSENT = "rekeyed", "current", "skipped", "failed", "absent"


@dataclass(frozen=True)
class RekeyResult:
    name: str
    status: str  # rekeyed | current | skipped (busy, or moved on) | failed (unreadable) | absent
    version: int | None = None
    detail: str | None = None
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rekey_store(backend: "StoreOps", wait_s: float) -> list[RekeyResult]:
    """Every profile of the store, one at a time. The store being down aborts (UNAVAILABLE)."""
    backend.epoch.ensure()
    return [rekey_profile(backend, name, wait_s) for name in store_profiles(backend)]


def rekey_profile(backend: "StoreOps", name: str, wait_s: float) -> RekeyResult:
    try:
        with backend.lock(REFRESH_LOCK_PREFIX + name, wait_s):
            return _reseal(backend, name)
    except Conflict as exc:  # the lock is busy (a refresh, an exec adding its lease, a spend intent)
        return RekeyResult(name, SKIPPED, detail=exc.message, exit_code=int(exc.exit_code))
    except BackendDown:
        raise  # fail closed: the whole command stops (UNAVAILABLE); a rerun is idempotent
    except RoostError as exc:  # a record no key of the file opens, or one sealed for another profile
        return RekeyResult(name, FAILED, detail=exc.message, exit_code=int(exc.exit_code))


def _reseal(backend: "StoreOps", name: str) -> RekeyResult:
    record = backend.creds.fetch(name)
    if record is None:
        return RekeyResult(name, ABSENT, detail="listed in the store, but it holds no credentials")
    sealer: Sealer = backend.sealer()
    _, data = sealer.open(name, record.v, record.blob)  # IntegrityError: no key of the file opens it
    fp = sealer.fingerprint(refresh_token_of(data))
    sealed_now = sealer.is_current(record.blob)
    if sealed_now and fp == record.fp:
        _mirror(backend, name, record)
        return RekeyResult(name, CURRENT, record.v)
    blob = record.blob if sealed_now else sealer.reseal(record.blob)
    status, stored_v = (int(x) for x in backend.script(
        "rekey_cred", "re-sealing credentials", [backend.keys.cred(name)],
        [record.v, record.fp, blob, fp]))
    if status != 1:
        return RekeyResult(name, SKIPPED, stored_v,
                           f"changed in the store while being re-sealed (read v{record.v}, now v{stored_v}); "
                           "run rekey again", int(ExitCode.CONFLICT))
    backend.creds.reads[name] = ReadMark(record.v, fp)
    _mirror(backend, name, replace(record, blob=blob, fp=fp))
    return RekeyResult(name, REKEYED, record.v)


def _mirror(backend: "StoreOps", name: str, record: StoredRecord) -> None:
    try:
        backend.local.mirror_cred(name, record.to_mirror())
    except (OSError, RoostError) as exc:
        backend.warn(f"could not update this machine's sealed copy of {name!r} ({exc}); the store holds it")


def reseal_mirrors(backend: "StoreOps") -> list[str]:
    """Re-seal this machine's mirrored records still sealed with an older key; returns their names.

    After the store pass the mirror of every rekeyed profile already is the
    store's copy; this catches the rest (a skipped profile, a mirror of a
    profile the store does not list). A mirror no key opens is left alone
    (with a warning): it is useless, but it is not ours to delete.
    """
    sealer: Sealer = backend.sealer()
    done = []
    for mirrored in backend.local.mirrored_profiles():
        name, blob = str(mirrored["profile"]), str(mirrored["blob"]).encode("ascii")
        if sealer.is_current(blob):
            continue
        try:
            _, data = sealer.open(name, int(mirrored.get("v", 0)), blob)
            fresh = {**mirrored, "blob": sealer.reseal(blob).decode("ascii"),
                     "fp": sealer.fingerprint(refresh_token_of(data))}
            backend.local.mirror_cred(name, fresh)
        except (RoostError, ValueError, OSError) as exc:
            backend.warn(f"this machine's sealed copy of {name!r} could not be re-sealed "
                          f"({getattr(exc, 'message', exc)}); left as it is")
            continue
        done.append(name)
    return done
