"""Reading and rewriting Claude Code credentials files.

The file is Claude Code's, not ours: unknown keys are kept byte-for-byte in
meaning, ``scopes`` is never dropped, and a file we cannot parse is never
rewritten. Tokens only leave this module redacted, except to the HTTP layer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from .errors import RoostError, ValidationError
from .records import TokenGrant

OAUTH_KEY = "claudeAiOauth"


def redact(token: str | None) -> str:
    """At most the last 4 characters of a token: ``…abcd``."""
    if not token:
        return "(none)"
    return "…" + token[-4:] if len(token) > 8 else "…"


def redact_token_shapes(text: str) -> str:
    """``text`` with anything shaped like an Anthropic token (``sk-ant-...``) cut to its last 4 characters."""
    import re

    return re.sub(r"sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{4,}", lambda m: redact(m.group(0)), text)


def _in_seconds(number: float) -> bool:
    """An expiresAt this small is seconds, not milliseconds: a unit mix-up seen in the wild."""
    return 0 < number < 10**11


def _readable_expiry(value: Any) -> bool:
    """A missing or non-numeric expiresAt is read as "no expiry"; a number must be a real time."""
    from .numbers import epoch_seconds, finite

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    number = finite(value)
    if number is None:
        return False
    return epoch_seconds(number if _in_seconds(number) else number / 1000) is not None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class CredentialsError(RoostError):
    """A credentials file that cannot be used (missing, unreadable, malformed)."""

    exit_code = ValidationError.exit_code


@dataclass
class Credentials:
    """A parsed credentials file: the whole document plus typed views of the OAuth part."""

    document: dict[str, Any]

    @classmethod
    def parse(cls, data: bytes, where: str = "credentials") -> "Credentials":
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CredentialsError(f"{where}: not valid JSON ({type(exc).__name__})") from None
        if not isinstance(document, dict):
            raise CredentialsError(f"{where}: expected a JSON object")
        oauth = document.get(OAUTH_KEY)
        if oauth is not None and not isinstance(oauth, dict):
            raise CredentialsError(f"{where}: {OAUTH_KEY} is not an object")
        if oauth and not _readable_expiry(oauth.get("expiresAt")):
            # NaN, ±Infinity, 1e30, 2**63, -1e20: a malformed file (this profile only), never a crash.
            raise CredentialsError(f"{where}: expiresAt {_shown(oauth.get('expiresAt'))} is not a time "
                                   "(expected milliseconds since 1970)")
        return cls(document)

    @property
    def oauth(self) -> dict[str, Any]:
        oauth = self.document.get(OAUTH_KEY)
        return oauth if isinstance(oauth, dict) else {}

    def _str(self, key: str) -> str | None:
        value = self.oauth.get(key)
        return value if isinstance(value, str) and value else None

    @property
    def access_token(self) -> str | None:
        return self._str("accessToken")

    @property
    def refresh_token(self) -> str | None:
        return self._str("refreshToken")

    @property
    def is_setup_token(self) -> bool:
        """A long-lived ``claude setup-token`` login: an access token only, without user:profile."""
        scopes = self.oauth.get("scopes")
        return (bool(self.access_token) and not self.refresh_token and isinstance(scopes, list)
                and "user:profile" not in scopes)

    @property
    def plan(self) -> str | None:
        return self._str("subscriptionType")

    @property
    def expires_at_ms(self) -> int | None:
        value = self.oauth.get("expiresAt")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        value = int(value)
        return value * 1000 if _in_seconds(value) else value  # a seconds value is read as seconds

    def name_unit_mixup(self, profile: str, warn: Callable[[str], None]) -> None:
        """expiresAt in seconds, not milliseconds: read as seconds (no refresh storm), and named."""
        value = self.oauth.get("expiresAt")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and _in_seconds(value):
            warn(f"{profile}: expiresAt {value} looks like seconds, not milliseconds; read as seconds "
                 f"({self.expires_at_iso()}), but claude reads milliseconds and would see the token as expired")

    def expires_at_iso(self) -> str | None:
        ms = self.expires_at_ms
        if ms is None:
            return None
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    def seconds_to_expiry(self, now: float | None = None) -> float | None:
        ms = self.expires_at_ms
        if ms is None:
            return None
        return ms / 1000 - (time.time() if now is None else now)

    def is_expired(self, now: float | None = None, margin_s: float = 0.0) -> bool:
        """Past expiresAt (a missing expiry never expires, as in Claude Code; 0 is expired)."""
        remaining = self.seconds_to_expiry(now)
        return remaining is not None and remaining <= margin_s

    def with_grant(self, grant: TokenGrant, now: float | None = None) -> "Credentials":
        """A copy holding ``grant``, every other field untouched (docs/refresh.md)."""
        document = json.loads(json.dumps(self.document))
        oauth = dict(document.get(OAUTH_KEY) or {})
        oauth["accessToken"] = grant.access_token
        if grant.refresh_token:
            oauth["refreshToken"] = grant.refresh_token
        now_s = time.time() if now is None else now
        oauth["expiresAt"] = int(now_s * 1000 + grant.expires_in * 1000)
        if grant.scope:
            oauth["scopes"] = grant.scope.split()
        document[OAUTH_KEY] = oauth
        return Credentials(document)

    def dumps(self) -> bytes:
        return (json.dumps(self.document, indent=2) + "\n").encode("utf-8")

    def __repr__(self) -> str:
        return f"Credentials(access={redact(self.access_token)}, refresh={redact(self.refresh_token)})"
