"""G10 / F16: no 8-character slice of any token anywhere roost writes or starts.

Every profile holds random canary tokens (and every token the FTS issues is
added to the scan). One sweep runs every command in text and JSON mode,
with --debug, on error paths (a server that echoes the tokens back in error
bodies and in usage bodies, a crash inside the refresher plugin, a damaged
credentials file), with the usage log on, and an exec child that dumps its
own argv and environment. Then every output, every file under the config
dir, the tree (credentials files aside) and HOME, and the child's dump are
scanned. (Every other reliability test runs the same scan on its own runs;
the terminal summary totals them.)
"""

from __future__ import annotations

import json
import sys

from roost_plugins.fakeserver import Reply, Scenario

DUMP_CHILD = ("import json, os, sys; "
              "open(os.environ['DUMP'], 'a').write(json.dumps({'argv': sys.argv, 'env': dict(os.environ), "
              "'proc_environ': open('/proc/self/environ', 'rb').read().decode('utf-8', 'replace')}) + '\\n')")


def test_g10_no_canary_anywhere(rel):
    for name in ("a", "b", "c", "d"):
        rel.profile(name)
    access_b, refresh_b = rel.tokens["b"]
    access_c, _ = rel.tokens["c"]
    # A hostile server: echoes the refresh token in a token error, the access token in usage bodies.
    rel.fake.force_reply("b", Reply.json(400, {"error": "invalid_request",
                                               "error_description": f"bad token {refresh_b}"}))
    rel.fake.set_usage(access_b, Scenario.ok(extra_fields={"echo": access_b, "note": f"Bearer {access_b}"}))
    rel.fake.set_usage(access_c, Scenario.unauthorized(message=f"token {access_c} is expired"))
    dump = rel.root / "child-dump.jsonl"
    argvs = [
        ["config", "usage-log", "on"],
        ["list"], ["list", "--json"], ["status"], ["status", "--json"], ["probe"], ["probe", "--json"],
        ["show", "a"], ["show", "b", "--json"], ["show", "c", "--json"], ["trace", "b"], ["trace", "c", "--json"],
        ["pick"], ["pick", "--json", "--explain"], ["which", "--json", "--explain"], ["pick", "-n", "3", "--json"],
        ["refresh", "a"], ["refresh", "b", "--json"], ["--debug", "refresh", "b"], ["refresh", "--all", "--json"],
        ["pick", "--auto-refresh", "--json"],
        ["exec", "--avoid", "b", "--avoid", "c", "--avoid", "d", "--", sys.executable, "-c", DUMP_CHILD],
        ["exec", "--log-full-argv", "--avoid", "b", "--", sys.executable, "-c", DUMP_CHILD],
        ["exec", "--dry-run", "--json", "--", "claude", "--help"],
        ["history"], ["history", "--json"], ["stats", "--json"], ["report", "--json"], ["report"],
        ["doctor", "--skip-network"], ["doctor", "--json"], ["config"], ["config", "--json"], ["plugins", "--json"],
        ["snapshot", "a", str(rel.roost_env.home / "snap.json")], ["invalidate", "a", "--json"],
    ]
    for argv in argvs:
        rel.run(*argv, DUMP=str(dump))
    # A crash inside the refresher plugin, with --debug (a traceback is allowed there, tokens are not).
    crash = rel.run("--crash-refresher", "--debug", "refresh", "d", driver=True, CLAUDE_LB_REFRESH_MIN_INTERVAL="0")
    rel.credential_copies.add(rel.roost_env.home / "snap.json")
    # A damaged credentials file whose (broken) content holds a token.
    path = rel.creds_path("d")
    intact = path.read_bytes()
    path.write_bytes(intact[:-40])
    for argv in (["status", "--json"], ["show", "d"], ["--debug", "refresh", "d"], ["doctor", "--json"]):
        rel.run(*argv)
    path.write_bytes(intact)  # the end-of-test check wants every credentials file whole again
    children = [json.loads(line) for line in dump.read_text().splitlines()] if dump.exists() else []
    extra = [(f"exec child #{i} argv+env", json.dumps(child)) for i, child in enumerate(children)]
    hits = rel.leaks(extra_texts=extra)
    rel.checks["tracebacks"] = False  # --debug runs print tracebacks on purpose; the scan covers them
    message = (f"G10: {len(rel.runs)} roost runs ({len(argvs)} commands, --debug, echoing server, plugin crash, "
               f"damaged file), {len(children)} exec children's argv+env, {rel.scanner.scanned_files} files -> "
               f"canary hits={len(hits)}")
    print(message)
    assert len(children) == 2, f"the exec children did not run: {rel.runs[-1]}"
    assert "Traceback" in crash.stderr or "unexpected" in crash.stderr, crash
    assert not hits, message + "\n" + "\n".join(map(str, hits[:10]))
