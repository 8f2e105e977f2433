"""The generated reference pages (docs/cli.md, docs/settings.md) match the code.

Regenerate them with ``python -m roost_core.docgen`` from the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    # A fresh process: the root click group loads plugin commands once per process.
    proc = subprocess.run([sys.executable, "-m", "roost_core.docgen", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"generated docs are stale or could not be built; run `python -m roost_core.docgen` "
        f"from the repository root and commit the result:\n{proc.stderr}")


def test_cli_reference_lists_every_command():
    from roost_core.docgen import generators

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert set(generators()) >= {"cli.md"}
    for command in ("pick", "exec", "refresh", "status", "doctor", "completion", "shellinit", "update",
                    "history", "stats", "report", "trace", "top", "config usage-log"):
        assert f"## `roost {command}`" in text, command
