"""What a machine keeps locally in redis mode, under ``<config>/redis/`` (0700):

* ``mirror/``: the last copy of every document read from the store (served,
  marked degraded, when the store is down) and of every credentials record
  as stored (still Fernet-sealed; ``roost state restore`` pushes them back
  after the store lost its data). Written only when the version changed.
* ``spool/``: log lines written while the store was down, flushed later.
* ``journal/``: rotated credentials not yet committed to the store (sealed,
  fsync'd before the commit is even tried; see journal.py).
* ``store.json``: the store epoch this machine last saw (reset detection).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from roost_core.api import JsonDocuments, RefreshGuard, append_line, ensure_private_dir

from .keys import short_hash


class LocalState:
    def __init__(self, root: Path, warn: Callable[[str], None]):
        self.root = root
        # A corrupt mirror document is rebuilt on read like any state document, except a sealed
        # credentials record (cred-*): never rewritten but by mirror_cred.
        self.files = JsonDocuments(root / "mirror", warn, rebuild=lambda name: not name.startswith("cred-"))
        self.spool_dir = root / "spool"
        # The files backend, for Claude Code's lock directories on this machine's tree
        # (set by the factory; None: no claude to coordinate with, as in in-process tests).
        self.claude: Any = None
        self.journal_dir = root / "journal"

    # -- Claude Code's locks on the local tree -------------------------------------
    def refresh_guard(self, profile: Any, deadline: float) -> Any:
        if self.claude is None:
            return contextlib.nullcontext(RefreshGuard())
        return self.claude.guard_refresh(profile, deadline)

    def storage_write_guard(self, profile: Any, tree: Path | None = None) -> Any:
        if self.claude is None:
            return contextlib.nullcontext()
        return self.claude.storage_write_guard(profile, tree)

    # -- store epoch ---------------------------------------------------------
    def seen_epoch(self) -> str | None:
        value = self.files.read_doc("store").get("epoch")
        return value if isinstance(value, str) and value else None

    def remember_epoch(self, epoch: str) -> None:
        if self.seen_epoch() != epoch:
            self.files.update_doc("store", lambda doc: {**doc, "epoch": epoch})

    # -- document mirror -----------------------------------------------------
    def mirrored_doc(self, name: str) -> dict[str, Any]:
        entry = self.files.read_doc(f"doc-{short_hash(name)}")
        doc = entry.get("doc")
        return doc if isinstance(doc, dict) else {}

    def mirror_doc(self, name: str, version: int, doc: dict[str, Any]) -> None:
        key = f"doc-{short_hash(name)}"
        current = self.files.read_doc(key)
        if current.get("name") == name and current.get("v") == version and (version >= 0 or current.get("doc") == doc):
            return  # unchanged (-1: not versioned, compare the content)
        self.files.update_doc(key, lambda _old: {"name": name, "v": version, "doc": doc})

    # -- credentials mirror (sealed records, exactly as stored) ----------------
    def mirrored_cred(self, profile: str) -> dict[str, Any]:
        return self.files.read_doc(f"cred-{short_hash(profile)}")

    def mirror_cred(self, profile: str, record: dict[str, Any]) -> None:
        """Keep the newest record seen for ``profile`` (never step back a version)."""
        key = f"cred-{short_hash(profile)}"
        current = self.files.read_doc(key)
        if _version(current) >= _version(record) and current.get("fp") == record.get("fp"):
            return

        def edit(old: dict[str, Any]) -> dict[str, Any]:
            return old if _version(old) > _version(record) else {**record, "profile": profile}

        self.files.update_doc(key, edit)

    def drop_cred(self, profile: str) -> None:
        """Forget a profile that left the fleet (so a later restore cannot bring it back)."""
        try:
            os.unlink(self.files.directory / f"cred-{short_hash(profile)}.json")
        except FileNotFoundError:
            pass

    def mirrored_profiles(self) -> Iterator[dict[str, Any]]:
        try:
            names = sorted(os.listdir(self.files.directory))
        except OSError:
            return
        for name in names:
            if name.startswith("cred-") and name.endswith(".json"):
                record = self.files.read_doc(name[: -len(".json")])
                if record.get("profile") and record.get("blob"):
                    yield record

    # -- log spool -------------------------------------------------------------
    def spool(self, log: str, eid: str, line: str) -> None:
        ensure_private_dir(self.spool_dir)
        append_line(self.spool_dir / f"{short_hash(log)}.spool", json.dumps({"log": log, "eid": eid, "line": line}))

    def spooled_files(self) -> list[Path]:
        try:
            return sorted(p for p in self.spool_dir.iterdir() if ".spool" in p.name)
        except OSError:
            return []

    def take_spool(self, path: Path) -> Path | None:
        """Claim a spool file for flushing (a rename, so two flushers never share one)."""
        if path.name.endswith(".spool"):
            claimed = path.with_name(f"{path.name}.flushing-{os.getpid()}")
            try:
                os.rename(path, claimed)
            except OSError:
                return None
            return claimed
        return path if path.name.endswith(f".flushing-{os.getpid()}") or _owner_dead(path) else None


def read_spool(path: Path) -> list[dict[str, str]]:
    entries = []
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn tail from a killed writer
                if isinstance(entry, dict) and {"log", "eid", "line"} <= set(entry):
                    entries.append({k: str(entry[k]) for k in ("log", "eid", "line")})
    except OSError:
        pass
    return entries


def _owner_dead(path: Path) -> bool:
    """A ``.flushing-<pid>`` file whose flusher died: any flusher may take it over."""
    try:
        pid = int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _version(record: dict[str, Any]) -> int:
    try:
        return int(record.get("v", 0))
    except (TypeError, ValueError):
        return 0
