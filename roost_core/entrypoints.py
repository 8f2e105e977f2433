"""Entry points of one group, read straight from the installed metadata files.

What ``importlib.metadata.entry_points(group=...)`` returns, for the cost of a
directory listing per ``sys.path`` entry and one small file read per
distribution: importing ``importlib.metadata`` (email, zipfile, csv, ...) and
parsing each distribution's METADATA through the email parser took about a
third of a warm ``roost pick``. Same rules: ``*.dist-info`` and
``*.egg-info`` directories on ``sys.path``, the first distribution of a
normalised name wins, ``[group]`` sections of ``entry_points.txt``. Zipped
eggs are not read (pip has not installed one in a decade). A unit test keeps
the result equal to importlib.metadata's.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False  # typing and dataclasses cost the launcher's fast commands (roost_core.launch) ~10 ms
if TYPE_CHECKING:
    from typing import Any, Iterator

_NORMALISE = re.compile(r"[-_.]+")
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
# One group's entry points read by the launcher, handed to the next reader in this process.
_PRELOADED: dict[str, list[EntryPoint]] = {}


class EntryPoint:
    """One entry point: ``name``, ``value`` (``module:attr``), its distribution and version."""

    __slots__ = ("name", "value", "dist", "version")

    def __init__(self, name: str, value: str, dist: str | None, version: str | None) -> None:
        self.name, self.value, self.dist, self.version = name, value, dist, version

    def _key(self) -> tuple[str, str, str | None, str | None]:
        return self.name, self.value, self.dist, self.version

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EntryPoint) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, dist={self.dist!r}, version={self.version!r})"

    def load(self) -> Any:
        """Import the module and walk to the attribute, as importlib.metadata does."""
        import importlib

        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"malformed entry point value {self.value!r}")
        target: Any = importlib.import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            target = getattr(target, attr)
        return target


def entry_points(group: str, keep: bool = False) -> list[EntryPoint]:
    """The group's entry points; ``keep``: the next call in this process reuses this read (once)."""
    return groups((group,), keep)[group]


def groups(names: tuple[str, ...], keep: bool = False) -> dict[str, list[EntryPoint]]:
    """Several groups in one pass over the metadata (the launcher reads its own and the plugins')."""
    fresh = _read([g for g in names if g not in _PRELOADED])
    found = {g: _PRELOADED.pop(g) if g in _PRELOADED else fresh[g] for g in names}
    if keep:
        _PRELOADED.update(found)
    return {g: list(eps) for g, eps in found.items()}


def _read(names: list[str]) -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {g: [] for g in names}
    if not names:
        return found
    for directory in _distributions():
        sections = _sections(os.path.join(directory, "entry_points.txt"), names)
        if any(sections.values()):
            name, version = _name_and_version(directory)
            for group, pairs in sections.items():
                found[group].extend(EntryPoint(key, value, name, version) for key, value in pairs)
    return found


def _distributions() -> Iterator[str]:
    """Metadata directories, in ``sys.path`` order, one per normalised distribution name."""
    seen: set[str] = set()
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue  # a zip file, a missing directory
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            key = _NORMALISE.sub("_", stem.partition("-")[0]).lower()
            path = os.path.join(entry or ".", name)
            if key not in seen and os.path.isdir(path):
                seen.add(key)
                yield path


def _sections(path: str, names: list[str]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {g: [] for g in names}
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return found
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current in found and "=" in line:
            key, _, value = line.partition("=")
            found[current].append((key.strip(), value.strip()))
    return found


def _name_and_version(directory: str) -> tuple[str | None, str | None]:
    """``Name:`` and ``Version:`` from the metadata headers (no email parser needed for two fields)."""
    fields: dict[str, str] = {}
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(directory, file), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, sep, value = line.partition(":")
                    if sep and key in ("Name", "Version") and key not in fields:
                        fields[key] = value.strip()
        except OSError:
            continue
        break
    return fields.get("Name"), fields.get("Version")
