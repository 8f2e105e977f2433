"""Meta-tests: every hookspec is documented with its exact signature, and the hot path stays light."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from roost_core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = [name for name, obj in vars(hookspecs).items() if name.startswith("roost_") and callable(obj)]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_documented_with_signature(hook):
    doc = (ROOT / "docs" / "PLUGINS.md").read_text()
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert re.search(rf"^### `{hook}\({re.escape(params)}\)", doc, re.M), f"{hook}({params}) not in PLUGINS.md"


def _imported_modules(tmp_path: Path, *args: str) -> set[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CLAUDE_LB_PROFILES_DIR": str(tmp_path / "p"),
           "XDG_CONFIG_HOME": str(tmp_path / "c")}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", *args],
                          capture_output=True, text=True, timeout=60, env=env)
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}


@pytest.mark.parametrize("args", [["--help"], ["list"], ["--version"]])
def test_cheap_commands_import_neither_httpx_nor_rich(args, tmp_path):
    mods = _imported_modules(tmp_path, *args)
    assert not {m for m in mods if m.split(".")[0] in ("httpx", "rich", "httpcore")}, args
