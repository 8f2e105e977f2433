"""The harness itself can fail: kill points fire, traces record holds, the scanner finds slices."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from relkit import canary
from relkit import tracelog as trace
from relkit.world import KILLPOINTS


def run_py(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    full = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(KILLPOINTS), "HOME": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True,
                          text=True, timeout=60)


ATOMIC = """
    from pathlib import Path
    from roost_core.atomic import atomic_write
    target = Path({path!r})
    atomic_write(target, b"new")
    print("survived")
"""


def test_kill_points_fire_before_the_call(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"old")
    expect_file = {"write:1": b"old", "fsync:1": b"old", "replace:1": b"old", "fsync:2": b"new"}
    for point, content in expect_file.items():
        proc = run_py(ATOMIC.format(path=str(target)), tmp_path, ROOST_TEST_KILL_AT=point)
        assert proc.returncode == -9, (point, proc.stderr)
        assert target.read_bytes() == content, point
        target.write_bytes(b"old")
    proc = run_py(ATOMIC.format(path=str(target)), tmp_path, ROOST_TEST_KILL_AT="write:2")
    assert proc.returncode == 0 and "survived" in proc.stdout


def test_kill_point_variables_do_not_reach_children(tmp_path):
    code = """
        import os, subprocess, sys
        print(sorted(k for k in os.environ if k.startswith("ROOST_TEST")))
        out = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('ROOST_TEST_KILL_AT'))"],
                             capture_output=True, text=True).stdout
        print(out.strip())
    """
    proc = run_py(code, tmp_path, ROOST_TEST_KILL_AT="write:99", ROOST_TEST_TRACE=str(tmp_path / "t"))
    assert proc.stdout.split() == ["[]", "None"], proc.stdout + proc.stderr


def test_http_kill_points_and_trace(tmp_path, fts):
    code = f"""
        from roost_core.http import request_sync
        r = request_sync("GET", "{fts.base_url}/api/oauth/usage", headers={{}}, deadline_s=5)
        print(r.status)
    """
    path = tmp_path / "trace.tsv"
    proc = run_py(code, tmp_path, ROOST_TEST_TRACE=str(path))
    assert proc.stdout.strip() == "401", proc.stderr
    events = [e.event for e in trace.read(path)]
    assert events[:1] == ["start"] and ["send", "recv", "body"] == [e for e in events if e in ("send", "recv", "body")]
    for point in ("send:1", "recv:1", "body:1"):
        before = fts.count("GET", "/api/oauth/usage")
        proc = run_py(code, tmp_path, ROOST_TEST_KILL_AT=point)
        assert proc.returncode == -9, point
        assert fts.count("GET", "/api/oauth/usage") == before + (0 if point == "send:1" else 1), point


def test_lock_holds_are_traced_and_overlaps_detected(tmp_path):
    path = tmp_path / "trace.tsv"
    code = f"""
        import filelock, os
        lock = filelock.FileLock({str(tmp_path / 'x.lock')!r}, mode=0o600)
        with lock:
            os.mkdir({str(tmp_path / 'd.lock')!r}); os.rmdir({str(tmp_path / 'd.lock')!r})
    """
    assert run_py(code, tmp_path, ROOST_TEST_TRACE=str(path)).returncode == 0
    holds = trace.holds(trace.read(path))
    assert sorted(h.lock.rsplit("/", 1)[1] for h in holds) == ["d.lock", "x.lock"]
    assert trace.overlaps(holds) == []
    a = trace.Hold("L", 1, 0.0, 2.0)
    b = trace.Hold("L", 2, 1.0, 3.0)
    c = trace.Hold("L", 3, 3.0, 4.0)
    assert trace.overlaps([a, b, c]) == [(a, b)]


def test_canary_scanner_finds_any_8_char_slice_but_not_the_last_4():
    token = canary.new_token("refresh")
    scanner = canary.Scanner()
    scanner.add([token])
    body = canary.secret_body(token)
    assert scanner.scan_text(f"error: token …{token[-4:]} rejected", "redacted") == []
    assert scanner.scan_text("sk-ant-ort01- is a public prefix", "prefix") == []
    assert scanner.scan_text(f"xx{body[7:15]}yy", "slice")
    assert scanner.scan_text(token, "whole")
