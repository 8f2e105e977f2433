"""The account identity claude keeps beside the credentials: ``oauthAccount`` in ``.claude.json``.

``~/.claude.json`` (or ``$CLAUDE_CONFIG_DIR/.claude.json``) holds one
``oauthAccount`` block: email, account and organisation uuids, names. It is
not a secret. ``roost add`` copies it into the profile's own ``.claude.json``
so claude under ``exec`` shows the right email; roost keys "same account" on
the account uuid (team seats of one organisation share the organisation uuid).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .atomic import atomic_write

CLAUDE_JSON = ".claude.json"
KEY = "oauthAccount"
MAX_BYTES = 16 * 1024 * 1024  # claude's .claude.json grows with project history


@dataclass(frozen=True)
class Account:
    email: str | None
    account_uuid: str | None
    organization_uuid: str | None
    organization_name: str | None

    @classmethod
    def from_block(cls, block: Any) -> "Account | None":
        if not isinstance(block, dict):
            return None

        def text(key: str) -> str | None:
            value = block.get(key)
            return value if isinstance(value, str) and value else None

        account = cls(text("emailAddress"), text("accountUuid"), text("organizationUuid"),
                      text("organizationName"))
        return account if account.email or account.account_uuid else None

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "account_uuid": self.account_uuid,
                "organization_uuid": self.organization_uuid, "organization_name": self.organization_name}


def read_document(path: Path) -> dict[str, Any] | None:
    """A ``.claude.json`` parsed (None when absent, unreadable, too big or not a JSON object)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_BYTES:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def source_for(credentials_source: Path | None, home: Path) -> Path:
    """Where the identity of an imported login lives: ``~/.claude.json`` for the default
    source (also when ``--from`` names a file in ``~/.claude``), else ``<source dir>/.claude.json``."""
    if credentials_source is None or _same_dir(Path(credentials_source).parent, home / ".claude"):
        return home / CLAUDE_JSON  # claude's default config dir keeps it one level up, in $HOME
    return Path(credentials_source).parent / CLAUDE_JSON


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def read_block(path: Path) -> dict[str, Any] | None:
    doc = read_document(path)
    block = doc.get(KEY) if doc else None
    return block if Account.from_block(block) is not None else None


def import_block(directory: Path, block: dict[str, Any]) -> bool:
    """Put ``block`` into ``<directory>/.claude.json`` (other keys kept; a file roost cannot
    parse is left alone: False). Never writes through a link."""
    path = Path(directory) / CLAUDE_JSON
    if os.path.islink(path):
        return False
    if os.path.lexists(path):
        doc = read_document(path)
        if doc is None:
            return False
    else:
        doc = {}
    doc[KEY] = block
    atomic_write(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), 0o600)
    return True


def holds_only_identity(path: Path) -> bool:
    """A ``.claude.json`` roost wrote and claude never used: nothing but the imported block."""
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    doc = read_document(path)
    return doc is not None and set(doc) <= {KEY}


def account_of(directory: Path) -> Account | None:
    doc = read_document(Path(directory) / CLAUDE_JSON)
    return Account.from_block(doc.get(KEY)) if doc else None


def shared_accounts(accounts: dict[str, Account | None]) -> dict[str, list[str]]:
    """name -> the other profiles with the same account uuid (only names that have some)."""
    by_uuid: dict[str, list[str]] = {}
    for name, account in sorted(accounts.items()):
        if account is not None and account.account_uuid:
            by_uuid.setdefault(account.account_uuid, []).append(name)
    return {name: [n for n in group if n != name] for group in by_uuid.values() if len(group) > 1
            for name in group}


def accounts_of(profiles: Iterable[Any]) -> dict[str, Account | None]:
    return {p.name: account_of(p.directory) for p in profiles}
