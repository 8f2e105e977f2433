"""What ``roost add`` does beside storing the login: setup tokens, restore, identity, shared links.

Kept apart from the command so each step is a short function (docs/profiles.md).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost_core.api import NotFound, ValidationError

if TYPE_CHECKING:
    from roost_core.api import Credentials, Profile, RoostContext

    from .removal import KeptDir
    from .setup import SharePolicy

SETUP_TOKEN_DAYS = 365  # `claude setup-token` tokens last a year
SETUP_TOKEN_SCOPES = ["user:inference"]
MAX_TOKEN_CHARS = 4096


@dataclass
class AddSetup:
    """The report of an add's extra steps (JSON fields of ``add``)."""

    kind: str = "oauth"
    isolated: bool = False
    shared: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    account: dict[str, Any] | None = None
    identity_source: str | None = None
    same_account_as: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    restored_from: str | None = None
    left_in_kept: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("warnings")
        data["email"] = self.account["email"] if self.account else None
        return data

    def lines(self) -> list[str]:
        out = []
        if self.account:
            out.append(f"Account: {self.account['email'] or self.account['account_uuid']} "
                       f"(identity from {self.identity_source}).")
        if self.isolated:
            out.append("Isolated: no shared claude setup is linked.")
        elif self.shared:
            out.append(f"Shared from your claude directory: {', '.join(self.shared)}.")
        if self.restored:
            out.append(f"Restored from {self.restored_from}: {', '.join(self.restored)}.")
        return out


def share_policy(rctx: "RoostContext", name: str, directory: Path, isolated: bool) -> "SharePolicy":
    from .setup import policy_for

    policy = policy_for(rctx.settings, rctx.env, name, directory)
    return dataclasses.replace(policy, isolated=True) if isolated else policy


def kept_to_restore(rctx: "RoostContext", name: str) -> "KeptDir":
    from .removal import latest_kept, removed_roots

    kept = latest_kept(removed_roots(rctx.paths), name)
    if kept is None:
        raise NotFound(f"nothing kept for {name!r} (see 'roost removed')", details={"profile": name})
    return kept


def kept_isolated(kept: "KeptDir | None") -> bool:
    """Whether the profile was ``--isolated`` when ``remove`` kept its files (its marker went with them)."""
    from .removal import kept_isolated as recorded

    return kept is not None and recorded(kept.path)


def read_token(rctx: "RoostContext") -> str:
    """The setup token from stdin (hidden prompt on a terminal); never from argv."""
    if sys.stdin is None:
        raise ValidationError("--setup-token reads the token from stdin, and there is none")
    if sys.stdin.isatty():
        import click

        raw = click.prompt("Setup token (from 'claude setup-token')", hide_input=True, err=True)
    else:
        raw = sys.stdin.read(MAX_TOKEN_CHARS + 1)
    token = raw.strip()
    if not token:
        raise ValidationError("--setup-token: no token on stdin (pipe the output of 'claude setup-token')")
    if len(token) > MAX_TOKEN_CHARS or any(c.isspace() or not c.isprintable() for c in token):
        raise ValidationError("--setup-token: stdin does not hold one token (expected a single sk-ant-oat01-... line)")
    if not token.startswith("sk-ant-oat"):
        rctx.warn("the setup token does not start with sk-ant-oat; storing it anyway")
    return token


def setup_token_login(rctx: "RoostContext", name: str) -> "tuple[bytes, Credentials, str]":
    """A credentials file for a long-lived setup token: access token only, no user:profile scope."""
    import json

    from roost_core.api import Credentials

    token = read_token(rctx)
    oauth = {"accessToken": token, "refreshToken": None,
             "expiresAt": int((time.time() + SETUP_TOKEN_DAYS * 86400) * 1000),
             "scopes": list(SETUP_TOKEN_SCOPES), "subscriptionType": None}
    data = (json.dumps({"claudeAiOauth": oauth}, indent=2) + "\n").encode("utf-8")
    return data, Credentials.parse(data, "setup token"), "stdin (setup token)"


def finish(rctx: "RoostContext", profile: "Profile", policy: "SharePolicy", *, kept: "KeptDir | None",
           setup_token: bool, identity_from: Path | None, isolated_flag: bool = False) -> AddSetup:
    """Restore kept files, mark the profile, import the identity, link the shared setup.

    Each step only warns on failure: the login is stored already and stays usable.
    """
    from .setup import write_marker

    result = AddSetup(kind="setup-token" if setup_token else "oauth", isolated=policy.isolated)
    directory = profile.directory
    if kept is not None:
        _restore(result, kept, directory)
    marks = {k: v for k, v in (("isolated", True if isolated_flag else None),
                               ("kind", "setup-token" if setup_token else None)) if v is not None}
    _step(result, "could not record the profile's settings", lambda: write_marker(directory, **marks) if marks else None)
    if not setup_token:
        _step(result, "could not import the account identity", lambda: _identity(rctx, result, profile,
                                                                                 identity_from))
    _step(result, "could not link the shared claude setup", lambda: _links(result, directory, policy))
    for message in result.warnings:
        rctx.warn(message)
    return result


def _step(result: AddSetup, what: str, fn: Any) -> None:
    from roost_core.api import RoostError

    try:
        fn()
    except (RoostError, OSError) as exc:
        result.warnings.append(f"{what}: {getattr(exc, 'message', None) or exc}")


def _restore(result: AddSetup, kept: "KeptDir", directory: Path) -> None:
    from .removal import restore_into

    result.restored, result.left_in_kept = restore_into(kept.path, directory)
    result.restored_from = str(kept.path)
    if result.left_in_kept:
        result.warnings.append(f"kept in {kept.path} (a file of that name exists in the profile): "
                               f"{', '.join(result.left_in_kept)}")


def _identity(rctx: "RoostContext", result: AddSetup, profile: "Profile", identity_from: Path | None) -> None:
    from roost_core.api import (
        IdentityAccount as Account,
        accounts_of,
        identity_source_for as source_for,
        import_identity_block as import_block,
        read_identity_block as read_block,
        shared_accounts,
    )

    source = source_for(identity_from, Path(rctx.env.get("HOME") or Path.home()))
    block = read_block(source)
    if block is None:
        result.warnings.append(f"no account identity (oauthAccount) in {source}; claude will show no email "
                               "for this profile until it signs in")
        return
    if not import_block(profile.directory, block):
        result.warnings.append(f"left {profile.directory / '.claude.json'} alone (not a JSON object or a "
                               "symbolic link); the account identity was not imported")
        return
    account = Account.from_block(block)
    assert account is not None  # read_block returns only a block that names an account
    result.account, result.identity_source = account.to_dict(), str(source)
    peers = shared_accounts(accounts_of(rctx.profiles())).get(profile.name, [])
    result.same_account_as = peers
    if peers:
        who = account.email or account.account_uuid
        result.warnings.append(f"profile {profile.name!r} is the same account ({who}) as "
                               f"{', '.join(map(repr, peers))}: they share one quota")


def _links(result: AddSetup, directory: Path, policy: "SharePolicy") -> None:
    from .setup import ensure_links

    report = ensure_links(directory, policy)
    result.shared = sorted(report.linked + report.present)
    result.own = sorted(report.own)
