"""The pending-grant journal: a refreshed token is on disk before the credentials are replaced.

A refresh token is single-use, so the grant the server returns must survive a
kill between the POST and the write. The files backend keeps it in
``<realpath of the credentials file>.roost-pending``:

1. ``reserve`` (before the POST): create the file, fill it with NULs to more
   than the new document can need, fsync. If the room cannot be had, nothing
   is spent.
2. ``record`` (after the POST): overwrite the reservation in place (no rename,
   no new blocks) with the new document plus a ``roostPending`` marker naming
   the refresh token it replaces (a digest, never the token), fsync.
3. ``release`` once the credentials file holds the grant.

``pending`` (called by the refresh engine under the refresh locks) hands back
a grant a killed run left behind; a torn or unusable file is set aside as
``.bad`` with a warning, an empty reservation is dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from roost_core.api import Credentials, CredentialsError, fsync_dir, remove_stale_temps

PENDING_SUFFIX = ".roost-pending"
PENDING_KEY = "roostPending"  # top-level marker inside a pending file, stripped when applied
RESERVE_SLACK = 4096  # room beyond the current file for the new document and its marker


def pending_path(profile: Any) -> Path:
    target = Path(os.path.realpath(profile.credentials_path))
    return target.with_name(target.name + PENDING_SUFFIX)


def digest(token: str | None) -> str:
    import hashlib  # a refresh's cost, not every run's (hashlib loads OpenSSL)

    return hashlib.sha256((token or "").encode()).hexdigest()[:32]


@dataclass
class PendingGrant:
    """A grant a killed run journaled but maybe never wrote."""

    document: dict[str, Any]  # the credentials document, marker stripped
    replaces_digest: str
    handle: Path

    def replaces(self, refresh_token: str | None) -> bool:
        return digest(refresh_token) == self.replaces_digest


def reserve(profile: Any, current: bytes) -> Path:
    """Claim the disk room for the grant BEFORE the token is spent (OSError: no room, nothing kept)."""
    path = pending_path(profile)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        _write_all(fd, bytes(len(current) + RESERVE_SLACK))
        os.fsync(fd)
    except OSError:
        os.close(fd)
        release(path)
        raise
    os.close(fd)
    fsync_dir(path.parent)
    return path


def record(path: Path, document: dict[str, Any], replaces: str | None, now: float) -> None:
    """Overwrite the reservation in place: the grant is on disk the moment this returns."""
    data = (json.dumps({**document, PENDING_KEY: {"replaces": digest(replaces), "at": now}}) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def release(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def pending(profile: Any, warn: Callable[[str], None]) -> PendingGrant | None:
    """The grant left in the journal, if any (call it under the refresh locks)."""
    path = pending_path(profile)
    remove_stale_temps(path)
    remove_stale_temps(profile.credentials_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.strip(b"\0 \n"):
        release(path)  # a reservation whose POST never came back with a grant
        return None
    try:
        grant = Credentials.parse(data, "pending refresh")
        marker = grant.document.get(PENDING_KEY)
        if not isinstance(marker, dict) or not isinstance(marker.get("replaces"), str) or not grant.access_token:
            raise CredentialsError("pending refresh: no marker")
    except CredentialsError:
        os.replace(path, path.with_name(path.name + ".bad"))
        warn(f"{path.name} for {profile.name!r} was unusable; kept as {path.name}.bad")
        return None
    document = {k: v for k, v in grant.document.items() if k != PENDING_KEY}
    return PendingGrant(document, marker["replaces"], path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
