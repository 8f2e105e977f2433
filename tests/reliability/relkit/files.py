"""Invariants over the files roost owns: they parse, their modes, no temp leftovers."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

JSON_STATE = ("health.json", "last-pick.json", "leases.json", "platform-status.json")
TEMP_MARKERS = (".roost-tmp",)


def parse_problems(config_dir: Path, profiles: Path) -> list[str]:
    """Every JSON state file and credentials file must parse as a JSON object."""
    problems = []
    for name in JSON_STATE:
        path = config_dir / name
        if path.exists():
            problems += _json_problem(path)
    if profiles.is_dir():
        for entry in sorted(profiles.iterdir()):
            creds = entry / ".credentials.json"
            if entry.is_dir() and not entry.name.endswith(".lock") and creds.exists():
                problems += _json_problem(creds)
    return problems


def _json_problem(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        return [f"{path}: {type(exc).__name__}: {exc}"]
    return [] if isinstance(data, dict) else [f"{path}: not a JSON object"]


def mode_problems(roots: list[Path], *, skip_names: tuple[str, ...] = ()) -> list[str]:
    """Files must be 0600 and directories 0700 (group/other bits never set)."""
    problems = []
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                if name in skip_names:
                    continue
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    continue
                want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
                if stat.S_IMODE(st.st_mode) & 0o077:
                    problems.append(f"{path}: mode {stat.S_IMODE(st.st_mode):04o}, want {want:04o}")
        st = os.lstat(root)
        if stat.S_IMODE(st.st_mode) & 0o077:
            problems.append(f"{root}: mode {stat.S_IMODE(st.st_mode):04o}, want 0700")
    return problems


def temp_leftovers(roots: list[Path]) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            found += [Path(dirpath) / n for n in filenames if any(m in n for m in TEMP_MARKERS)]
    return found


def snapshot_tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Relative path -> (mode, bytes for files) for everything under ``root``."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            data = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
            out[str(path.relative_to(root))] = (st.st_mode, data)
    return out
