"""A third-party plugin package installed with pip is discovered; broken parts are skipped, not fatal."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from roostkit import make_plugin_venv

FIXTURE = Path(__file__).parent / "fixtures" / "roost-broken-plugin"


def test_broken_third_party_plugins_are_reported_and_skipped(roost_env, tmp_path):
    python = make_plugin_venv(tmp_path, FIXTURE)
    roost_env.make_profile("a")

    def run(*args):
        return subprocess.run([str(python), "-m", "roost_core", *args], env=roost_env.env(),
                              capture_output=True, text=True, timeout=60)

    proc = run("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["data"]}
    assert rows["fine"]["dist"] == "roost-broken-plugin"
    assert rows["fine"]["provides"] == {"strategy": ["fine-third-party"]}
    assert rows["broken-import"]["status"] == "failed" and "roost_no_such_dependency" in rows["broken-import"]["error"]
    assert rows["typo"]["status"] == "failed" and "roost_register_strategie" in rows["typo"]["error"]
    assert "Traceback" not in proc.stderr
    assert "plugin 'broken-import' (roost-broken-plugin 0.0.1) skipped" in proc.stderr
    assert "pip uninstall roost-broken-plugin" in proc.stderr
    # The rest of roost keeps working, and disabling silences the warning.
    proc = run("--disable-plugin", "broken-import", "--disable-plugin", "typo", "list")
    assert proc.returncode == 0 and proc.stdout.split() == ["a"] and proc.stderr == ""
