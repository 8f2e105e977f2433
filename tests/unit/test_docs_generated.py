"""The generated reference pages (docs/cli.md, docs/settings.md) match the code.

Regenerate them with ``python tests/docgen.py`` from the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    # A fresh process: the root click group loads plugin commands once per process.
    proc = subprocess.run([sys.executable, "tests/docgen.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"generated docs are stale or could not be built; run `python tests/docgen.py` "
        f"from the repository root and commit the result:\n{proc.stderr}")


def test_cli_reference_lists_every_command():
    from docgen import generators  # tests/docgen.py

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert set(generators()) >= {"cli.md"}
    for command in ("pick", "exec", "refresh", "status", "doctor", "completion", "shellinit", "update",
                    "history", "stats", "report", "trace", "top", "config usage-log"):
        assert f"## `roost {command}`" in text, command
