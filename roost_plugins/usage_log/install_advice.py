"""What to run to add Pillow (``roost[plot]``) to the roost that is running, however it was installed.

Read from the running interpreter, never guessed from PATH: a uv tool
environment holds ``uv-receipt.toml`` in ``sys.prefix``; a pipx venv lives
under a ``pipx`` directory; otherwise roost's ``INSTALLER`` file says whether
pip or uv put it into this interpreter. ``direct_url.json`` says where roost
came from (an editable clone, a URL), so a uv tool reinstall keeps its source.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PILLOW = "pillow>=10.1"  # the [plot] extra


@dataclass
class Installed:
    how: str  # "uv-tool" | "pipx" | "uv-pip" | "pip"
    prefix: str
    source: str  # what to hand uv tool install: "roost", "--editable DIR" or a URL


def _metadata(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        return distribution("roost").read_text(name)
    except (PackageNotFoundError, OSError):
        return None


def _source() -> str:
    try:
        direct: Any = json.loads(_metadata("direct_url.json") or "{}")
    except ValueError:
        direct = {}
    url = direct.get("url") if isinstance(direct, dict) else None
    if not isinstance(url, str) or not url:
        return "roost"
    if url.startswith("file://"):
        path = url[len("file://"):]
        editable = bool((direct.get("dir_info") or {}).get("editable"))
        return f"--editable {shlex.quote(path)}" if editable else shlex.quote(path)
    return shlex.quote(url)


def detect(prefix: str | None = None) -> Installed:
    root = Path(prefix or sys.prefix)
    if (root / "uv-receipt.toml").exists():
        how = "uv-tool"
    elif "pipx" in root.parts:
        how = "pipx"
    elif (_metadata("INSTALLER") or "").strip() == "uv":
        how = "uv-pip"
    else:
        how = "pip"
    return Installed(how, str(root), _source())


def pillow_command(installed: Installed, python: str | None = None) -> str:
    python = python or sys.executable
    spec = shlex.quote(PILLOW)
    if installed.how == "uv-tool":
        return f"uv tool install --reinstall --with {spec} {installed.source}"
    if installed.how == "pipx":
        return f"pipx inject {shlex.quote(Path(installed.prefix).name)} {spec}"
    if installed.how == "uv-pip":
        return f"uv pip install --python {shlex.quote(python)} {spec}"
    return f"{shlex.quote(python)} -m pip install {spec}"
