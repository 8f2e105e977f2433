"""auth_expired without a refresh token: the state stays, the fix is a new sign-in (never roost refresh)."""

from __future__ import annotations

import json

from roost_core.pick import _auth_fix
from roost_core.probe import get_records
from roost_core.probe.local import NO_REFRESH_TOKEN, needs_login
from roost_core.profiles import discover
from roost_core.records import Health, HealthRecord


def _strip_refresh(path, **oauth):
    document = json.loads(path.read_text())
    del document["claudeAiOauth"]["refreshToken"]
    document["claudeAiOauth"].update(oauth)
    path.write_text(json.dumps(document))


def test_needs_login():
    assert needs_login(Health.AUTH_DEAD, None) and needs_login("auth_dead", "x")
    assert needs_login("auth_expired", f"{NO_REFRESH_TOKEN}: sign in again")
    assert not needs_login(Health.AUTH_EXPIRED, "access token expired")
    assert not needs_login("ok", None) and not needs_login("auth_expired", None)


def test_auth_fix_sends_unrefreshable_expiries_to_a_sign_in():
    stuck = HealthRecord("stuck", Health.AUTH_EXPIRED, error=f"{NO_REFRESH_TOKEN}: sign stuck in again")
    renewable = HealthRecord("old", Health.AUTH_EXPIRED, error="access token expired")
    only = _auth_fix([stuck], "/t")
    assert "refresh" not in only and "CLAUDE_CONFIG_DIR=/t/stuck claude login" in only
    both = _auth_fix([stuck, renewable], "/t/")
    assert both.startswith("run 'roost refresh --expired'") and "sign stuck in again" in both
    assert "sign old" not in both


def test_local_verdicts_name_the_sign_in_that_helps(roost_env, health_ctx):
    _strip_refresh(roost_env.make_profile("login", expires_in=-60))
    _strip_refresh(roost_env.make_profile("setup", expires_in=-60), scopes=["user:inference"])
    roost_env.make_profile("renew", expires_in=-60)
    ctx = health_ctx()
    records = {r.name: r for r in get_records(ctx, discover(ctx.paths))}
    assert {r.health for r in records.values()} == {Health.AUTH_EXPIRED}
    login = records["login"].error
    assert login.startswith(NO_REFRESH_TOKEN) and f"CLAUDE_CONFIG_DIR={roost_env.profiles / 'login'} claude login" \
        in login and "roost add login --force" in login
    assert "claude setup-token" in records["setup"].error and "roost add setup --setup-token --force" \
        in records["setup"].error
    assert not needs_login(records["renew"].health, records["renew"].error)
