"""roost's test kit (roost_core.testing, a pytest11 plugin) as plugin authors use it: the complete
package shown in docs/PLUGINS.md, and the reset-aware example's own tests, run by pytest in a
subprocess from their own directories."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "roost-strategy-reset-aware"


def doc_package() -> dict[str, str]:
    """The files of docs/PLUGINS.md's kit example: each fenced block's first line names its path."""
    text = (ROOT / "docs" / "PLUGINS.md").read_text()
    section = text.split("<!-- section:kit-example -->", 1)[1].split("<!-- /section:kit-example -->", 1)[0]
    blocks = re.findall(r"^```\w*\n(.*?)^```", section, re.M | re.S)
    return {block.splitlines()[0].lstrip("# ").strip(): block for block in blocks}


def run_pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
                          cwd=directory, capture_output=True, text=True, timeout=300)


def test_the_documented_package_is_complete_short_and_passes(tmp_path):
    files = doc_package()
    assert set(files) == {"pyproject.toml", "roost_strategy_z_to_a.py", "tests/test_z_to_a.py"}
    assert sum(len(source.splitlines()) for source in files.values()) < 40
    package = tmp_path / "roost-strategy-z-to-a"
    for name, source in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source)
    proc = run_pytest(package)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_a_failing_plugin_test_fails(tmp_path):
    """The kit really runs roost with the plugin: a wrong expectation is a failure, not a pass."""
    files = doc_package()
    files["tests/test_z_to_a.py"] = files["tests/test_z_to_a.py"].replace('== "beta"', '== "alpha"')
    package = tmp_path / "pkg"
    for name, source in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source)
    proc = run_pytest(package)
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout + proc.stderr


def test_the_reset_aware_example_tests_itself_with_the_kit(tmp_path):
    copy = tmp_path / "reset-aware"  # its own directory, outside this repository's pytest config
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    proc = run_pytest(copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


def test_the_kit_module_imports_nothing_heavy():
    code = ("import sys, roost_core.testing as t; "
            "heavy = [m for m in ('httpx', 'rich', 'roost_plugins', 'roost_core.cli', 'tomllib') if m in sys.modules]; "
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_the_kits_tokens_never_spell_a_profile_name(tmp_path):
    """roost cuts any 8-character run of a token from what it prints: a kit token holding the profile's
    name hid that name in trace, show and errors of every plugin author's test."""
    from roost_core.testing import Sandbox, fake_token
    from roost_plugins.fakeserver import FakeAnthropic

    assert "account-a" not in fake_token("access", "account-a") + fake_token("refresh", "account-a")
    assert fake_token("access", "a") != fake_token("access", "b")
    with FakeAnthropic() as fake:
        sandbox = Sandbox(tmp_path / "w", fake, [])
        sandbox.make_profile("account-a", usage={"session": 30, "weekly": 40})
        proc = sandbox.run("trace", "account-a")
    assert proc.returncode == 0 and "trace account-a" in proc.stderr, proc.stderr
