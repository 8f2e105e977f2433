"""Refresh tokens the token endpoint has rejected, remembered by fingerprint.

A refresh token the endpoint answered ``invalid_grant`` stays dead: POSTing
it again only costs requests (and, with N processes queued on the refresh
lock, N POSTs of one dead token). After a rejection roost records the
token's fingerprint (a truncated SHA-256, never the token) in the state
document ``rejected-tokens``, shared like every state document (one file on
the files backend, one key on the redis backend); every later refresh of the
same stored token stops without a POST and reports auth_dead, and the health
engine classifies the profile auth_dead once its access token has expired.
A new login or import changes the stored refresh token, so its fingerprint
no longer matches: nothing has to be cleared.

It also recognises the other dead state: a file Claude Code wiped after its
own ``invalid_grant`` (tokens emptied, ``expiresAt: 0``), which is logged
out, needs ``claude login``, and must never be POSTed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import RoostContext
    from .credentials import Credentials

DOC = "rejected-tokens"
KEEP_S = 90 * 86400.0  # a refresh token unused this long has expired server-side anyway
MAX_ENTRIES = 4096


LOGGED_OUT = "logged out: run claude login"


def is_logged_out(creds: "Credentials") -> bool:
    """Claude Code's wiped file: no access and no refresh token, ``expiresAt`` 0."""
    expires = creds.oauth.get("expiresAt")
    return (not creds.access_token and not creds.refresh_token
            and not isinstance(expires, bool) and expires == 0)


def fingerprint(token: str) -> str:
    """16 hex digits of SHA-256: enough to tell tokens apart, useless to an attacker."""
    import hashlib  # only when a token is checked (hashlib loads OpenSSL on every run otherwise)

    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def lookup(ctx: "RoostContext", token: str | None) -> dict[str, Any] | None:
    """The rejection recorded for this refresh token (``{at, reason, profile}``), if any."""
    if not token:
        return None
    try:
        doc = ctx.state.read_doc(DOC)
    except (OSError, ValueError):
        return None
    entries = doc.get("tokens") if isinstance(doc, dict) else None
    entry = entries.get(fingerprint(token)) if isinstance(entries, dict) else None
    return entry if isinstance(entry, dict) else None


def remember(ctx: "RoostContext", token: str, profile: str, reason: str) -> None:
    """Record a rejection (call it under the refresh lock, before releasing it)."""
    now = ctx.now()
    key = fingerprint(token)

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        found = doc.get("tokens")
        kept = {k: v for k, v in (found if isinstance(found, dict) else {}).items()
                if isinstance(v, dict) and isinstance(v.get("at"), (int, float)) and now - v["at"] < KEEP_S}
        kept = dict(sorted(kept.items(), key=lambda kv: kv[1]["at"])[-(MAX_ENTRIES - 1):])
        kept[key] = {"at": now, "reason": reason, "profile": profile}
        return {"version": 1, "tokens": kept}

    ctx.state.update_doc(DOC, edit)


def describe(entry: dict[str, Any], fix: str | None = None) -> str:
    """Why the stored refresh token cannot be used, with the fix (the two invalid_grants kept apart);
    ``fix``: the profile's own sign-in hint (``refresh.relogin_fix``: its name and directory). Every
    caller in roost passes it; without it the fix names no profile (never a literal placeholder)."""
    reason = entry.get("reason")
    if reason == "logged_out":
        return LOGGED_OUT
    if reason == "refresh_token_expired":
        what = "Refresh token expired: the account was idle too long"
    elif reason == "refresh_token_invalid":
        what = "Refresh token not found or invalid: it was spent (rotated away) or revoked"
    else:
        what = "invalid_grant: it is spent, revoked or expired"
    return (f"its refresh token was rejected earlier ({what}); "
            + (fix or "sign this profile in again with claude login"))
