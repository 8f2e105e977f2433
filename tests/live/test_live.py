"""Live tests: the real roost against YOUR real profiles and Anthropic (opt-in: ``pytest -m live``).

Read-only by default: every test checks that no credentials file changed
(the probes spend about two usage-endpoint requests per profile). Token
refresh runs only with ``ROOST_LIVE_ALLOW_REFRESH=1`` because it rotates
real refresh tokens. Skipped cleanly when this machine has no profiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from roostkit import ROOST

pytestmark = pytest.mark.live

HEALTH_STATES = {"ok", "rate_limited", "session_limit", "weekly_limit", "auth_expired", "auth_dead",
                 "network_error", "unknown"}


def roost(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real roost with the user's real environment."""
    return subprocess.run([ROOST, *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def roost_json(*args: str) -> tuple[int, dict]:
    proc = roost(*args, "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def fleet() -> dict[str, Path]:
    """Real profile names -> credentials file; skips when there are none."""
    rc, out = roost_json("list")
    assert rc == 0, out
    if not out["data"]:
        pytest.skip("no real profiles on this machine (roost list is empty)")
    tree = Path(out["meta"]["profiles_dir"])
    files = {name: tree / name / ".credentials.json" for name in out["data"]}
    if "default" in files and os.environ.get("CLAUDE_CONFIG_DIR"):
        files["default"] = Path(os.environ["CLAUDE_CONFIG_DIR"]) / ".credentials.json"
    return files


def _digests(fleet: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in fleet.items() if path.exists()}


def _tokens(fleet: dict[str, Path]) -> list[str]:
    found = []
    for path in fleet.values():
        try:
            oauth = json.loads(path.read_text()).get("claudeAiOauth") or {}
        except (OSError, ValueError):
            continue
        found += [oauth[k] for k in ("accessToken", "refreshToken") if isinstance(oauth.get(k), str) and oauth[k]]
    return found


@pytest.fixture
def read_only(fleet):
    """Fails the test if any credentials file changed, or any output held a token (beyond its last 4)."""
    before = _digests(fleet)
    outputs: list[str] = []
    yield outputs
    assert _digests(fleet) == before, "a read-only live test changed a credentials file"
    text = "\n".join(outputs)
    for token in _tokens(fleet):
        assert token[:-4] not in text, "a token leaked into roost's output"


def test_list(fleet, read_only):
    proc = roost("list")
    read_only.append(proc.stdout + proc.stderr)
    assert proc.returncode == 0 and set(proc.stdout.split()) == set(fleet)


def test_status_no_cache_classifies_every_profile(fleet, read_only):
    proc = roost("status", "--no-cache", "--json")
    read_only.append(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["data"]
    assert {row["name"] for row in rows} == set(fleet)
    assert all(row["health"] in HEALTH_STATES for row in rows)


def test_probe(fleet, read_only):
    proc = roost("probe", "--json")
    read_only.append(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert {row["name"] for row in json.loads(proc.stdout)["data"]} == set(fleet)


def test_pick_and_which(fleet, read_only):
    proc = roost("which", "--json")
    read_only.append(proc.stdout + proc.stderr)
    out = json.loads(proc.stdout)
    assert proc.returncode in (0, 2, 5, 6, 9), proc.stderr
    if proc.returncode == 0:
        assert out["data"]["name"] in fleet and out["meta"]["side_effects"] is False
    proc = roost("pick", "--json")
    read_only.append(proc.stdout + proc.stderr)
    assert proc.returncode in (0, 2, 5, 6, 9), proc.stderr
    if proc.returncode == 0:
        data = json.loads(proc.stdout)["data"]
        assert data["name"] in fleet and data["health"]["health"] in HEALTH_STATES


def test_doctor(fleet, read_only):
    proc = roost("doctor", "--json")
    read_only.append(proc.stdout + proc.stderr)
    assert proc.returncode in (0, 9), proc.stderr
    out = json.loads(proc.stdout)
    rows = out["data"] if proc.returncode == 0 else out["error"]["details"]["checks"]
    by_name = {row["name"]: row for row in rows}
    assert all(row["level"] in ("ok", "warn", "fail", "skip") for row in rows)
    assert by_name["usage-endpoint"]["level"] == "ok", by_name["usage-endpoint"]
    assert {f"profile:{name}" for name in fleet} <= set(by_name)


@pytest.mark.skipif(os.environ.get("ROOST_LIVE_ALLOW_REFRESH") != "1",
                    reason="rotates real refresh tokens: set ROOST_LIVE_ALLOW_REFRESH=1 to allow")
def test_refresh_expired(fleet):
    proc = roost("refresh", "--expired", "--json")
    assert proc.returncode == 0, proc.stderr
    for name, path in fleet.items():
        doc = json.loads(path.read_text())
        assert doc.get("claudeAiOauth", {}).get("accessToken"), f"{name} lost its access token"
        assert path.stat().st_mode & 0o077 == 0
    for token in _tokens(fleet):
        assert token[:-4] not in proc.stdout + proc.stderr
