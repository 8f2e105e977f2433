"""The real claude client (npm @anthropic-ai/claude-code-linux-x64 2.1.332) under ``roost exec``.

Checks what a user sees: ``claude auth status --json`` reports the profile's
email and plan (identity imported by ``roost add``), and the settings and
CLAUDE.md of the base claude directory reach the child through the shared
links (``claude doctor`` validates the settings file it read, by path).

No network: the tokens are unexpired (claude only refreshes expired ones),
HOME is a temp dir, the child runs in a new network namespace when the
system allows it, and every proxy variable points at a closed local port.
The binary comes from ``$ROOST_CLAUDE_BIN`` or ``.ci/npm`` (``.ci/run``
installs it; this test installs it there too when npm is present).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_profiles_setup import login, tree_digest

CLAUDE_PACKAGE = "@anthropic-ai/claude-code-linux-x64@2.1.332"
REPO = Path(__file__).resolve().parents[2]
NPM_PREFIX = REPO / ".ci" / "npm"
BINARY = NPM_PREFIX / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1"}


@pytest.fixture(scope="module")
def claude() -> str:
    given = os.environ.get("ROOST_CLAUDE_BIN")
    if given:
        assert os.access(given, os.X_OK), f"ROOST_CLAUDE_BIN={given} is not an executable"
        return given
    if not BINARY.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is unavailable, so the real claude client ({CLAUDE_PACKAGE}) cannot be installed")
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        log = NPM_PREFIX.parent / "logs"
        log.mkdir(exist_ok=True)
        with open(log / "npm.log", "ab") as out:
            subprocess.run([npm, "install", "--prefix", str(NPM_PREFIX), CLAUDE_PACKAGE], stdout=out,
                           stderr=subprocess.STDOUT, timeout=600, check=False)
    assert BINARY.exists(), f"npm install {CLAUDE_PACKAGE} left no binary at {BINARY} (see .ci/logs/npm.log)"
    return str(BINARY)


def _no_net_prefix() -> list[str]:
    """``unshare -rn`` when the kernel lets us make a network namespace (then nothing can leave)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def run_claude(world, claude: str, *args: str) -> subprocess.CompletedProcess:
    proc = world.run("exec", "--timeout", "120", "--", *_no_net_prefix(), claude, *args, timeout=180, **OFFLINE)
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture
def setup_world(world):
    base = world.home / ".claude"
    base.mkdir(parents=True)
    (base / "settings.json").write_text(json.dumps({"permissions": {"defaultMode": "roostSharedMarker"}}))
    (base / "CLAUDE.md").write_text("# rules from the base directory\n")
    login(world, "work", email="worker@example.com", uuid="acct-real-1")
    assert world.run("add", "work").returncode == 0
    return world


def test_claude_reports_the_profiles_email_and_plan(setup_world, claude):
    world = setup_world
    proc = run_claude(world, claude, "auth", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["loggedIn"] is True and status["email"] == "worker@example.com"
    assert status["orgName"] == "Acme" and status["subscriptionType"] == "max"
    assert status["configDirectory"] == str(world.profiles / "work")


def test_the_base_setup_is_visible_to_claude(setup_world, claude):
    world = setup_world
    base = world.home / ".claude"
    profile = world.profiles / "work"
    before = tree_digest(base)
    proc = run_claude(world, claude, "doctor")
    assert proc.returncode == 0, proc.stderr
    # claude validated the base's settings.json, read through the profile's link.
    assert f"{profile / 'settings.json'} › permissions.defaultMode" in proc.stdout, proc.stdout[-2000:]
    proc = world.run("exec", "--", "sh", "-c", 'readlink -f "$CLAUDE_CONFIG_DIR/CLAUDE.md"; '
                                               'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md"')
    assert proc.stdout.splitlines() == [str((base / "CLAUDE.md").resolve()), "# rules from the base directory"]
    assert tree_digest(base) == before  # neither roost nor claude changed the base


def test_a_setup_token_profile_is_signed_in(world, claude):
    from roostkit import canary

    token = canary("access", "setup")
    assert world.run("add", "ci", "--setup-token", input=token + "\n").returncode == 0
    from roost_plugins.fakeserver import Scenario

    world.fake.set_usage(token, Scenario.forbidden_scope())
    proc = run_claude(world, claude, "auth", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["loggedIn"] is True and status["configDirectory"] == str(world.profiles / "ci")
    assert token not in proc.stdout + proc.stderr
