"""Every command in the generated CLI reference answers ``--help`` through the real ``roost``
(a command that fails to load or to build its help is a failure, whichever plugin owns it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMANDS = re.findall(r"^## `roost ?(.*)`$", CLI_MD.read_text(encoding="utf-8"), re.M)


def test_the_reference_lists_commands():
    assert len(COMMANDS) > 20 and "" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "roost")
def test_help(roost_run, command):
    words = command.split()
    result = roost_run(*words, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: {' '.join(['roost', *words])}"), result.stdout[:200]
    assert result.stderr == "", result.stderr
