"""G9 / F13 / F14: hostile token and usage servers.

Every refresh request ends within its total deadline + 1 s (drip, hang, slow),
bodies are capped after decompression (10 MB, gzip bomb), a redirect is never
followed (the other host sees nothing), nothing is written on any invalid
answer, and the server's text is never echoed (the canary scan covers an
error body that echoes the refresh token). Probes are bounded the same way
and never run more than ``probe_concurrency`` at once.
"""

from __future__ import annotations

import gzip
import json
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relkit import tracelog as trace
from relkit.fts import ReliabilityFake, SilentServer
from roost_plugins.fakeserver import Reply, Scenario, TokenBehaviour

DEADLINE = 4.0  # generous: the box may be busy; the drip and hang cases last this long
GOOD = {"token_type": "Bearer", "access_token": "sk-ant-oat01-" + "A" * 40, "expires_in": 28800,
        "refresh_token": "sk-ant-ort01-" + "B" * 40, "scope": "user:inference"}


def body(**changes) -> bytes:
    data = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data).encode()


def gzip_bomb() -> Reply:
    payload = gzip.compress(b'{"access_token": "' + b"0" * (50 << 20) + b'"}', 9)
    return Reply(200, payload, headers=(("Content-Encoding", "gzip"),))


# name -> (how the FTS answers, expected exit code, whether the file must change)
CASES = {
    "drip": (TokenBehaviour(drip=True, drip_interval_s=0.5), 8, False),
    "slow": (TokenBehaviour(delay_s=10), 8, False),
    "html502": (TokenBehaviour(status_override=502), 8, False),
    "notjson": (Reply(200, b"<html>not json</html>"), 8, False),
    "notobject": (Reply(200, b"[1, 2]"), 8, False),
    "noaccess": (Reply(200, body(access_token=...)), 8, False),
    "emptyaccess": (Reply(200, body(access_token="")), 8, False),
    "expiresabc": (Reply(200, body(expires_in="abc")), 8, False),
    "expiresneg": (Reply(200, body(expires_in=-5)), 8, False),
    "expireshuge": (Reply(200, body(expires_in=1e308)), 8, False),
    "expirestrue": (Reply(200, body(expires_in=True)), 8, False),
    "badutf8": (Reply(200, b'{"access_token": "\xff\xfe"}'), 8, False),
    "tenmegs": (Reply(200, b'{"pad": "' + b"x" * (10 << 20) + b'"}'), 8, False),
    "gzipbomb": (gzip_bomb(), 8, False),
    "ratelimited": (TokenBehaviour(status_override=429), 6, False),
    "norefresh": (TokenBehaviour(omit_refresh_token=True), 0, True),
    "extrafields": (Reply(200, body(surprise={"nested": [1, 2]}, another="x")), 0, True),
}


def fts_setup(rel, name: str, how) -> None:
    rel.profile(name)
    if isinstance(how, TokenBehaviour):
        rel.fake.set_token_behaviour(name, how)
    else:
        rel.fake.force_reply(name, how)


def request_spans(rel, runs) -> dict[int, float]:
    """Per pid: from the token POST leaving to the request being over (body read, or the next step)."""
    events = trace.read(rel.trace_path)
    spans = {}
    for run in runs:
        own = [e for e in events if e.pid == run.pid]
        sends = [i for i, e in enumerate(own) if e.event == "send"]
        if not sends:
            continue
        start = own[sends[0]]
        after = [e for e in own[sends[0] + 1:] if e.event not in ("recv",)]
        end = after[0].t if after else run.started_at + run.elapsed
        spans[run.pid] = end - start.t
    return spans


def collect(procs):
    with ThreadPoolExecutor(max_workers=len(procs)) as pool:
        return list(pool.map(lambda p: p.finish(60), procs))


def test_g9_hostile_token_endpoint(rel):
    before = {}
    for name, (how, _, _) in CASES.items():
        fts_setup(rel, name, how)
        before[name] = rel.creds_bytes(name)
    rel.profile("hang")
    rel.profile("redirect")
    rel.profile("echo")
    before.update({n: rel.creds_bytes(n) for n in ("hang", "redirect", "echo")})
    with SilentServer() as silent, ReliabilityFake() as elsewhere:
        rel.fake.force_reply("redirect", Reply(302, b"", headers=(("Location", elsewhere.token_url),)))
        echoed = rel.tokens["echo"][1]
        rel.fake.force_reply("echo", Reply.json(400, {"error": "invalid_request",
                                                      "error_description": f"bad refresh_token {echoed}"}))
        env = {"CLAUDE_LB_REFRESH_DEADLINE": str(DEADLINE)}
        procs = [rel.start("refresh", name, "--json", trace=True, **env) for name in CASES]
        procs += [rel.start("refresh", "hang", "--json", trace=True, CLAUDE_LB_TOKEN_URL=silent.url + "/t", **env),
                  rel.start("refresh", "redirect", "--json", trace=True, **env),
                  rel.start("refresh", "echo", "--json", trace=True, **env)]
        runs = collect(procs)
        redirected_requests = len(elsewhere.requests)
    expected = {name: (code, changes) for name, (_, code, changes) in CASES.items()}
    expected.update({"hang": (8, False), "redirect": (8, False), "echo": (9, False)})
    spans = request_spans(rel, runs)
    problems = []
    for run in runs:
        name = run.argv[2]
        code, changes = expected[name]
        changed = rel.creds_bytes(name) != before[name]
        if run.rc != code or changed != changes:
            problems.append(f"{name}: rc={run.rc} (want {code}), file changed={changed} (want {changes}): "
                            f"{(run.stdout + run.stderr).strip()[-300:]}")
    kept_old_refresh = rel.stored_refresh("norefresh") == rel.tokens["norefresh"][1]
    slowest = max(spans.values())
    message = (f"G9: {len(runs)} hostile token answers -> wrong outcome={len(problems)}, slowest request "
               f"{slowest:.2f}s (deadline {DEADLINE:g}s + 1), requests that reached the redirect target="
               f"{redirected_requests}, old refresh token kept when none returned={kept_old_refresh}")
    print(message)
    assert not problems, message + "\n" + "\n".join(problems)
    names = {run.pid: run.argv[2] for run in runs}
    assert slowest <= DEADLINE + 1.0, message + f"\n{ {names[p]: round(s, 2) for p, s in spans.items()} }"
    assert redirected_requests == 0 and kept_old_refresh, message


def test_g9_probes_bounded_in_time_size_and_concurrency(rel):
    scenarios = {"pdrip": Scenario.drip(0.5), "phang": Scenario.hang(), "pbig": Scenario.oversized(5_000_000)}
    for name, scenario in scenarios.items():
        rel.profile(name, usage=scenario)
    for i in range(24):
        rel.profile(f"q{i:02d}", usage=Scenario.ok().with_delay(0.5))
    run = rel.run("probe", "--json", trace=True, CLAUDE_LB_TIMEOUT=str(DEADLINE),
                  CLAUDE_LB_PROBE_CONCURRENCY="8")
    data = run.json().get("data") or []
    records = {r["name"]: r for r in (data if isinstance(data, list) else data.get("profiles", []))}
    peak = rel.fake.usage_peak
    message = (f"G9: probe of 27 profiles (drip, hang, 5 MB body, 24 slow) -> {run.elapsed:.2f}s total, "
               f"peak concurrent probes={peak} (bound 8), states: drip={records.get('pdrip', {}).get('health')} "
               f"hang={records.get('phang', {}).get('health')} big={records.get('pbig', {}).get('health')}")
    print(message)
    assert run.rc == 0, run
    assert peak <= 8, message
    # 27 probes, at most 8 at a time, each within the deadline: a few rounds, never 27 deadlines.
    assert run.elapsed < 4 * (DEADLINE + 1) + 3, message
    assert all(records[n]["health"] != "ok" for n in scenarios), message


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
                    max_leaves=20),
       st.sampled_from(["access_token", "refresh_token", "expires_in", "scope", "token_type"]))
def test_g9_any_json_token_body_is_a_grant_or_a_clean_error(value, key):
    """In-process: whatever JSON comes back, the parser returns a valid grant or RefreshAmbiguous."""
    from roost_core.errors import RefreshAmbiguous
    from roost_plugins.anthropic.refresh import parse_grant

    for payload in (value, {**GOOD, key: value}):
        raw = json.dumps(payload).encode()
        try:
            grant = parse_grant(raw)
        except RefreshAmbiguous as exc:
            assert "sk-ant" not in exc.message and len(exc.message) < 300
            continue
        assert isinstance(grant.access_token, str) and grant.access_token
        assert 0 < grant.expires_in <= 366 * 86400


@pytest.mark.stress
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=2000))
def test_g9_stress_1000_random_bodies(raw):
    from roost_core.errors import RefreshAmbiguous
    from roost_plugins.anthropic.refresh import parse_grant

    try:
        parse_grant(raw)
    except RefreshAmbiguous:
        pass


def test_g9_gzip_bomb_is_never_inflated_past_the_cap(fts):
    """In-process: a 200 MiB gzip bomb costs at most the cap in memory (tracemalloc peak)."""
    import time
    import tracemalloc

    from roost_core.http import request_sync

    bomb = gzip.compress(b"0" * (200 << 20), 9)
    fts.add_account("bomb", access_token="sk-ant-oat01-" + "a" * 30, refresh_token="sk-ant-ort01-" + "b" * 30)
    fts.force_reply("bomb", Reply(200, bomb, headers=(("Content-Encoding", "gzip"),)))
    request = {"refresh_token": "sk-ant-ort01-" + "b" * 30}
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = request_sync("POST", fts.token_url, headers={}, json=request, deadline_s=5, max_bytes=65536)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"G9: 200 MiB gzip bomb ({len(bomb) // 1024} KiB on the wire) -> error={result.error}, "
          f"body kept={len(result.body)} bytes, peak memory {peak / 1e6:.1f} MB, {elapsed:.2f}s")
    assert result.error == "too_large" and len(result.body) == 65536
    assert peak < 16e6, f"peak {peak / 1e6:.1f} MB"


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("encoding, payload, decoded", [
    ("deflate", zlib.compress(b'{"a": 1}'), b'{"a": 1}'),
    ("deflate", raw_deflate(b'{"a": 1}'), b'{"a": 1}'),
    ("identity", b'{"a": 1}', b'{"a": 1}'),
    ("br", b"\x0b\x03\x80{}\x03", None),
    ("gzip", b"not gzip at all", None),
])
def test_g9_body_decoding(fts, encoding, payload, decoded):
    """What we decode ourselves (gzip, deflate in both forms); anything else is a protocol error."""
    from roost_core.http import request_sync

    fts.add_account("enc", access_token="sk-ant-oat01-" + "c" * 30, refresh_token="sk-ant-ort01-" + "d" * 30)
    fts.force_reply("enc", Reply(200, payload, headers=(("Content-Encoding", encoding),)))
    result = request_sync("POST", fts.token_url, headers={}, json={"refresh_token": "sk-ant-ort01-" + "d" * 30},
                          deadline_s=5)
    if decoded is None:
        assert result.error == "protocol" and result.status == 200
    else:
        assert result.error is None and result.body == decoded
