"""The credential-store seam: where a profile's Claude Code login really lives.

On Linux and Windows claude keeps it in ``<config dir>/.credentials.json``; on
macOS in the login keychain (the file only as a fallback). A store plugin
(``roost_register_credential_stores``) implements ``ProfileCredentialStore``;
the state backend reads and writes a profile's credentials through the one
store selected for the platform (docs/platforms.md):

* ``read(profile)`` -> ``StoredCredentials`` (the bytes and where they came
  from); FileNotFoundError when no store holds a login;
* ``write(profile, data, expected)`` compares-and-sets on the refresh token
  (``expected`` is the token the write is based on; ``ANY`` for an import;
  a stored empty token is accepted, as claude does), reads the result back
  and verifies it, and returns where it went;
* ``delete(profile)`` removes every copy; ``lock_dir(profile)`` is where
  claude's lock directories for this login live;
* ``inspect(profile)`` (doctor) says which store holds the live copy and
  whether a stray second copy exists, without reading a secret;
* ``ready_to_spend(profile)`` raises when a refreshed token could not be
  written back where claude reads it: UNAVAILABLE (a locked keychain),
  FORBIDDEN (a file out of this user's ownership).
* optional ``relocate(old, new)``: ``roost rename`` moves a login that is
  named after the directory (a keychain item) before the directory moves.

The caller (the files backend) holds claude's three locks around every write.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, runtime_checkable

from .errors import Conflict, RoostError

if TYPE_CHECKING:
    from .context import RoostContext
    from .records import Profile

PLATFORMS = ("linux", "darwin", "win32")
KEYCHAIN_SERVICE = "Claude Code-credentials"
FALLBACK_ACCOUNT = "claude-code-user"
PLATFORM_VAR = "CLAUDE_LB_PLATFORM"
ANY = object()  # ``write(expected=ANY)``: an import, whatever is stored


@dataclass
class StoredCredentials:
    """A login as a store holds it: the JSON bytes, the store (``file``, ``keychain``, ...), and where."""

    data: bytes
    source: str
    location: str
    notes: list[str] = field(default_factory=list)  # e.g. "keychain unavailable: read the file"


@runtime_checkable
class ProfileCredentialStore(Protocol):
    """A place claude keeps a profile's login. ``platforms``: where it may be selected;
    ``priority``: the highest of the stores for a platform is the default there."""

    name: str
    platforms: frozenset[str]
    priority: int

    def read(self, profile: "Profile") -> StoredCredentials: ...

    def write(self, profile: "Profile", data: bytes, expected: Any = ANY) -> StoredCredentials: ...

    def delete(self, profile: "Profile") -> list[str]: ...

    def lock_dir(self, profile: "Profile") -> Path: ...

    def inspect(self, profile: "Profile") -> dict[str, Any]: ...

    def ready_to_spend(self, profile: "Profile") -> None: ...


class CredentialStoreFactory(Protocol):
    """What ``roost_register_credential_stores`` may return instead of a store: opened per run."""

    name: str
    platforms: frozenset[str]
    priority: int

    def open(self, ctx: "RoostContext") -> ProfileCredentialStore: ...


# -- platform ---------------------------------------------------------------------

def running_platform() -> str:
    if sys.platform.startswith("win"):
        return "win32"
    return "darwin" if sys.platform == "darwin" else "linux"


def env_platform(env: Mapping[str, str] | None = None) -> str:
    """``$CLAUDE_LB_PLATFORM`` when valid, else the running OS (for code that runs before settings load)."""
    value = (os.environ if env is None else env).get(PLATFORM_VAR, "")
    return value if value in PLATFORMS else running_platform()


def current_platform(ctx: "RoostContext") -> str:
    """The ``platform`` setting (flag > env > team > config.toml), default the running OS."""
    return ctx.settings.get("platform") or running_platform()


# -- claude's naming ----------------------------------------------------------------

def config_dir_string(directory: Path | str) -> str:
    """The one string roost gives claude for a profile: absolute, NFC (where that path exists), no
    trailing separator.

    claude hashes the variable's raw text (not a resolved path), so exec
    exports exactly this as CLAUDE_CONFIG_DIR and CLAUDE_SECURESTORAGE_CONFIG_DIR
    and the keychain store names the item from it.
    """
    raw = os.path.abspath(os.fspath(directory))
    text = _nfc(raw)
    if text != raw and not os.path.exists(text) and os.path.exists(raw):
        # A file system that keeps names as written (Linux, NTFS) has no NFC twin of an NFD name:
        # claude must get the path that exists (it hashes NFC of the text itself, so the
        # keychain name, which only macOS uses, is the same either way).
        text = raw
    while len(text) > 1 and text[-1] in (os.sep, os.altsep or os.sep) and not text.endswith(":" + os.sep):
        text = text[:-1]
    return text


def _nfc(text: str) -> str:
    """Unicode NFC; ASCII text already is, so exec's usual path never loads unicodedata."""
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFC", text)


def keychain_service(config_dir: str | None) -> str:
    """claude's keychain service for a raw config-dir string (None or "": the default item)."""
    import hashlib

    if not config_dir:
        return KEYCHAIN_SERVICE
    digest = hashlib.sha256(_nfc(config_dir).encode("utf-8")).hexdigest()
    return f"{KEYCHAIN_SERVICE}-{digest[:8]}"


def keychain_account(env: Mapping[str, str]) -> str:
    """``$USER``, else the OS user name, else ``claude-code-user`` (claude's order)."""
    user = env.get("USER", "")
    if user:
        return user
    try:
        import getpass

        return getpass.getuser() or FALLBACK_ACCOUNT
    except (OSError, KeyError, ImportError):
        return FALLBACK_ACCOUNT


# -- compare-and-set ------------------------------------------------------------------

def refresh_token_of(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        oauth = json.loads(data.decode("utf-8")).get("claudeAiOauth")
    except (UnicodeDecodeError, ValueError, AttributeError, RecursionError):
        return None
    token = oauth.get("refreshToken") if isinstance(oauth, dict) else None
    return token if isinstance(token, str) and token else None


def check_expected(profile: "Profile", current: StoredCredentials | None, expected: Any) -> None:
    """CONFLICT unless the stored refresh token is still ``expected`` (or empty: claude's rule)."""
    if expected is ANY:
        return
    stored = refresh_token_of(current.data) if current is not None else None
    if stored is None or stored == expected:
        return
    raise Conflict(f"the credentials of {profile.name!r} changed since roost read them; not overwritten",
                   details={"profile": profile.name})


def verify_written(profile: "Profile", written: bytes, back: bytes | None, where: str) -> None:
    """A write is read back: the same JSON document, or a clear error (never silence)."""
    try:
        same = back is not None and json.loads(back.decode("utf-8")) == json.loads(written.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        same = back == written
    if not same:
        raise RoostError(f"the credentials of {profile.name!r} written to {where} did not read back the same; "
                         "check them with roost doctor", details={"profile": profile.name, "store": where})


# -- selection --------------------------------------------------------------------------

def credential_store(ctx: "RoostContext") -> ProfileCredentialStore:
    """The store for this run: the ``credential_store`` setting, else the platform's highest priority."""
    platform = current_platform(ctx)
    registered = ctx.host.registry("credstore")
    chosen = ctx.settings.get("credential_store")
    if chosen:
        found = ctx.host.get("credstore", chosen, "credential store")
    else:
        fitting = [s for s in registered.values() if platform in getattr(s, "platforms", frozenset())]
        if not fitting:
            from .errors import ValidationError

            raise ValidationError(f"no credential store for platform {platform!r}; available: "
                                  f"{', '.join(sorted(registered)) or 'none'}")
        found = max(fitting, key=lambda s: (getattr(s, "priority", 0), s.name))
    opener = getattr(found, "open", None)
    return opener(ctx) if callable(opener) else found
