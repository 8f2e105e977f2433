"""G11 / F11: hostile profile names never reach outside the profiles tree.

500 names (the F11 specials plus Hypothesis text, half of it shaped like
valid names) go through show, refresh, exec --dry-run (--avoid), add,
remove and rename, in-process, each name in its own copy of a small world.
Oracle, written from the contract, not from roost's validator: a name
outside ``^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$`` (or ending in ``.lock``) is
VALIDATION (exit 4) for every command; a valid one behaves like a profile
name; and after all of it no file exists outside the config dir and direct
children of the tree named exactly as given.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_g05_corruption import run_matrix

VALID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")
SPECIALS = ["../x", "../../x", "/abs", "/tmp/x", ".", "..", "", "a/b", "a\\b", "a\x00b", "a\nb", "-x", "--all",
            "x" * 65, "x" * 300, "x.lock", ".lock", "CON", "NUL", "аccount", "ａ", "p\u200b", "~", "~root", "$HOME",
            "*", "a b", " ", ".hidden", "_ok", "ok-1.2", "x" * 64]
ALPHABET = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "Cc"]) | st.sampled_from("/\\.-_\x00\n")


def contract_valid(name: str) -> bool:
    return bool(VALID.fullmatch(name)) and not name.endswith(".lock")


def generate(count: int) -> list[str]:
    names: list[str] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.text(ALPHABET, max_size=80), st.from_regex(VALID, fullmatch=True)))
    def collect(name):
        names.append(name)

    collect()
    return names


def steps_for(name: str) -> list[list[str]]:
    """Positional names after ``--``, so a name like ``--all`` is a name, not a flag."""
    return [["show", "--json", "--", name], ["refresh", "--json", "--", name],
            ["exec", "--avoid", name, "--dry-run", "--", "true"], ["add", "--json", "--", name],
            ["remove", "--json", "--", name], ["rename", "--json", "--", "p", name]]


VALID_CODES = [3, 3, 0, 0, 0, 0]


def outside(files: list[str], case_id: str, name: str) -> list[str]:
    """Paths that are neither in the config dir nor under <tree>/<name> (or the template's <tree>/p)."""
    bad = []
    for path in files:
        parts = path.split("/")
        if parts[0] != case_id:
            bad.append(path)
        elif len(parts) >= 2 and parts[1] == "xdg":
            continue
        elif len(parts) >= 2 and parts[1] == "profiles":
            if len(parts) >= 3 and parts[2] not in ("p", "q", name):
                bad.append(path)
        elif len(parts) > 1:
            bad.append(path)
    return bad


def check_names(rel, names: list[str], goal: str) -> None:
    for name in ("p", "q"):
        rel.profile(name)
    assert rel.run("status", "--json").rc == 0
    source = rel.roost_env.home / ".claude"
    source.mkdir(mode=0o700)
    (source / ".credentials.json").write_bytes(rel.creds_bytes("q"))
    names = [n for n in dict.fromkeys(names) if n not in ("p", "q")]
    cases = [{"id": f"n{i}", "file": "profiles/p/.credentials.json", "steps": steps_for(n), "list_files": True,
              "name": n} for i, n in enumerate(names)]
    started = time.monotonic()
    results = run_matrix(rel, cases)
    problems, rejected, accepted = [], 0, 0
    for case in cases:
        name, result = case["name"], results[case["id"]]
        codes = [s["rc"] for s in result["steps"]]
        text = "".join(s["stdout"] + s["stderr"] for s in result["steps"])
        if "Traceback" in text or "unexpected " in text:
            problems.append(f"{name!r}: traceback/unexpected: {text[-200:]}")
        if contract_valid(name):
            accepted += 1
            if codes != VALID_CODES:
                problems.append(f"{name!r} (valid): exit codes {codes}, want {VALID_CODES}")
        else:
            rejected += 1
            if codes[:5] != [4] * 5 or codes[5] != 4:
                problems.append(f"{name!r} (invalid): exit codes {codes}, want all 4")
        stray = outside(result["files"], case["id"], name)
        if stray:
            problems.append(f"{name!r}: files outside the tree: {stray[:3]}")
    message = (f"{goal}: {len(names)} names x {len(steps_for('x'))} commands ({time.monotonic() - started:.1f}s) -> "
               f"files outside the tree={sum('outside' in p for p in problems)}, invalid names rejected with exit 4="
               f"{rejected - sum('(invalid)' in p for p in problems)}/{rejected}, valid names handled="
               f"{accepted - sum('(valid)' in p for p in problems)}/{accepted}")
    print(message)
    assert not problems, message + "\n" + "\n".join(problems[:15])


def test_g11_500_hostile_names(rel):
    check_names(rel, SPECIALS + generate(500 - len(SPECIALS)), "G11")


@pytest.mark.stress
def test_g11_stress_2000_names(rel):
    check_names(rel, SPECIALS + generate(2000), "G11 stress")


def test_g11_outside_detector_can_fail():
    assert outside(["n1/profiles/a/.credentials.json", "n1/xdg/claude-lb/health.json"], "n1", "a") == []
    assert outside(["n1/x"], "n1", "a") == ["n1/x"]
    assert outside(["x"], "n1", "a") == ["x"]
    assert outside(["n1/profiles/b"], "n1", "a") == ["n1/profiles/b"]
