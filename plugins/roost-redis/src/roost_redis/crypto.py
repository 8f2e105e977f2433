"""Encryption at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

The key file holds one or more Fernet keys, one per line; the first encrypts,
all decrypt (``MultiFernet``), so a team can add a new key before retiring
the old one; ``roost state rekey`` re-seals every stored record with the
first key so the old line can then be dropped. Fernet has no associated
data, so the profile name and the record version travel inside the
plaintext and are checked on decryption: a blob copied onto another
profile's key, or replayed at another version, is refused. There is no
plaintext fallback, ever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roost_core.api import write_user_file
from roost_core.api import Conflict, RoostError, ValidationError


class IntegrityError(RoostError):
    """A stored blob that does not decrypt or does not belong where it was found."""


def generate_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def write_key_file(path: Path) -> None:
    if path.exists():
        raise Conflict(f"{path} already exists; refusing to overwrite a key (it would orphan every "
                       "credential encrypted with it)")
    write_user_file(path, generate_key() + b"\n", 0o600)  # a path the user named: never through a link


def _load_keys(path: Path) -> list[bytes]:
    try:
        info = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"redis key file {path} does not exist; create it with "
                              f"'roost state keygen {path}' (the same file on every machine)") from None
    except OSError as exc:
        raise ValidationError(f"cannot read redis key file {path}: {exc.strerror}") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ValidationError(f"redis key file {path} is readable by others "
                              f"(mode {stat.S_IMODE(info.st_mode):o}); chmod 600 it")
    keys = [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith(b"#")]
    if not keys:
        raise ValidationError(f"redis key file {path} holds no key")
    return keys


@dataclass
class Sealer:
    """Seals credential payloads for one key set."""

    fernet: Any
    mac_key: bytes
    primary: Any = None  # the first key alone: what "sealed with the current key" means


    @classmethod
    def from_key_file(cls, path: Path) -> "Sealer":
        from cryptography.fernet import Fernet, MultiFernet

        keys = _load_keys(path)
        try:
            fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError:
            raise ValidationError(f"redis key file {path} holds a malformed key "
                                  "(expected url-safe base64 Fernet keys, one per line)") from None
        # A separate key for fingerprints, derived so it never equals the cipher key.
        mac_key = hashlib.sha256(b"roost-redis fingerprint\0" + base64.urlsafe_b64decode(keys[0])).digest()
        return cls(fernet, mac_key, Fernet(keys[0]))

    def seal(self, profile: str, version: int, data: bytes) -> bytes:
        payload = {"profile": profile, "v": version, "data": base64.b64encode(data).decode("ascii")}
        return self.fernet.encrypt(json.dumps(payload).encode("utf-8"))

    def open(self, profile: str, version: int | None, blob: bytes) -> tuple[int, bytes]:
        """The plaintext of ``blob``; refuses one sealed for another profile or version."""
        from cryptography.fernet import InvalidToken

        try:
            payload = json.loads(self.fernet.decrypt(blob))
            sealed_for, sealed_v = payload["profile"], int(payload["v"])
            data = base64.b64decode(payload["data"])
        except InvalidToken:
            raise IntegrityError(f"stored credentials of {profile!r} do not decrypt with this key file "
                                 "(another team's key, or a tampered record)") from None
        except (ValueError, KeyError, TypeError):
            raise IntegrityError(f"stored credentials of {profile!r} are malformed") from None
        if sealed_for != profile or (version is not None and sealed_v != version):
            raise IntegrityError(f"stored credentials of {profile!r} were sealed for another record "
                                 f"({sealed_for!r} v{sealed_v}); refusing them")
        return sealed_v, data

    def is_current(self, blob: bytes) -> bool:
        """True when ``blob`` is sealed with the first key (a rekey would not change it)."""
        from cryptography.fernet import InvalidToken

        if self.primary is None:
            return True
        try:
            self.primary.decrypt(blob)
        except InvalidToken:
            return False
        return True

    def reseal(self, blob: bytes) -> bytes:
        """``blob`` sealed again with the first key: the very same plaintext (MultiFernet.rotate)."""
        from cryptography.fernet import InvalidToken

        try:
            return self.fernet.rotate(blob)
        except InvalidToken:
            raise IntegrityError("stored credentials do not decrypt with this key file") from None

    def fingerprint(self, secret: str | None) -> str:
        """A keyed, non-reversible tag of a refresh token ("" for none): what CAS compares."""
        if not secret:
            return ""
        return hmac.new(self.mac_key, secret.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
