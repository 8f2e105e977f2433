"""Health through the real roost executable against the fake Anthropic: states, cache, budget, commands."""

from __future__ import annotations

import json
import threading
import time

import pytest

from roost_plugins.fakeserver import Scenario
from roost_plugins.fakeserver.scenarios import usage_body

pytestmark = pytest.mark.usefixtures("world")


def token(world, name: str, kind: str = "access") -> str:
    """A profile's token, read back from its credentials file."""
    return world.credentials(name)["claudeAiOauth"]["accessToken" if kind == "access" else "refreshToken"]


def fleet(world, **scenarios):
    """Profiles registered with the fake: name -> Scenario (None: expired token, no account)."""
    for name, scenario in scenarios.items():
        if scenario is None:
            world.make_profile(name, expires_in=-60)
            continue
        world.make_profile(name)
        world.fake.add_account(name, access_token=token(world, name), refresh_token=token(world, name, "refresh"),
                               usage=scenario)


def no_secrets(world, *procs):
    """No whole token in any output or state file (reliability F16)."""
    texts = [p.stdout + p.stderr for p in procs]
    texts += [f.read_text(errors="replace") for f in world.config.rglob("*.json")]
    for name in [d.name for d in world.profiles.iterdir()]:
        for secret in (token(world, name), token(world, name, "refresh")):
            assert not any(secret in t for t in texts), f"token of {name} leaked"


def by_name(envelope):
    return {r["name"]: r for r in envelope["data"]}


def test_every_state_in_status_then_served_from_cache(world):
    fake = world.fake
    fleet(world, ok=Scenario.ok(session=37, weekly=62, overage=25), scope=Scenario.forbidden_scope(newline=True),
          rate=Scenario.rate_limited("30"), sess=Scenario.session_exhausted(), week=Scenario.weekly_exhausted(),
          expired=None, dead=Scenario.invalid_credentials(), net=Scenario.hang(), weird=Scenario.server_error(500))
    started = time.monotonic()
    rc, out = world.run_json("status", "--timeout", "1.5")  # 0.5 s once timed out a 401 on a loaded box
    # The hanging server never answers: a bounded wall time proves the timeout held (the bound has room for
    # process start-up on a busy 2-core box running the suite in parallel).
    assert rc == 0 and time.monotonic() - started < 8
    records = by_name(out)
    assert {n: r["health"] for n, r in records.items()} == {
        "ok": "ok", "scope": "ok", "rate": "rate_limited", "sess": "session_limit", "week": "weekly_limit",
        "expired": "auth_expired", "dead": "auth_dead", "net": "network_error", "weird": "unknown"}
    assert list(records) == sorted(records)
    ok = records["ok"]
    assert (ok["session_pct"], ok["weekly_pct"], ok["overage_pct"], ok["plan"]) == (37.0, 62.0, 25.0, "max")
    assert ok["session_resets_at"].endswith("Z") and ok["expires_at"] and ok["checked_at"] and ok["error"] is None
    assert records["scope"]["session_pct"] is None and records["rate"]["retry_after_s"] == 30
    for field in ("name", "health", "plan", "session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct",
                  "session_resets_at", "weekly_resets_at", "expires_at", "error", "checked_at", "retry_after_s"):
        assert all(field in r for r in records.values()), field
    meta = out["meta"]
    assert meta["count"] == 9 and meta["ok"] == 2 and meta["auth_expired"] == 1 and meta["network_error"] == 1
    assert meta["platform_status"]["indicator"] == "none" and meta["platform_status"]["fetch_error"] is None
    assert meta["budget"]["ok"] == {"used": 1, "limit": 20, "window_s": 3600}
    assert meta["budget"]["expired"]["used"] == 0
    assert fake.count_token(token(world, "expired")) == 0  # local expiry: no request at all
    calls = fake.count("GET", "/api/oauth/usage")

    proc = world.run("status")
    assert proc.returncode == 0 and fake.count("GET", "/api/oauth/usage") == calls  # every entry still valid
    assert proc.stdout == ("9 profiles: 2 ok, 1 rate_limited, 1 session_limit, 1 weekly_limit, 1 auth_expired, "
                           "1 auth_dead, 1 network_error, 1 unknown\n")
    header = next(line for line in proc.stderr.splitlines() if "Profile" in line)
    assert [c.strip() for c in header.strip("│┃ ").split("│")] == [
        "Profile", "Plan", "Health", "Session", "Weekly", "Overage", "Resets (5h / 7d)", "Source"]
    assert "Anthropic" not in proc.stderr  # a clean status page is silent
    no_secrets(world, proc)


def test_overage_column_only_when_enabled(world):
    fleet(world, a=Scenario.ok())
    proc = world.run("status", "--no-platform-status")
    assert "Overage" not in proc.stderr and "Session" in proc.stderr and proc.stdout == "1 profile: 1 ok\n"


def test_no_cache_and_refresh_reprobe_and_refetch(world):
    fake = world.fake
    fleet(world, a=Scenario.ok(), b=Scenario.ok())
    world.run("status")
    assert fake.count("GET", "/api/oauth/usage") == 2 and fake.count("GET", "/api/v2/summary.json") == 1
    for flag in ("--no-cache", "--refresh"):
        assert world.run("status", flag).returncode == 0
    assert fake.count("GET", "/api/oauth/usage") == 6 and fake.count("GET", "/api/v2/summary.json") == 3


def test_platform_header_stale_fallback_and_opt_out(world):
    fake = world.fake
    fleet(world, a=Scenario.ok())
    rc, out = world.run_json("status", "--no-platform-status")
    assert out["meta"]["platform_status"] is None and fake.count("GET", "/api/v2/summary.json") == 0
    fake.set_status("minor", "Partially Degraded Service",
                    incidents=[{"name": "Elevated errors on Claude Opus 4.7", "status": "monitoring"}],
                    degraded=[("Claude API (api.anthropic.com)", "degraded_performance")])
    proc = world.run("status")
    lines = proc.stderr.splitlines()
    assert lines[0] == ("· Anthropic: Partially Degraded Service incident: 'Elevated errors on Claude Opus 4.7' "
                        "(monitoring, minor) degraded: Claude API (api.anthropic.com) (degraded_performance)")
    assert "Profile" in lines[2]  # the header sits above the table
    fake.set_status(http_status=503)
    rc, out = world.run_json("status", "--no-cache")
    status = out["meta"]["platform_status"]
    assert status["description"] == "Partially Degraded Service" and status["fetch_error"]
    assert status["active_incidents"][0]["name"] == "Elevated errors on Claude Opus 4.7"
    assert isinstance(status["age_seconds"], int) and status["age_seconds"] >= 0 and status["fetched_at"].endswith("Z")
    assert set(status) == {"indicator", "description", "active_incidents", "degraded_components", "fetched_at",
                           "age_seconds", "fetch_error"}


def test_a_missing_status_feed_is_a_warning_and_a_fetch_error(world):
    fleet(world, a=Scenario.ok())
    world.config.mkdir(parents=True, exist_ok=True)
    (world.config / "config.toml").write_text('status_feed = "no-such-feed"\n')
    proc = world.run("status", "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "no platform status" in proc.stderr
    status = json.loads(proc.stdout)["meta"]["platform_status"]
    assert "no-such-feed" in status["fetch_error"] and world.fake.count("GET", "/api/v2/summary.json") == 0


def test_probe_budget_shared_across_processes(world):
    fake = world.fake
    fleet(world, a=Scenario.ok())
    assert world.run("probe", "a", CLAUDE_LB_PROBE_BUDGET="1").returncode == 0
    proc = world.run("probe", "a", CLAUDE_LB_PROBE_BUDGET="1")
    assert proc.returncode == 0 and fake.count_token(token(world, "a")) == 1
    assert "probe budget spent for 'a' (1/1 probes in the last hour" in proc.stderr
    rc, out = world.run_json("probe", "a", "--force", CLAUDE_LB_PROBE_BUDGET="1")
    assert out["data"][0]["source"] == "probe" and fake.count_token(token(world, "a")) == 2
    rc, out = world.run_json("status", "--no-cache", CLAUDE_LB_PROBE_BUDGET="1")
    assert fake.count_token(token(world, "a")) == 3
    assert out["meta"]["budget"]["a"]["used"] == 3 and out["meta"]["budget"]["a"]["limit"] == 1


def test_429_keeps_last_good_usage(world):
    fleet(world, a=Scenario.ok(session=12, weekly=34))
    world.run("probe", "a")
    world.fake.set_chain_usage("a", Scenario.rate_limited("0"))
    rc, out = world.run_json("probe", "a")
    record = out["data"][0]
    assert record["health"] == "rate_limited" and record["retry_after_s"] == 60
    assert record["stale"] is True and (record["session_pct"], record["weekly_pct"]) == (12.0, 34.0)
    assert record["last_good_at"] and record["last_good_at"] <= record["checked_at"]


def test_401_rereads_a_rotated_token(world):
    fake = world.fake
    fleet(world, a=Scenario.ok())
    old, new = token(world, "a"), "sk-ant-oat01-rotatedELSEWHERE" + "y" * 20
    fake.set_usage(old, Scenario.unauthorized().with_delay(0.8))
    fake.set_usage(new, Scenario.ok(session=44))

    def rotate():  # while the server sits on the 401 for the old token
        deadline = time.monotonic() + 20
        while fake.count_token(old) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        world.make_profile("a", access=new)

    thread = threading.Thread(target=rotate)
    thread.start()
    rc, out = world.run_json("probe", "a", "--timeout", "3")
    thread.join()
    assert out["data"][0]["health"] == "ok" and out["data"][0]["session_pct"] == 44.0
    assert fake.count_token(old) == 1 and fake.count_token(new) == 1


def test_hostile_servers_never_exceed_the_timeout(world):
    fleet(world, hang=Scenario.hang(), drip=Scenario.drip(0.4), drop=Scenario.drop(),
          huge=Scenario.oversized(3_000_000), junk=Scenario.malformed(), list=Scenario.not_object(),
          slow=Scenario.ok().with_delay(0.3))
    started = time.monotonic()
    rc, out = world.run_json("probe", "--timeout", "1")
    assert rc == 0 and time.monotonic() - started < 10  # the servers hang for good: bounded is the point
    health = {n: r["health"] for n, r in by_name(out).items()}
    assert health == {"hang": "network_error", "drip": "network_error", "drop": "network_error",
                      "huge": "unknown", "junk": "unknown", "list": "unknown", "slow": "ok"}


def test_probe_raw_is_untouched_and_writes_nothing(world):
    body = usage_body(session=5, weekly=6, session_resets_at="2026-05-04T14:00:00.412233+00:00",
                      weekly_resets_at=1777903200, extra_fields={"brand_new_window": {"utilization": 1}})
    fleet(world, a=Scenario.ok(session=5, weekly=6, session_resets_at="2026-05-04T14:00:00.412233+00:00",
                               weekly_resets_at="2026-05-08T09:00:00+00:00",
                               extra_fields={"brand_new_window": {"utilization": 1}}))
    body["seven_day"]["resets_at"] = "2026-05-08T09:00:00+00:00"
    proc = world.run("probe", "a", "--raw")
    assert proc.returncode == 0 and proc.stdout == json.dumps(body) + "\n"
    rc, out = world.run_json("probe", "--raw")
    assert out["data"][0]["body"] == body and out["data"][0]["status"] == 200 and out["meta"]["raw"] is True
    assert not (world.config / "health.json").exists()
    no_secrets(world, proc)


def test_unknown_profile_is_not_found(world):
    world.make_profile("real")
    for command in (["probe", "ghost", "--raw"], ["show", "ghost"], ["trace", "ghost"]):
        rc, out = world.run_json(*command)
        assert rc == 3 and out["error"]["code"] == "NOT_FOUND", command
    proc = world.run("invalidate", "ghost")
    assert proc.returncode == 3 and "unknown profile 'ghost'" in proc.stderr


def test_bad_name_and_bad_timeout_are_validation(world):
    assert world.run("probe", "../x").returncode == 4
    assert world.run("status", "--timeout", "soon").returncode == 4
    assert world.run("status", "--timeout", "0").returncode == 4
    assert world.run("status", "--format", "yaml").returncode == 4


def test_show_has_overage_block_and_model_limits(world):
    limits = [{"kind": "weekly_scoped", "group": "weekly", "percent": 30, "resets_at": "2026-07-14T08:00:00Z",
               "scope": {"model": {"id": None, "display_name": "Opus"}}, "is_active": False}]
    fleet(world, a=Scenario.ok(overage=40, limits=limits))
    rc, out = world.run_json("show", "a")
    data = out["data"]
    assert rc == 0 and data["health"] == "ok" and data["overage_pct"] == 40.0 and data["overage_enabled"] is True
    assert data["overage"] == {"is_enabled": True, "monthly_limit": 5000, "used_credits": 2000.0,
                               "utilization": 40.0, "currency": "USD"}
    assert data["model_limits"] == [{"model": "Opus", "id": None, "pct": 30.0, "resets_at": "2026-07-14T08:00:00Z",
                                     "active": False}]
    assert data["reasons"] and data["cache"]["budget"]["used"] == 1
    proc = world.run("show", "a")
    assert proc.stdout == "ok\n" and "Overage" in proc.stderr and "Opus" in proc.stderr
    no_secrets(world, proc)


def test_invalidate_and_credentials_change_reprobe(world):
    fake = world.fake
    fleet(world, a=Scenario.ok(), b=Scenario.ok())
    world.run("status", "--no-platform-status")
    rc, out = world.run_json("invalidate", "a")
    assert rc == 0 and out["data"] == {"invalidated": ["a"], "had_entry": ["a"]}
    world.run("status", "--no-platform-status")
    assert fake.count_token(token(world, "a")) == 2 and fake.count_token(token(world, "b")) == 1
    time.sleep(0.01)
    world.make_profile("b")  # a refresh or a new login rewrites the file: its mtime changes
    world.run("status", "--no-platform-status")
    assert fake.count_token(token(world, "a")) == 2 and fake.count_token(token(world, "b")) == 2
    rc, out = world.run_json("invalidate", "--all")
    assert out["data"]["invalidated"] == ["a", "b"]


def test_corrupt_health_json_is_rebuilt(world):
    fleet(world, a=Scenario.ok())
    world.config.mkdir(parents=True)
    (world.config / "health.json").write_text('{"version": 1, "profiles": {"a": ')
    proc = world.run("status", "--no-platform-status")
    assert proc.returncode == 0 and "health.json is corrupt" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((world.config / "health.json").read_text())["profiles"]["a"]["record"]["health"] == "ok"


def test_trace_redacts_in_text_and_json(world):
    fleet(world, a=Scenario.ok(), dead=Scenario.invalid_credentials())
    secret = token(world, "a")
    rc, out = world.run_json("trace", "a")
    data = out["data"]
    assert rc == 0 and data["request"]["headers"]["Authorization"] == "Bearer …" + secret[-4:]
    assert data["request"]["url"].endswith("/api/oauth/usage") and data["request"]["method"] == "GET"
    assert data["response"]["status"] == 200 and data["response"]["body"]["five_hour"]["utilization"] == 10.0
    assert data["response"]["headers"]["content-type"] == "application/json"
    assert data["classification"]["health"] == "ok" and data["classification"]["reasons"]
    text = world.run("trace", "dead")
    assert text.returncode == 0 and text.stdout == "auth_dead\n"
    assert "Bearer …" in text.stderr and "HTTP 401" in text.stderr and "re-read the credentials file" in text.stderr
    no_secrets(world, text, world.run("trace", "a", "--json"))


def test_status_format_openmetrics_goes_to_stdout(world):
    fleet(world, a=Scenario.ok(session=37))
    proc = world.run("status", "--format", "openmetrics", "--no-platform-status")
    assert proc.returncode == 0 and 'roost_profile_health{' in proc.stdout and "# EOF" in proc.stdout


@pytest.mark.parametrize("args", [("status", "--no-platform-status"), ("probe",), ("probe", "--raw")])
def test_status_and_probe_with_no_profiles_are_unavailable(world, args):
    rc, out = world.run_json(*args)
    assert rc == 9 and out["error"]["code"] == "UNAVAILABLE"
    assert out["error"]["details"] == {"reason": "no_profiles", "profiles_dir": str(world.profiles)}
    assert str(world.profiles) in out["error"]["message"] and "roost add NAME" in out["error"]["message"]
    proc = world.run(*args)
    assert proc.returncode == 9 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert str(world.profiles) in proc.stderr and "roost add NAME" in proc.stderr


def test_list_with_no_profiles_is_an_empty_answer(world):
    rc, out = world.run_json("list")
    assert rc == 0 and out["data"] == [] and out["meta"]["count"] == 0
    proc = world.run("list")
    assert proc.returncode == 0 and proc.stdout == ""


def test_warm_status_imports_no_http_library(world):
    import subprocess
    import sys

    fleet(world, a=Scenario.ok())
    world.run("status", "--json")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", "status", "--json"],
                          env=world.env(), capture_output=True, text=True, timeout=60)
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert json.loads(proc.stdout)["data"][0]["source"] == "cache"
    assert not {m for m in modules if m.split(".")[0] in ("httpx", "httpcore", "rich", "asyncio")}


def _age(world, name):
    """Make a cache entry's time run out, as if its TTL had passed."""
    path = world.config / "health.json"
    doc = json.loads(path.read_text())
    doc["profiles"][name]["valid_until"] = 0
    path.write_text(json.dumps(doc))


def _ttl(world, name):
    entry = json.loads((world.config / "health.json").read_text())["profiles"][name]
    return None if entry["valid_until"] is None else round(entry["valid_until"] - entry["checked_at"])


def test_ttls_and_network_backoff_steps(world):
    fleet(world, ok=Scenario.ok(), rate=Scenario.rate_limited("45"), weird=Scenario.server_error(503),
          sess=Scenario.session_exhausted(session_resets_at=3600), dead=Scenario.unauthorized(),
          week=Scenario.weekly_exhausted(weekly_resets_at=7200), net=Scenario.drop())
    assert world.run("status", "--no-platform-status").returncode == 0
    ttls = {name: _ttl(world, name) for name in ("ok", "weird", "dead", "net")}
    assert ttls == {"ok": 300, "weird": 60, "dead": None, "net": 30}
    assert 45 * 1.05 - 1 <= _ttl(world, "rate") <= 45 * 1.15 + 1  # retry-after + 5-15 % (docs/wire.md)
    assert abs(_ttl(world, "sess") - 3600) <= 2 and abs(_ttl(world, "week") - 7200) <= 2
    steps = []
    for _ in range(5):
        _age(world, "net")
        rc, out = world.run_json("status", "--no-platform-status")
        assert by_name(out)["net"]["health"] == "network_error" and out["meta"]["sources"]["cache"] == 6
        steps.append(_ttl(world, "net"))
    assert steps == [60, 120, 240, 480, 480]
    world.fake.set_chain_usage("net", Scenario.ok())
    _age(world, "net")
    rc, out = world.run_json("status", "--no-platform-status")
    assert by_name(out)["net"]["health"] == "ok" and _ttl(world, "net") == 300
    assert json.loads((world.config / "health.json").read_text())["profiles"]["net"]["backoff"] == 0


def test_parallel_processes_share_probes_and_never_corrupt_the_cache(world):
    import subprocess
    import sys
    from pathlib import Path

    fleet(world, a=Scenario.ok().with_delay(0.5), b=Scenario.ok().with_delay(0.5), c=Scenario.rate_limited("0"))
    roost = [str(Path(sys.executable).parent / "roost"), "status", "--json", "--no-platform-status"]
    procs = [subprocess.Popen(roost, env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    for stdout, stderr in outs:
        assert "Traceback" not in stderr
        assert {n: r["health"] for n, r in by_name(json.loads(stdout)).items()} == {
            "a": "ok", "b": "ok", "c": "rate_limited"}
    # One request per profile: the other processes waited for the probe already in flight.
    assert [world.fake.count_token(token(world, n)) for n in "abc"] == [1, 1, 1]
    doc = json.loads((world.config / "health.json").read_text())
    assert set(doc["profiles"]) == {"a", "b", "c"} and doc["inflight"] == {}


def test_show_text_names_the_account_and_says_a_passive_reading_decided(world):
    """show's table on stderr: the signed-in email (and who shares its quota); when a passive reading
    decided, the cached probe's reasons are labelled as the last probe's, not as why."""
    from roost_plugins.fakeserver.passive_docs import statusline_document

    fleet(world, a=Scenario.ok(session=30, weekly=40), b=Scenario.ok())
    for name in ("a", "b"):  # one account signed in twice
        (world.profiles / name / ".claude.json").write_text(json.dumps(
            {"oauthAccount": {"emailAddress": "me@example.com", "accountUuid": "acct-1"}}))
    assert world.run("status").returncode == 0  # a probe is cached
    proc = world.run("show", "a")
    assert proc.returncode == 0 and "me@example.com (one account with b: one quota)" in proc.stderr, proc.stderr
    assert "Why: " in proc.stderr and "Last probe said" not in proc.stderr
    reading = world.run("statusline", input=json.dumps(statusline_document(100.0, 40.0)), AXIOM_CLAUDE_PROFILE="a")
    assert reading.returncode == 0
    proc = world.run("show", "a")
    assert "session_limit" in proc.stderr and "statusline" in proc.stderr, proc.stderr
    assert "Last probe said: " in proc.stderr and "Why: " not in proc.stderr
