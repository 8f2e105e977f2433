"""``roost doctor`` through the real executable, against the fake Anthropic."""

from __future__ import annotations

import json

import pytest

from roostkit import canary, make_dist_on_path

SITE_CHECKS = '''
from roost_core import hookimpl
from roost_core.records import CheckResult


class Vpn:
    name = "site-vpn"
    needs_network = False

    def run(self, ctx):
        return CheckResult("site-vpn", "ok", "corporate VPN is up")


class Broken:
    name = "site-broken"
    needs_network = False

    def run(self, ctx):
        raise RuntimeError("site check bug")


@hookimpl
def roost_register_doctor_checks():
    return [Vpn(), Broken()]
'''


def _by_name(rows):
    return {row["name"]: row for row in rows}


@pytest.fixture
def healthy(world):
    from roost_plugins.fakeserver import Scenario

    world.make_profile("work")
    world.fake.add_account("work", access_token=canary("access", "work"), refresh_token=canary("refresh", "work"),
                           usage=Scenario.ok())
    return world


def test_healthy_setup_passes_with_network_checks(healthy):
    rc, out = healthy.run_json("doctor")
    assert rc == 0, out
    rows = _by_name(out["data"])
    assert rows["profile:work"]["level"] == "ok"
    assert rows["usage-endpoint"]["level"] == "ok" and "HTTP 401" in rows["usage-endpoint"]["message"]
    assert rows["token-endpoint"]["level"] == "ok"
    assert rows["status-page"]["level"] == "ok"  # shipped with roost: a missing check is a broken plugin
    meta = out["meta"]
    assert meta["fail"] == 0 and meta["count"] == len(out["data"]) == sum(meta[k] for k in ("ok", "warn", "skip"))
    # The network check sent no credentials and spent no probe of the profile.
    usage_calls = [r for r in healthy.fake.requests if r["path"].startswith("/api/oauth/usage")]
    assert usage_calls and all("authorization" not in {k.lower() for k in r["headers"]} for r in usage_calls)
    assert healthy.fake.count_token(canary("access", "work")) == 0


def test_skip_network_skips_endpoints_and_status_page(healthy):
    healthy.fake.set_status(indicator="major", description="Major outage")
    rc, out = healthy.run_json("doctor", "--skip-network")
    assert rc == 0
    rows = _by_name(out["data"])
    for name in ("usage-endpoint", "token-endpoint", "status-page"):
        assert rows[name]["level"] == "skip", name
    assert healthy.fake.requests == []
    assert out["meta"]["skip_network"] is True


def test_degraded_status_page_is_only_a_warning(healthy):
    healthy.fake.set_status(indicator="major", description="Partial outage",
                            incidents=[{"name": "Elevated errors", "status": "investigating", "impact": "major"}])
    rc, out = healthy.run_json("doctor")
    rows = _by_name(out["data"])
    assert rc == 0 and rows["status-page"]["level"] == "warn"


def test_fail_exits_9_with_every_result_in_the_error_envelope(healthy):
    healthy.make_profile("broken")
    (healthy.profiles / "broken" / ".credentials.json").write_text("{not json")
    rc, out = healthy.run_json("doctor", "--skip-network")
    assert rc == 9 and out["error"]["code"] == "UNAVAILABLE"
    assert out["error"]["details"]["failed"] == ["profile:broken"]
    rows = _by_name(out["error"]["details"]["checks"])
    assert rows["profile:broken"]["level"] == "fail" and rows["profile:work"]["level"] == "ok"
    assert out["meta"]["fail"] == 1
    proc = healthy.run("doctor", "--skip-network")
    assert proc.returncode == 9 and "profile:broken" in proc.stderr
    assert ", 1 fail, " in proc.stdout
    assert "Traceback" not in proc.stderr


def test_unreachable_endpoint_and_malformed_config_are_reported_not_crashed(roost_env):
    roost_env.make_profile("work")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text("strategy = [\n")
    rc, out = roost_env.run_json("doctor")  # endpoints point at 127.0.0.1:9 (closed)
    assert rc == 9
    rows = _by_name(out["error"]["details"]["checks"])
    assert rows["config-file"]["level"] == "fail" and "malformed" in rows["config-file"]["message"]
    assert rows["usage-endpoint"]["level"] == "fail" and "connect" in rows["usage-endpoint"]["message"]
    assert rows["status-page"]["level"] != "fail"  # WARN-level check: never a FAIL (here: needs the config)
    # The broken file is one finding: checks that need it are skipped, not failed with its message.
    assert rows["profiles"]["level"] == "skip" and "config-file" in rows["profiles"]["message"]
    assert sorted(out["error"]["details"]["failed"]) == ["config-file", "token-endpoint", "usage-endpoint"]


def test_an_unknown_strategy_in_config_fails_the_config_check(roost_env):
    """The resolver cannot know the installed strategies; without this doctor said 'parses' and every pick
    was exit 4."""
    roost_env.make_profile("work")
    roost_env.config.mkdir(parents=True)
    (roost_env.config / "config.toml").write_text('strategy = "sticky"\n[teams.ops]\nstrategy = "bogus"\n')
    rc, out = roost_env.run_json("doctor", "--skip-network")
    rows = _by_name(out["error"]["details"]["checks"])
    assert rc == 9 and rows["config-file"]["level"] == "fail"
    assert "unknown strategy 'bogus'" in rows["config-file"]["message"] and "teams.ops" in rows["config-file"]["message"]


def test_site_plugin_adds_checks_and_a_crashing_one_is_isolated(healthy, tmp_path):
    site = make_dist_on_path(tmp_path / "site", "roost-acme-check", {"roost_acme": SITE_CHECKS},
                             {"doctor.acme": "roost_acme"})
    rc, out = healthy.run_json("doctor", "--skip-network", PYTHONPATH=str(site))
    assert rc == 9
    rows = _by_name(out["error"]["details"]["checks"])
    assert rows["site-vpn"] == {"name": "site-vpn", "level": "ok", "message": "corporate VPN is up", "details": {}}
    assert rows["site-broken"]["level"] == "fail" and "site check bug" in rows["site-broken"]["message"]
    assert rows["profile:work"]["level"] == "ok"  # the built-ins still ran
    proc = healthy.run("--disable-plugin", "acme", "doctor", "--skip-network", PYTHONPATH=str(site))
    assert proc.returncode == 0 and "site-vpn" not in proc.stderr


def test_text_mode_table_on_stderr_summary_on_stdout(healthy):
    proc = healthy.run("doctor", "--skip-network")
    assert proc.returncode == 0
    assert "roost doctor" in proc.stderr and "profile:work" in proc.stderr
    assert proc.stdout.strip().startswith(tuple("0123456789")) and "fail" in proc.stdout
    assert json.dumps(proc.stderr).count("CANARY") == 0
