"""Names, durations, config precedence, credentials parsing and rewriting."""

from __future__ import annotations

import json
import time

import pytest

from roost_core.config import Settings
from roost_core.credentials import Credentials, CredentialsError, redact
from roost_core.durations import format_duration, parse_duration
from roost_core.errors import ValidationError
from roost_core.names import is_valid_name, validate_name
from roost_core.records import TokenGrant


@pytest.mark.parametrize("name", ["a", "personal", "work-2", "x.y_z", "A" * 64])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "-flag", "x.lock", "a\x00b", "a b", "A" * 65,
                                  "..", ".", "a\\b", "nl\n", "é"])
def test_invalid_names(name):
    assert not is_valid_name(name)
    with pytest.raises(ValidationError):
        validate_name(name)


@pytest.mark.parametrize("text,seconds", [("90", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800),
                                          ("1w", 604800), ("1.5h", 5400), (" 10s ", 10), (0, 0)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "-5", "1h30m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration():
    assert format_duration(45) == "45s"
    assert format_duration(8040) == "2h 14m"
    assert format_duration(None) == "—"


def test_settings_precedence(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('strategy = "weighted"\nstickiness = "2m"\n[endpoints]\napi_base = "https://file"\n'
                    '[teams.ci]\nstrategy = "round-robin"\nmax_cost = 80\n')
    env = {"CLAUDE_LB_STICKINESS": "7", "CLAUDE_LB_API_BASE": "https://env"}
    plain = Settings.load(path, env)
    assert plain.get("strategy") == "weighted"
    assert plain.get("stickiness") == 7.0
    assert plain.get("api_base") == "https://env"
    assert plain.get("max_cost") is None
    team = Settings.load(path, env, "ci")
    assert team.get("strategy") == "round-robin" and team.get("max_cost") == 80
    assert team.get("strategy", "least-used") == "least-used"  # flag wins
    assert Settings.load(path, {"CLAUDE_LB_TEAM": "ci"}).get("strategy") == "round-robin"
    assert Settings.load(path, {}).get("stickiness") == 120.0


def test_settings_errors(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("strategy = \n")
    with pytest.raises(ValidationError) as info:
        Settings.load(path, {})
    assert "line 1" in info.value.message
    path.write_text("")
    with pytest.raises(ValidationError):
        Settings.load(path, {}, "nope")
    path.write_text('stickiness = "soon"\n')
    with pytest.raises(ValidationError):
        Settings.load(path, {}).get("stickiness")


def doc(**oauth):
    base = {"accessToken": "sk-ant-oat01-AAAAAAAAAAAA1234", "refreshToken": "sk-ant-ort01-BBBBBBBBBBBB5678",
            "expiresAt": int(time.time() * 1000) + 3_600_000, "scopes": ["user:inference", "user:profile"],
            "subscriptionType": "max", "rateLimitTier": "t"}
    base.update(oauth)
    return json.dumps({"claudeAiOauth": base, "mcpOAuth": {"srv": {"x": 1}}, "other": [1, 2]}).encode()


def test_credentials_views_and_redaction():
    creds = Credentials.parse(doc())
    assert creds.plan == "max" and not creds.is_expired()
    assert "1234" in repr(creds) and "AAAAAAAA" not in repr(creds)
    assert redact("sk-ant-oat01-AAAAAAAAAAAA1234") == "…1234"
    assert Credentials.parse(doc(expiresAt=0)).is_expired()
    assert not Credentials.parse(doc(expiresAt=None)).is_expired()
    assert Credentials.parse(doc(refreshToken="")).refresh_token is None


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"\xff\xfe", b'{"claudeAiOauth": 5}', b"null"])
def test_malformed_credentials_are_clear_errors(raw):
    with pytest.raises(CredentialsError):
        Credentials.parse(raw)


def test_only_mcp_is_tolerated():
    creds = Credentials.parse(b'{"mcpOAuth": {}}')
    assert creds.access_token is None and creds.expires_at_ms is None


def test_with_grant_keeps_every_other_field():
    creds = Credentials.parse(doc(refreshTokenExpiresAt=123))
    new = creds.with_grant(TokenGrant("sk-ant-oat01-NEWACCESS9999", "sk-ant-ort01-NEWREFRESH8888", 28800,
                                      "user:inference user:profile"), now=1000.0)
    out = json.loads(new.dumps())
    assert out["mcpOAuth"] == {"srv": {"x": 1}} and out["other"] == [1, 2]
    oauth = out["claudeAiOauth"]
    assert oauth["accessToken"].endswith("9999") and oauth["refreshToken"].endswith("8888")
    assert oauth["expiresAt"] == 1000 * 1000 + 28800 * 1000
    assert oauth["subscriptionType"] == "max" and oauth["rateLimitTier"] == "t"
    assert oauth["refreshTokenExpiresAt"] == 123 and oauth["scopes"] == ["user:inference", "user:profile"]
    kept = creds.with_grant(TokenGrant("sk-ant-oat01-NEWACCESS9999", None, 10, None))
    assert kept.refresh_token == creds.refresh_token and kept.oauth["scopes"] == creds.oauth["scopes"]
