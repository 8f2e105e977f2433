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
import sys
from pathlib import Path

from relkit import canary
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
    assert "symbolic link" in refused.stderr
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
    from roost_core.api import write_user_file

    victim = tmp_path / "victim"
    victim.write_text("v")
    (tmp_path / "out").symlink_to(victim)
    write_user_file(tmp_path / "out", b"new", force=True)
    assert victim.read_text() == "v" and (tmp_path / "out").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "victim"]  # no temp file left


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
    assert OSC_TITLE in json.dumps(as_json, ensure_ascii=False)


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
