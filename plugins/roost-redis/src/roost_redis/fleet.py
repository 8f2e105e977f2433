"""Which profiles the fleet has: the local tree follows the store.

The store's ``profiles`` hash is the fleet's list. Every run that discovers
profiles first calls ``sync_tree``: a profile in the store that this machine
lacks gets ``<tree>/<name>/`` with an access-token-only credentials file; a
local profile the store has a tombstone for (removed or renamed elsewhere)
is retired. Retiring never destroys a refresh token: an access-only copy is
deleted, a copy that still holds a refresh token is moved aside to
``<tree>/.removed-<name>-<ms>`` (hidden from discovery, kept on disk).

``remove`` and ``rename`` change the store first, under the profile's refresh
lock (the core holds it), in one script that refuses while a lease or a
rotation is in flight anywhere; the core then changes the local tree.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from roost_core.api import Conflict, LeaseHeld, NotFound, RoostError
from roost_core.api import is_valid_name
from roost_core.api import CREDENTIALS_FILE
from roost_core.api import Profile

from .client import BackendDown
from .creds import ReadMark, has_refresh_token
from .keys import Keyspace
from .store import StoreNotReady
from .tombstones import Tombstone


# -- the local tree follows the store ---------------------------------------------
def sync_tree(backend: Any) -> None:
    """Create the store's profiles locally, import new local logins, retire the ones removed elsewhere."""
    try:
        backend.ready_for_credentials()
        keys: Keyspace = backend.keys
        names, removed = backend.call("listing profiles", lambda c: c.pipeline(transaction=False)
                                       .hvals(keys.profiles).hgetall(keys.removed).execute())
    except (BackendDown, StoreNotReady) as exc:
        backend.degrade(exc)
        return
    tree: Path = backend.paths.profiles_tree
    in_store = {raw.decode("utf-8", "replace") for raw in names}
    for name in sorted(in_store):
        if is_valid_name(name) and not (tree / name / CREDENTIALS_FILE).exists():
            _materialise(backend, Profile(name, tree / name))
    stones = {k.decode(): Tombstone.parse(v) for k, v in removed.items()}
    for name in _local_names(tree):
        if name in in_store:
            continue
        stone = stones.get(backend.keys.profile_id(name))
        if stone is not None and stone.name == name:
            _retire(backend, tree / name, stone)
        else:
            _materialise(backend, Profile(name, tree / name))  # first sight: import a local login


def _local_names(tree: Path) -> list[str]:
    try:
        entries = os.listdir(tree)
    except OSError:
        return []
    return sorted(n for n in entries if is_valid_name(n) and (tree / n / CREDENTIALS_FILE).is_file())


def _materialise(backend: Any, profile: Profile) -> None:
    try:
        backend.creds.read(profile)
    except (RoostError, OSError) as exc:
        backend.warn(f"could not bring profile {profile.name!r} from the store to this machine: "
                      f"{getattr(exc, 'message', None) or exc}")


def _retire(backend: Any, directory: Path, stone: Tombstone) -> None:
    """This machine's copy of a profile the fleet no longer has."""
    name = directory.name
    backend.local.drop_cred(name)
    backend.creds.reads.pop(name, None)
    try:
        if directory.is_symlink():
            os.unlink(directory)  # the link is ours, its target is not
            kept = None
        elif has_refresh_token((directory / CREDENTIALS_FILE).read_bytes()):
            kept = directory.with_name(f".removed-{name}-{int(time.time() * 1000)}")
            os.rename(directory, kept)
        else:
            shutil.rmtree(directory)
            kept = None
    except OSError as exc:
        backend.warn(f"profile {name!r} was {stone.describe()}, but this machine's copy could not be "
                      f"retired ({exc.strerror or exc}); delete {directory} by hand")
        return
    note = f"profile {name!r} was {stone.describe()}; this machine's copy is gone"
    if kept is not None:
        note = (f"profile {name!r} was {stone.describe()}; this machine's copy still held a refresh token "
                f"and was moved aside to {kept} (0700), not imported again")
    backend.warn(note)


# -- remove and rename in the store (the core holds the refresh locks) ---------------
def _held_owner(backend: Any, name: str, what: str) -> str:
    held = backend.held_refresh(name)
    if held is None or held.lost:
        raise Conflict(f"refusing to {what} {name!r} without holding its refresh lock",
                       details={"profile": name})
    return held.owner


def _refused(status: int, result: list[Any], name: str, what: str) -> RoostError:
    if status == 0:
        return Conflict(f"lost the refresh lock of {name!r} before the {what}; nothing changed",
                        details={"profile": name})
    if status == -1:
        return LeaseHeld(f"profile {name!r} is leased by a running roost exec (on some machine of the fleet); "
                         f"retry the {what} after it exits", details={"profile": name, "leases": int(result[1])})
    if status == -2:
        return Conflict(f"a rotation of {name!r} is in flight on another machine; retry the {what} after it "
                        "commits", details={"profile": name})
    return Conflict(f"the stored credentials of {name!r} changed during the {what} (now v{int(result[1])}); "
                    "nothing changed, retry", details={"profile": name})


def remove(backend: Any, profile: Any) -> None:
    name = profile.name
    keys: Keyspace = backend.keys
    backend.ready_for_credentials()
    owner = _held_owner(backend, name, "remove")
    result = backend.script(
        "remove_cred", "removing a profile",
        [keys.rlock(name), keys.cred(name), keys.profiles, keys.profile_leases(name), keys.intent(name),
         keys.removed],
        [owner, keys.profile_id(name), name, backend.host])
    status = int(result[0])
    if status != 1:
        raise _refused(status, result, name, "removal")
    backend.local.drop_cred(name)
    backend.creds.reads.pop(name, None)


def rename(backend: Any, profile: Any, new: str, replace: bool) -> None:
    old = profile.name
    keys: Keyspace = backend.keys
    backend.ready_for_credentials()
    owner = _held_owner(backend, old, "rename")
    new_owner = _held_owner(backend, new, "replace") if replace else ""
    backend.creds.read(profile)  # imports a local login the store has not seen yet
    record = backend.creds.fetch(old)
    if record is None:
        raise NotFound(f"the store holds no credentials for {old!r}; nothing to rename",
                       details={"profile": old})
    sealer = backend.sealer()
    _, data = sealer.open(old, record.v, record.blob)
    target = backend.creds.fetch(new)
    if target is not None and not replace:
        raise Conflict(f"profile {new!r} already exists in the store; use --force to replace it",
                       details={"profile": new})
    expected_new_v = target.v if target is not None else 0
    stone = backend.creds.tombstone(new)
    new_v = max(expected_new_v, stone.v if stone else 0) + 1
    blob = sealer.seal(new, new_v, data)
    result = backend.script(
        "rename_cred", "renaming a profile",
        [keys.rlock(old), keys.cred(old), keys.cred(new), keys.profiles, keys.profile_leases(old),
         keys.profile_leases(new), keys.intent(old), keys.intent(new), keys.removed],
        [owner, record.v, expected_new_v, new_v, blob, record.fp,
         record.expires_at_ms, backend.host, keys.profile_id(old), keys.profile_id(new), old, new,
         f"rename-{uuid.uuid4().hex}", new_owner])
    status = int(result[0])
    if status != 1:
        raise _refused(status, result, new if status == -4 else old, "rename")
    moved = dataclasses.replace(record, v=new_v, blob=blob, updated_ms=int(result[2]))
    backend.local.drop_cred(old)
    backend.local.mirror_cred(new, moved.to_mirror())
    backend.creds.reads.pop(old, None)
    backend.creds.reads[new] = ReadMark(new_v, record.fp)
