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
from dataclasses import dataclass
from typing import Any, Iterator

_NORMALISE = re.compile(r"[-_.]+")
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str
    dist: str | None
    version: str | None

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


def entry_points(group: str) -> list[EntryPoint]:
    found: list[EntryPoint] = []
    for directory in _distributions():
        section = _section(os.path.join(directory, "entry_points.txt"), group)
        if section:
            name, version = _name_and_version(directory)
            found.extend(EntryPoint(key, value, name, version) for key, value in section)
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


def _section(path: str, group: str) -> list[tuple[str, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    pairs, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


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
