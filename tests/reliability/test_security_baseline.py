"""The security baseline of docs/RELIABILITY.md: TLS, endpoints, redirects, tracebacks, locks.

* TLS verification is always on (the client roost builds verifies; no
  ``verify=False`` anywhere in the shipped code).
* Endpoint overrides accept only https, or http to a loopback address, from
  the environment and from config.toml alike.
* No rich ``show_locals`` and no rich traceback hook anywhere.
* Tokens never reach argv or the environment of anything roost starts (the
  exec child sees only the profile's name and directory) - also scanned by G10.
* Lock files and directories live only under the user's own directories:
  roost's filelocks in ``<config>/locks`` (0700), claude's lock directories
  beside the profile; never a shared temp directory.
"""

from __future__ import annotations

import os
import re
import ssl
import stat
import sys
from pathlib import Path

import pytest

from relkit import tracelog as trace

ROOT = Path(__file__).resolve().parents[2]


def shipped_sources() -> list[Path]:
    """Every shipped module: the core, the built-in plugins, roost-redis."""
    found = sorted(p for tree in ("roost_core", "roost_plugins", "plugins") for p in (ROOT / tree).rglob("*.py")
                   if "tests" not in p.parts and "build" not in p.parts)
    assert len(found) > 100, "the shipped sources moved: this scan would check nothing"
    return found


def test_tls_verification_is_always_on():
    from roost_core.http import make_async_client

    client = make_async_client()
    try:
        context = client._transport._pool._ssl_context  # httpx 0.28 internals: the pool's SSL context
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        import asyncio

        asyncio.run(client.aclose())
    offenders = [str(p) for p in shipped_sources() if re.search(r"verify\s*=\s*False", p.read_text())]
    print(f"security: TLS verify_mode=CERT_REQUIRED, check_hostname=True; verify=False in sources: {offenders}")
    assert not offenders


@pytest.mark.parametrize("url, ok", [
    ("https://api.example.com", True), ("http://127.0.0.1:9", True), ("http://localhost:9", True),
    ("http://[::1]:9", True), ("http://example.com", False), ("http://10.0.0.1", False),
    ("http://localhost.evil.com", False), ("http://127.0.0.1.nip.io", False), ("ftp://127.0.0.1", False),
    ("file:///etc/passwd", False), ("https://", False), ("javascript:alert(1)", False),
])
def test_endpoint_overrides_accept_only_https_or_loopback_http(url, ok):
    from roost_core.errors import ValidationError
    from roost_core.http import check_endpoint

    if ok:
        assert check_endpoint(url, "x") == url
    else:
        with pytest.raises(ValidationError):
            check_endpoint(url, "x")


def test_endpoint_overrides_are_enforced_by_the_commands(rel):
    """From the environment and from config.toml: refresh and probe refuse before sending anything."""
    rel.profile("p")
    outcomes = {}
    for where, argv, overrides in (
            ("env token_url", ["refresh", "p", "--json"], {"CLAUDE_LB_TOKEN_URL": "http://example.com/t"}),
            ("env api_base", ["probe", "p", "--json"], {"CLAUDE_LB_API_BASE": "http://10.1.2.3"}),
            ("env status_url", ["status", "--json"], {"CLAUDE_LB_STATUS_URL": "file:///etc/passwd"})):
        run = rel.run(*argv, **overrides)
        outcomes[where] = (run.rc, run.stdout.count("VALIDATION") + run.stderr.count("https"))
    rel.config.mkdir(parents=True, mode=0o700, exist_ok=True)
    config = rel.config / "config.toml"
    config.write_text('[endpoints]\ntoken_url = "http://example.com/steal"\n')
    config.chmod(0o600)
    env = rel.env()
    env.pop("CLAUDE_LB_TOKEN_URL")
    run = rel.run("refresh", "p", "--json", env=env)
    outcomes["config token_url"] = (run.rc, run.stdout.count("VALIDATION"))
    posts = rel.fake.token_posts
    print(f"security: non-loopback http endpoints -> {outcomes}; POSTs sent anywhere={posts}")
    assert outcomes["env token_url"][0] == 4 and outcomes["env api_base"][0] in (0, 4)
    assert outcomes["config token_url"][0] == 4
    assert posts == 0


def test_probe_refuses_a_non_loopback_http_api_base(rel):
    rel.profile("p")
    run = rel.run("probe", "p", "--json", CLAUDE_LB_API_BASE="http://10.1.2.3")
    print(f"security: probe with api_base http://10.1.2.3 -> rc={run.rc}: {run.stdout[:160]}")
    assert run.rc == 4 and "api_base" in run.stdout, run


def test_no_rich_show_locals_and_no_traceback_hook():
    offenders = [str(p) for p in shipped_sources()
                 if re.search(r"show_locals\s*=\s*True|traceback\.install|install\(\s*show_locals", p.read_text())]
    print(f"security: show_locals / rich traceback hooks in sources: {offenders}")
    assert not offenders


def test_exec_child_gets_no_token_in_argv_or_env(rel):
    rel.profile("p")
    dump = rel.root / "env.txt"
    code = "import os, sys; open(os.environ['DUMP'], 'w').write(repr(sys.argv) + repr(dict(os.environ)))"
    run = rel.run("exec", "--", sys.executable, "-c", code, DUMP=str(dump))
    text = dump.read_text()
    hits = rel.scanner.scan_text(text, "exec child argv+env")
    print(f"security: exec child argv+env canary hits={len(hits)}; child sees AXIOM_CLAUDE_PROFILE="
          f"{'AXIOM_CLAUDE_PROFILE' in text}, CLAUDE_CONFIG_DIR={'CLAUDE_CONFIG_DIR' in text}")
    assert run.rc == 0 and not hits
    assert "AXIOM_CLAUDE_PROFILE" in text and "CLAUDE_CONFIG_DIR" in text


def test_locks_live_only_in_the_users_own_directories(rel):
    for name in ("p", "q"):
        rel.profile(name, expires_in=-60)
    for argv in (["refresh", "p", "--json"], ["pick", "--auto-refresh", "--json"], ["exec", "--", "true"],
                 ["status", "--json"]):
        assert rel.run(*argv, trace=True).rc == 0
    locks = {Path(e.detail.split(" ")[0]) for e in trace.read(rel.trace_path)
             if e.event in ("lock_try", "mkdir_lock")}
    problems = []
    for lock in sorted(locks):
        parent = lock.parent
        st = os.stat(parent)
        if st.st_uid != os.geteuid():
            problems.append(f"{lock}: parent owned by uid {st.st_uid}")
        if stat.S_IMODE(st.st_mode) & 0o002:
            problems.append(f"{lock}: parent is world-writable")
        if parent == rel.config / "locks" and stat.S_IMODE(st.st_mode) != 0o700:
            problems.append(f"{lock}: roost's lock dir is {stat.S_IMODE(st.st_mode):04o}")
        if not (parent == rel.config / "locks" or parent.parent == rel.profiles or parent == rel.profiles):
            problems.append(f"{lock}: outside the config dir and the profiles tree")
    print(f"security: {len(locks)} lock paths used -> problems={len(problems)}: "
          f"{sorted({str(p.parent.relative_to(rel.root)) for p in locks})}")
    assert locks and not problems, problems
