"""G15: the adversarial round (issue 20): hostile servers, files, numbers and paths.

Each test failed before its fix. Where a test counts, it prints its figure
(``G15 ...`` lines, shown with ``-s``/in the CI log). The fuzzers (expiresAt,
config numbers, durations, nesting) run in the default tier with a fixed seed
and a bounded number of cases, and print how many they ran.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

from relkit import canary
from relkit.batch import run_matrix
from roost_plugins.fakeserver import Reply, Scenario
from roost_plugins.fakeserver.scenarios import usage_body

# What must never reach a terminal from a string roost did not write: C0 controls other
# than newline and tab, DEL, C1 controls (8-bit CSI/OSC included) and bidi overrides.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
HOSTILE = f"{OSC_TITLE}{CLEAR}\x9b31m\u202eevil\x07\r"


def _controls(text: str) -> int:
    return len(CONTROL.findall(text))


# -- item 3: a user-named path is never written through a link -------------------------------------

def _planted_link(rel) -> tuple[Path, Path]:
    shared = rel.root / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # world-writable and sticky, like /tmp
    victim = rel.root / "victim.txt"
    victim.write_text("another user's file\n")
    link = shared / "c.json"
    os.symlink(victim, link)
    os.lchown(link, 65534, 65534)  # planted by someone else
    return victim, link


def test_g15_snapshot_never_writes_through_a_planted_symlink(rel):
    rel.profile("a")
    victim, link = _planted_link(rel)
    refused = rel.run("snapshot", "a", str(link))
    assert refused.rc == 4, refused
    assert "symbolic link" in refused.stderr and "snapshot --force replaces the link itself" in refused.stderr
    assert victim.read_text() == "another user's file\n"
    assert link.is_symlink()
    forced = rel.run("snapshot", "a", str(link), "--force", "--json")
    assert forced.rc == 0, forced
    rel.credential_copies.add(link)
    assert victim.read_text() == "another user's file\n", "the link's target was written"
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600
    assert json.loads(link.read_bytes()) == json.loads(rel.creds_bytes("a"))
    # A dangling link planted at the name: refused too, and nothing is created at its target.
    dangling = link.parent / "d.json"
    os.symlink(rel.root / "would-be-created", dangling)
    again = rel.run("snapshot", "a", str(dangling))
    assert again.rc == 4 and not (rel.root / "would-be-created").exists(), again


def test_g15_write_user_file_makes_a_new_file_beside_the_name(tmp_path):
    from roost_core.api import ValidationError, write_user_file

    victim = tmp_path / "victim"
    victim.write_text("v")
    (tmp_path / "out").symlink_to(victim)
    try:  # a caller without a --force names none
        write_user_file(tmp_path / "out", b"new")
        raise AssertionError("wrote through a symlink")
    except ValidationError as refused:
        assert "--force" not in refused.message and victim.read_text() == "v"
    write_user_file(tmp_path / "out", b"new", force=True)
    assert victim.read_text() == "v" and (tmp_path / "out").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "victim"]  # no temp file left
    # Every other write to a path the user names goes the same way: the fleet key file.
    from roost_core.api import ValidationError
    from roost_redis.crypto import write_key_file

    (tmp_path / "key").symlink_to(tmp_path / "planted-target")
    try:
        write_key_file(tmp_path / "key")
    except ValidationError:
        pass
    assert not (tmp_path / "planted-target").exists() and (tmp_path / "key").is_symlink()


# -- items 14-16: one sanitiser for every string roost did not write ----------------------------------

def test_g15_status_header_is_clean_and_bounded(rel):
    rel.profile("a")
    incidents = [{"name": HOSTILE + "x" * 20_000, "status": "investigating" + CLEAR, "impact": "major"}
                 for _ in range(40)]
    rel.fake.set_status(indicator="major", description=f"Major {HOSTILE}outage", incidents=incidents,
                        degraded=[(f"API{OSC_TITLE}", "major_outage")])
    views = {"status": rel.run("status", "--no-cache"), "doctor": rel.run("doctor"),
             "top": rel.run("top", "-n", "1")}
    worst_line = 0
    for name, run in views.items():
        assert "Traceback" not in run.stderr and (name == "doctor" or run.rc == 0), run
        text = run.stdout + run.stderr
        assert _controls(text) == 0, f"{name}: control characters reached the terminal: {text[:300]!r}"
        assert "Anthropic:" in text, run
        worst_line = max(worst_line, max(len(line) for line in text.splitlines()))
    status_err = views["status"].stderr
    print(f"G15 status header: 40 incidents x 20 KB names -> longest line {worst_line} chars, "
          f"status stderr {len(status_err)} B, doctor {len(views['doctor'].stderr)} B")
    assert worst_line <= 800
    assert len(views["doctor"].stdout + views["doctor"].stderr) < 64_000
    # JSON keeps the data as received (JSON escapes it).
    as_json = rel.run("status", "--json").json()
    assert any(OSC_TITLE in text for text in _strings(as_json)), "JSON output must keep the data as received"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_g15_server_and_file_strings_are_sanitised_in_every_view(rel):
    rel.profile("b", plan=f"max{HOSTILE}")
    rel.profile("c")
    rel.fake.force_usage("b", Reply.json(200, usage_body(
        extra={"is_enabled": True, "monthly_limit": 5000, "used_credits": 10.0, "utilization": 0.2,
               "currency": f"USD{HOSTILE}"},
        limits=[{"kind": f"weekly{HOSTILE}", "percent": 40, "is_active": True, "resets_at": None,
                 "scope": {"model": {"id": "claude-opus", "display_name": f"Opus{HOSTILE}"}}}])))
    rel.fake.force_usage("c", Reply(500, f"<html>{HOSTILE} down</html>".encode(), content_type="text/html"))
    assert rel.run("pick").rc == 0
    log = rel.config / "picks.log"
    with open(log, "a") as handle:  # a picks.log line written by something else, hostile fields
        handle.write(f"2026-12-07T01:00:00.000Z\tpick\tb{OSC_TITLE}\tsticky\t0\t0.1\tclaude{CLEAR}\t1\tn{HOSTILE}\n")
    rel.fake.force_usage("d", None)
    runs = [rel.run(*argv) for argv in (["status"], ["show", "b"], ["show", "c"], ["trace", "b"], ["trace", "c"],
                                        ["probe", "--raw", "b"], ["history"], ["stats"], ["list"])]
    dirty = [(r.argv[1:], _controls(r.stdout + r.stderr)) for r in runs if _controls(r.stdout + r.stderr)]
    print(f"G15 hostile strings: {len(runs)} views checked, {len(dirty)} with control characters")
    assert not dirty, dirty


def test_g15_sanitiser_unit():
    from roost_core.api import clean_line, clean_text

    assert clean_line(f"a{HOSTILE}b") == "aevil b"  # \r is a space
    assert clean_line("x" * 1000, 10) == "x" * 9 + "…"
    assert clean_text("line1\nline2\x1b[31m\tred") == "line1\nline2\tred"
    assert clean_line("\x1bP1$r;q\x1b\\ok\x9d8;;http://x\x9c") == "ok"
    assert clean_line("plain text, 100%") == "plain text, 100%"


# -- item 2: the leak scan sees encoded tokens; probe --raw --json scrubs after decoding ----------------

def test_g15_leak_scan_sees_escaped_split_and_base64_canaries():
    token = canary.new_token("access")
    scanner = canary.Scanner()
    scanner.add([token])
    body = canary.secret_body(token)
    forms = {
        "escaped": json.dumps({"t": "".join(f"\\u{ord(c):04x}" for c in token)}),
        "split": "\n".join(body[i:i + 3] for i in range(0, len(body), 3)),
        "base64": base64.b64encode(f"Bearer {token}".encode()).decode(),
        "base64url": base64.urlsafe_b64encode(f"x{token}".encode()).decode().rstrip("="),
    }
    caught = {name: bool(scanner.scan_text(text, name)) for name, text in forms.items()}
    clean = scanner.scan_text(f"token …{token[-4:]} refreshed at 2026-12-07T01:00:00Z", "redacted")
    print(f"G15 leak scan: encoded forms caught {sum(caught.values())}/{len(caught)}")
    assert all(caught.values()), caught
    assert not clean


# -- the fuzzers behind items 4-9: in-process runs over copies of one world (relkit/matrix.py) ----------

CREDS = "profiles/p/.credentials.json"
CONFIG = "xdg/claude-lb/config.toml"


def _template(rel) -> None:
    for name in ("p", "q"):
        rel.profile(name)
        access, refresh = rel.tokens[name]
        # Refreshes answer with the same pair, so no case spends a token another case's copy needs.
        rel.fake.force_reply(name, Reply.json(200, {"token_type": "Bearer", "access_token": access,
                                                    "refresh_token": refresh, "expires_in": 28800}))
    rel.config.mkdir(parents=True, mode=0o700, exist_ok=True)
    assert rel.run("status").rc == 0


def _matrix(rel, cases: list[dict], workers: int = 2) -> dict[str, dict]:
    # G15_BASE: run the fuzzers against another checkout (to see them fail before a fix)
    return run_matrix(rel, cases, workers, tag="g15", pythonpath=os.environ.get("G15_BASE"))


def _crashed(result: dict) -> bool:
    text = result["stdout"] + result["stderr"]
    return result["rc"] == 1 or "Traceback" in text or "unexpected " in text


def _creds_with_expiry(raw: str) -> str:
    return ('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-' + "A" * 40 + '", "refreshToken": "sk-ant-ort01-'
            + "B" * 40 + '", "expiresAt": ' + raw + ', "scopes": ["user:inference", "user:profile"]}}')


HOSTILE_EXPIRY = ["NaN", "Infinity", "-Infinity", "1e30", str(2 ** 63), "-1e20"]
EXPIRY_COMMANDS = {"status": ["status", "--json"], "show": ["show", "p", "--json"], "pick": ["pick", "--json"],
                   "exec": ["exec", "--", "true"], "refresh": ["refresh", "p", "--json"],
                   "snapshot": ["snapshot", "p", "{WORLD}/snap.json", "--json"], "trace": ["trace", "p", "--json"],
                   "probe": ["probe", "p", "--json"]}


def _random_expiries(count: int, seed: int = 20) -> list[str]:
    import random

    rng = random.Random(seed)
    values = []
    for _ in range(count):
        sign = rng.choice(["", "-"])
        values.append(rng.choice([f"{sign}1e{rng.randint(14, 400)}", f"{sign}{rng.randint(10, 10 ** 6)}{'0' * rng.randint(13, 30)}",
                                  f"{sign}{rng.random() * 10 ** rng.randint(15, 300):.6e}", f"{sign}9" * rng.randint(17, 40)]))
    return values


def test_g15_hostile_expires_at_is_malformed_for_that_profile_only(rel):
    """Item 5: NaN, ±Infinity, 1e30, 2**63, -1e20 (and 14 seeded others) in p's expiresAt."""
    _template(rel)
    cases = [{"id": f"{v}-{c}", "file": CREDS, "kind": "json:" + _creds_with_expiry(v), "argv": argv, "value": v,
              "command": c} for v in HOSTILE_EXPIRY for c, argv in EXPIRY_COMMANDS.items()]
    extra = _random_expiries(14)
    cases += [{"id": f"r{i}-{c}", "file": CREDS, "kind": "json:" + _creds_with_expiry(v), "argv": EXPIRY_COMMANDS[c],
               "value": v, "command": c} for i, v in enumerate(extra) for c in ("status", "show", "pick")]
    results = _matrix(rel, cases)
    problems = []
    for case in cases:
        result = results[case["id"]]
        rc, text = result["rc"], result["stdout"] + result["stderr"]
        if _crashed(result):
            problems.append(f"{case['id']}: crashed rc={rc} {text[-200:]}")
        elif case["command"] in ("status", "pick", "exec") and rc != 0:
            problems.append(f"{case['id']}: rc={rc}, the other profile must still serve: {text[-200:]}")
        elif case["command"] == "pick" and json.loads(result["stdout"])["data"]["name"] != "q":
            problems.append(f"{case['id']}: picked {result['stdout'][:100]}")
        elif case["command"] in ("refresh", "snapshot") and rc != 4:
            problems.append(f"{case['id']}: rc={rc}, want 4 (malformed credentials): {text[-200:]}")
        elif case["command"] in ("show", "trace", "probe") and rc == 0 and '"health": "ok"' in result["stdout"]:
            # Reports (like status) exit 0 with the damage in the record; never "ok".
            problems.append(f"{case['id']}: a malformed file reported ok: {text[-200:]}")
        elif case["command"] in ("show", "trace", "probe") and rc not in (0, 4):
            problems.append(f"{case['id']}: rc={rc}, want 0 (damage reported) or 4: {text[-200:]}")
        elif case["command"] in ("refresh", "snapshot", "show") and "expiresAt" not in text:
            problems.append(f"{case['id']}: the error does not name expiresAt: {text[-200:]}")
    print(f"G15 expiresAt fuzz: {len(HOSTILE_EXPIRY) + len(extra)} values, {len(cases)} runs, "
          f"problems={len(problems)}")
    assert not problems, "\n".join(problems[:20])
    assert not any(r["after"] != r["before"] for r in results.values()), "a malformed credentials file was rewritten"


NUMERIC_SETTINGS = ["timeout", "stickiness", "probe_budget", "probe_concurrency", "picks_log_max_bytes", "lock_wait",
                    "lock_stale", "refresh_deadline", "refresh_min_interval", "warn_at", "max_cost"]
HOSTILE_TOML = ["nan", "inf", "-inf", "1e400", str(10 ** 30), "-1", '"abc"', "[1, 2]", "{a = 1}", "true", '"nan"']
# The command that reads each setting (one each keeps the default tier short).
READER = {"timeout": "probe", "stickiness": "pick", "probe_budget": "probe", "probe_concurrency": "probe",
          "picks_log_max_bytes": "pick", "lock_wait": "refresh", "lock_stale": "refresh", "refresh_deadline": "refresh",
          "refresh_min_interval": "refresh", "warn_at": "pick", "max_cost": "pick"}
SETTING_COMMANDS = {"probe": ["probe", "--force", "--json"], "refresh": ["refresh", "p", "--json"],
                    "pick": ["pick", "--json"], "history": ["history", "--json"]}


def _named_key(result: dict, key: str) -> bool:
    text = result["stdout"] + result["stderr"]
    return key in text


def _refusals(cases: list[dict], results: dict[str, dict]) -> tuple[list[str], int]:
    """Problems and the count of refusals naming the key: a ``must_fail`` case must exit 4 naming its
    key; any other may also exit 0 (with or without a warning naming it)."""
    problems, refused = [], 0
    for case in cases:
        result = results[case["id"]]
        if _crashed(result):
            problems.append(f"{case['id']}: crashed rc={result['rc']} {result['stderr'][-200:]}")
        elif result["rc"] == 4:
            refused += 1
            if not _named_key(result, case["key"]):
                problems.append(f"{case['id']}: VALIDATION without naming {case['key']}: {result['stderr'][-200:]}")
        elif not case["must_fail"] and result["rc"] == 0 and "warning" in result["stderr"] \
                and _named_key(result, case["key"]):
            refused += 1  # a value roost can live without: refused with a warning naming the key
        elif case["must_fail"] or result["rc"] != 0:
            problems.append(f"{case['id']}: rc={result['rc']}, want 4: {result['stderr'][-200:]}")
    return problems, refused


def test_g15_config_numbers_are_validation_naming_the_key(rel):
    """Item 7: every numeric setting x hostile TOML values (NaN, inf, 1e400, 10**30, wrong types), plus
    ``[plugins] disable = 5``: exit 0 (not read) or VALIDATION (4) naming the key; never exit 1."""
    _template(rel)
    cases = []
    for key in NUMERIC_SETTINGS:
        for i, value in enumerate(HOSTILE_TOML):
            cases.append({"id": f"{key}-{i}", "file": CONFIG, "kind": f"json:{key} = {value}\n",
                          "argv": SETTING_COMMANDS[READER[key]], "key": key, "must_fail": value != "true"})
    for i, value in enumerate(["5", "{a = 1}", "1.5", "true"]):
        cases.append({"id": f"disable-{i}", "file": CONFIG, "kind": f"json:[plugins]\ndisable = {value}\n",
                      "argv": ["status", "--json"], "key": "disable", "must_fail": True})
    for key, value, command in [("probe_budget", "inf", "probe"), ("probe_concurrency", "inf", "probe"),
                                ("picks_log_max_bytes", "inf", "pick"), ("lock_wait", "nan", "refresh")]:
        cases.append({"id": f"named-{key}", "file": CONFIG, "kind": f"json:{key} = {value}\n",
                      "argv": SETTING_COMMANDS[command], "key": key, "must_fail": True})
    problems, refused = _refusals(cases, _matrix(rel, cases))
    print(f"G15 config fuzz: {len(cases)} runs ({len(NUMERIC_SETTINGS)} settings x {len(HOSTILE_TOML)} values through "
          f"the command reading each, + disable + named), refused naming the key={refused}, problems={len(problems)}")
    assert not problems, "\n".join(problems[:20])


ENV_NUMBERS = {"CLAUDE_LB_TIMEOUT": "timeout", "CLAUDE_LB_STICKINESS": "stickiness",
               "CLAUDE_LB_PROBE_BUDGET": "probe_budget", "CLAUDE_LB_PROBE_CONCURRENCY": "probe_concurrency",
               "CLAUDE_LB_PICKS_LOG_MAX_BYTES": "picks_log_max_bytes", "CLAUDE_LB_LOCK_WAIT": "lock_wait",
               "CLAUDE_LB_LOCK_STALE": "lock_stale", "CLAUDE_LB_REFRESH_DEADLINE": "refresh_deadline",
               "CLAUDE_LB_REFRESH_MIN_INTERVAL": "refresh_min_interval"}
HOSTILE_ENV = ["nan", "inf", "-inf", "1e400", "-1", "0", "99999999999999999999999", "abc", "0x10", " 5 "]


def test_g15_environment_numbers_are_validation(rel):
    """Items 7 and 8: hostile numbers in every numeric CLAUDE_LB_* variable; CLAUDE_LB_PROBE_BUDGET=0/-1
    with probe --force; CLAUDE_LB_LOCK_STALE=0 and CLAUDE_LB_TIMEOUT=0 refused (decisions)."""
    _template(rel)
    cases = [{"id": f"{var}={value}", "file": CREDS, "kind": None, "argv": SETTING_COMMANDS[READER[key]],
              "env": {var: value}, "key": key, "must_fail": value not in ("0", " 5 ")}
             for var, key in ENV_NUMBERS.items() for value in HOSTILE_ENV]
    for var, value in [("CLAUDE_LB_PROBE_BUDGET", "0"), ("CLAUDE_LB_PROBE_BUDGET", "-1"),
                       ("CLAUDE_LB_LOCK_STALE", "0"), ("CLAUDE_LB_LOCK_STALE", "9"), ("CLAUDE_LB_TIMEOUT", "0")]:
        cases.append({"id": f"named-{var}={value}", "file": CREDS, "kind": None,
                      "argv": ["refresh", "p", "--json"] if "STALE" in var else ["probe", "--force", "--json"],
                      "env": {var: value}, "key": ENV_NUMBERS[var], "must_fail": True})
    problems, refused = _refusals(cases, _matrix(rel, cases))
    print(f"G15 environment fuzz: {len(cases)} runs, refused={refused}, problems={len(problems)}")
    assert not problems, "\n".join(problems[:20])


HOSTILE_FLAGS = ["nan", "inf", "-inf", "1e400", "-1", "99999999999999999999999", "99999999999999999999d", "1e20w"]


def test_g15_flag_numbers_and_durations(rel):
    """Item 9 (and the flag half of item 7): --since, --tail, --max-cost, --lease-for, --interval, --stickiness
    with hostile numbers: exit 0 or a usage error (4), never 1; plus ``roost probe ''`` (item 13)."""
    _template(rel)
    argvs = []
    for value in HOSTILE_FLAGS:
        argvs += [["history", "--since", value, "--json"], ["stats", "--since", value, "--json"],
                  ["history", "--tail", value, "--json"], ["pick", "--max-cost", value, "--json"],
                  ["exec", "--lease-for", value, "--", "true"], ["top", "-n", "1", "--interval", value],
                  ["report", "--since", value, "--json"]]
    named = [["history", "--since", "99999999999999999999d"], ["stats", "--since", "99999999999999999999d"],
             ["history", "--tail", "99999999999999999999999", "--json"], ["probe", "", "--json"], ["probe", ""],
             ["show", ""], ["refresh", ""]]
    cases = [{"id": f"f{i}", "file": CREDS, "kind": None, "argv": argv} for i, argv in enumerate(argvs + named)]
    results = _matrix(rel, cases)
    problems = [f"{c['argv']}: rc={results[c['id']]['rc']} {results[c['id']]['stderr'][-200:]}"
                for c in cases if _crashed(results[c["id"]]) or results[c["id"]]["rc"] not in (0, 4)]
    by_argv = {tuple(c["argv"]): results[c["id"]] for c in cases}
    for argv in named[:2] + named[3:]:
        if by_argv[tuple(argv)]["rc"] != 4:
            problems.append(f"{argv}: rc={by_argv[tuple(argv)]['rc']}, want 4")
    tail = by_argv[tuple(named[2])]
    if tail["rc"] != 0:  # decision: a --tail beyond the log is the whole log
        problems.append(f"--tail huge: rc={tail['rc']}, want 0 (the whole log)")
    print(f"G15 flag fuzz: {len(cases)} runs, problems={len(problems)}")
    assert not problems, "\n".join(problems[:20])


# -- items 2, 4, 6 and the in-flight marker: hostile usage servers ---------------------------------------

def _echoes(token: str) -> dict:
    """The bearer echoed in every hidden form: JSON-escaped, split, base64, base64url."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in token)
    return {"escaped": f"@@{escaped}@@", "split": " ".join(token[i:i + 3] for i in range(0, len(token), 3)),
            "b64": base64.b64encode(f"Bearer {token}".encode()).decode(),
            "b64url": base64.urlsafe_b64encode(f"x{token}".encode()).decode()}


def test_g15_echoed_token_is_scrubbed_after_decoding(rel):
    """Item 2: a usage body (200 and 401) echoing the bearer escaped, split and base64-encoded leaks
    through no command (probe --raw [--json], trace, show, status); the leak scan sees all forms."""
    rel.profile("p")
    rel.profile("e")
    access_p, access_e = rel.tokens["p"][0], rel.tokens["e"][0]
    body = json.dumps(usage_body(extra_fields=_echoes(access_p))).replace("@@", "")
    rel.fake.force_usage("p", Reply(200, body.replace('\\\\u', '\\u').encode()))
    message = "token " + _echoes(access_e)["escaped"].replace("@@", "") + " " + _echoes(access_e)["b64"]
    rel.fake.force_usage("e", Reply(401, json.dumps({"type": "error", "error": {
        "type": "authentication_error", "message": "@@"}}).replace("@@", message).encode()))
    runs = [rel.run(*argv) for argv in (["probe", "--raw", "--json", "p"], ["probe", "--raw", "p"],
                                        ["probe", "--raw", "--json", "e"], ["trace", "p", "--json"], ["trace", "e"],
                                        ["probe", "--json"], ["show", "e"], ["show", "e", "--json"], ["status"])]
    raw = runs[0].json()["data"][0]
    assert raw["status"] == 200 and raw["json"] is True, runs[0]
    hits = rel.leaks()
    print(f"G15 echoed token (escaped, split, base64): {len(runs)} commands, canary hits={len(hits)}")
    assert not hits, "\n".join(map(str, hits[:5]))


def test_g15_huge_retry_after_is_bounded(rel):
    """Item 4: Retry-After 1e12 (and 1e10) on a usage 429: no OverflowError in pick/exec, blocked a week at most."""
    import time

    for name, value in (("p", "1000000000000"), ("q", "10000000000")):
        rel.profile(name)
        rel.fake.force_usage(name, Scenario.rate_limited(value).reply())
    rel.profile("r")
    first = rel.run("probe", "--json")
    assert first.rc == 0, first
    runs = [rel.run("pick", "--json"), rel.run("exec", "--", "true"), rel.run("status", "--json"),
            rel.run("show", "p", "--json"), rel.run("pick", "--json", "--avoid", "r")]
    assert all(r.rc in (0, 6) for r in runs), "\n".join(map(str, runs))
    assert runs[0].json()["data"]["name"] == "r"
    records = {r["name"]: r for r in runs[2].json()["data"]}
    latest = 0.0
    for name in ("p", "q"):
        when = records[name].get("next_probe_at") or records[name].get("valid_until")
        from datetime import datetime

        latest = max(latest, datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() - time.time())
    print(f"G15 Retry-After 1e12/1e10: blocked for at most {latest / 86400:.2f} days; pick/exec exit codes "
          f"{[r.rc for r in runs]}")
    assert latest <= 8 * 86400


def test_g15_deeply_nested_usage_body_is_unknown_with_a_reason(rel):
    """Item 6: a 200 usage body nested 100,000 levels deep (and 900, under Python's limit)."""
    rel.profile("p")
    rel.profile("q")
    rel.fake.force_usage("p", Reply(200, b"[" * 100_000 + b"]" * 100_000))
    rel.fake.force_usage("q", Reply(200, b'{"five_hour": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}"))
    runs = [rel.run(*argv) for argv in (["probe", "--json"], ["trace", "p"], ["trace", "q", "--json"],
                                        ["probe", "--raw", "p"], ["probe", "--raw", "--json", "q"], ["status"])]
    assert all(r.rc == 0 for r in runs), "\n".join(map(str, runs))
    records = {r["name"]: r for r in runs[0].json()["data"]}
    show = rel.run("show", "p", "--json").json()["data"]
    print(f"G15 nesting: 100,000 and 900 levels -> {records['p']['health']}/{records['q']['health']}; "
          f"reasons {show.get('reasons')}")
    assert records["p"]["health"] == records["q"]["health"] == "unknown"
    assert any("nested deeper" in reason for reason in show.get("reasons") or []), show


def test_g15_a_killed_probes_in_flight_mark_is_not_waited_on(rel):
    """The in-flight marker: a probe SIGKILLed mid-request leaves its mark; the next command sees
    its owner gone and probes at once instead of waiting ~11 s on it."""
    import time

    rel.profile("p")
    rel.fake.force_usage("p", Reply(action="hang"))
    proc = rel.start("probe", "p", "--json")
    deadline = time.monotonic() + 20
    while not any(r["path"].endswith("/usage") for r in rel.fake.requests) and time.monotonic() < deadline:
        time.sleep(0.02)
    health = json.loads((rel.config / "health.json").read_text())
    assert "p" in health.get("inflight", {}), health
    proc.kill()
    proc.finish()
    rel.fake.force_usage("p", None)
    started = time.monotonic()
    run = rel.run("status", "--json")
    waited = time.monotonic() - started
    record = run.json()["data"][0]
    print(f"G15 in-flight mark of a killed probe: next status took {waited:.2f}s (timeout 5 s; "
          f"a live mark is waited on up to ~11 s), health={record['health']}")
    assert run.rc == 0 and record["health"] == "ok" and waited < 7  # a live mark holds it ~11 s


# -- G4's leftovers: a killed refresh's claude lock names its dead owner in claude's format -------------

def test_g15_killed_refresh_leaves_claude_a_reclaimable_lock(rel):
    """A refresh SIGKILLed mid-POST leaves ``.oauth_refresh.lock`` behind (nothing runs after SIGKILL).
    Its owner record ``.oauth_refresh.lock.owner`` (claude 2.1.332's format) names the dead pid in this
    host's pid domain, so claude reclaims it at once; the next roost reclaims it without waiting the
    60 s window, and leaves no lock directory or record behind."""
    import time

    from roost_plugins.state_files import claudelock

    rel.profile("p", expires_in=-60)
    killed = rel.run("refresh", "p", kill_at="send:1")
    assert killed.killed, killed
    lock = rel.profiles / "p" / claudelock.LOCK_DIR_NAME
    record_path = rel.profiles / "p" / claudelock.OWNER_RECORD_NAME
    assert lock.is_dir(), "the kill should leave the lock directory"
    assert record_path.is_file(), "no owner record: claude would wait out its 60 s window"
    record = json.loads(record_path.read_text())
    assert record["pid"] == killed.pid and record["pidDomain"] == claudelock.pid_domain()
    assert set(record) >= {"pid", "procStart", "pidDomain", "pidSpace", "lockBirthtimeMs", "legacyLockBirthtimeMs"}
    # Claude's rule (as roost implements it for claude's own records): two missed heartbeats, then dead pid.
    old = time.time() - 12
    os.utime(lock, (old, old))
    assert claudelock.claude_owner_dead(lock, old, time.time())
    os.utime(lock, None)  # fresh again: roost must still see the holder dead (its own tag)
    started = time.monotonic()
    follow = rel.run("refresh", "p", "--json", CLAUDE_LB_LOCK_WAIT="30")
    took = time.monotonic() - started
    leftovers = [p for p in rel.profiles.rglob("*.lock")] + [p for p in rel.profiles.rglob("*.lock.owner")]
    print(f"G15/G4 killed refresh: owner record written; next refresh took {took:.2f}s; leftovers={len(leftovers)}")
    assert follow.rc == 0 and took < 10, follow
    assert not leftovers, leftovers


# -- decisions: a read-only or full disk is a named exit code; config dirs are made 0700 -----------------

READ_ONLY = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"']


def test_g15_read_only_or_full_disk_is_exit_9_not_1(rel):
    import resource
    import signal as signals

    rel.profile("p", expires_in=-60)
    rel.profile("q")
    assert rel.run("status").rc == 0  # the config dir and its files exist
    argvs = [["invalidate", "p", "--json"], ["exec", "--", "true"], ["refresh", "p", "--json"], ["pick", "--json"],
             ["status", "--no-cache", "--json"]]
    read_only = {" ".join(a): rel.run(*a, wrap=[*READ_ONLY, str(rel.config)]) for a in argvs}

    def small_files() -> None:
        signals.signal(signals.SIGXFSZ, signals.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    full = {" ".join(a): rel.run(*a, preexec=small_files) for a in argvs}
    codes = {"read-only": {k: r.rc for k, r in read_only.items()}, "file too large": {k: r.rc for k, r in full.items()}}
    print(f"G15 disks: exit codes {codes}")
    for runs in (read_only, full):
        for argv, run in runs.items():
            assert run.rc in (0, 9), f"{argv}: {run}"
            if run.rc == 9:
                said = run.stdout + run.stderr  # the error envelope (--json) or the stderr line
                assert ("cannot write" in said or "no room" in said) and "Traceback" not in said, run
                assert len(run.stderr.strip().splitlines()) <= 4, run  # a line or two, never a dump
    assert read_only["invalidate p --json"].rc == 9 and read_only["exec -- true"].rc == 9


def test_g15_missing_config_parents_are_made_0700_under_umask_000(rel):
    rel.profile("p")
    xdg = rel.root / "fresh" / "xdg-home"
    run = rel.run("invalidate", "p", umask=0o000, XDG_CONFIG_HOME=str(xdg))
    assert run.rc == 0, run
    modes = {str(p.relative_to(rel.root)): oct(stat.S_IMODE(p.stat().st_mode))
             for p in (rel.root / "fresh", xdg, xdg / "claude-lb")}
    print(f"G15 umask 000: created directories {modes}")
    assert set(modes.values()) == {"0o700"}, modes


def test_g15_decided_edges(rel):
    """The "decide and document" list (docs/RELIABILITY.md, adversarial round decisions)."""
    rel.profile("p")
    rel.profile("l")
    body = usage_body()
    body["five_hour"] = [body["five_hour"]]  # a window of the wrong shape: a malformed body (unknown)
    rel.fake.force_usage("l", Reply.json(200, body))
    outcomes = {
        "--max-cost 150": rel.run("pick", "--max-cost", "150", "--json").rc,
        "--max-cost 1001": rel.run("pick", "--max-cost", "1001", "--json").rc,
        "--max-cost nan": rel.run("pick", "--max-cost", "nan", "--json").rc,
        "exec --lease-for 0": rel.run("exec", "--lease-for", "0", "--", "true").rc,
        "exec --lease-for 1s": rel.run("exec", "--lease-for", "1s", "--", "true").rc,
        "CLAUDE_LB_TIMEOUT=0": rel.run("probe", "--force", "--json", CLAUDE_LB_TIMEOUT="0").rc,
        "CLAUDE_LB_LOCK_STALE=0": rel.run("refresh", "p", "--json", CLAUDE_LB_LOCK_STALE="0").rc,
        "CLAUDE_LB_LOCK_STALE=10": rel.run("refresh", "p", "--json", CLAUDE_LB_LOCK_STALE="10").rc,
    }
    listed = {r["name"]: r for r in rel.run("probe", "--force", "--json").json()["data"]}
    print(f"G15 decided edges: {outcomes}; five_hour as a list -> {listed['l']['health']} "
          f"({listed['l'].get('error')})")
    assert outcomes == {"--max-cost 150": 0, "--max-cost 1001": 4, "--max-cost nan": 4, "exec --lease-for 0": 4,
                        "exec --lease-for 1s": 0, "CLAUDE_LB_TIMEOUT=0": 4, "CLAUDE_LB_LOCK_STALE=0": 4,
                        "CLAUDE_LB_LOCK_STALE=10": 0}
    assert listed["l"]["health"] == "unknown" and listed["l"].get("session_pct") is None
    assert listed["l"]["error"] == "malformed usage body: five_hour is not an object"


def _hostile_body(rng) -> bytes:
    """One seeded hostile usage body: deep nesting, NaN/Infinity, huge numbers, wrong shapes, escapes."""
    depth = rng.choice([1, 10, 63, 64, 65, 500, 990, 5000, 100_000])
    leaf = rng.choice(["1", "NaN", "-Infinity", "1e400", str(10 ** 400), '"\\u001b]0;x\\u0007"', "null", "[]", "true"])
    nested = ("[" * depth + leaf + "]" * depth) if rng.random() < 0.5 else ('{"a": ' * depth + leaf + "}" * depth)
    window = rng.choice([nested, leaf, '{"utilization": ' + leaf + ', "resets_at": ' + leaf + "}",
                         '[{"utilization": 10}]', '"five"'])
    key = rng.choice(["five_hour", "seven_day", "extra_usage", "limits", "seven_day_opus"])
    return ("{" + f'"{key}": {window}, "seven_day": {{"utilization": 20.0, "resets_at": null}}' + "}").encode()


def test_g15_usage_body_fuzz_never_crashes_the_classifier():
    """Item 6 widened: 400 seeded hostile 200/429/401 bodies through the classifier, probe --raw's
    result and the people renderer's sanitiser (in process): no exception, a known health each time."""
    import random
    import time

    from roost_core.api import clean_tree
    from roost_core.probe.raw import raw_result
    from roost_core.records import Health, ProbeOutcome
    from roost_plugins.anthropic.taxonomy import classify_outcome

    rng = random.Random(6)
    health, crashes, started = {}, [], time.monotonic()
    for i in range(400):
        status = rng.choice([200, 200, 200, 429, 401])
        headers = {"retry-after": rng.choice(["1e12", "nan", "-5", "1e400", "Wed, 21 Oct 9999 07:28:00 GMT"])}
        outcome = ProbeOutcome("anthropic", "http://127.0.0.1/api/oauth/usage", status, headers, _hostile_body(rng))
        try:
            verdict = classify_outcome(outcome, time.time())
            json.dumps(clean_tree(raw_result("p", outcome)))
            assert verdict.health in Health and (verdict.ttl_s is None or 0 <= verdict.ttl_s <= 7 * 86400)
            health[verdict.health.value] = health.get(verdict.health.value, 0) + 1
        except Exception as exc:  # noqa: BLE001 - the figure counts every kind
            crashes.append(f"case {i}: {type(exc).__name__}: {str(exc)[:120]}")
    print(f"G15 usage body fuzz: 400 bodies in {time.monotonic() - started:.1f}s -> {health}, crashes={len(crashes)}")
    assert not crashes, "\n".join(crashes[:10])
