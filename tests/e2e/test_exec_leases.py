"""exec leases and signals: a leased profile is never rotated; the lease goes on every kind of exit."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from roost_plugins.fakeserver import Scenario

PY = sys.executable
ROOST = str(Path(sys.executable).parent / "roost")
# A child that reports its lease view, then waits to be told to stop.
HOLD = "import time, sys; print('started', flush=True); time.sleep(float(sys.argv[1]))"
# A child that runs until the test creates a file.
UNTIL = ("import os, sys, time; print('started', flush=True)\n"
         "while not os.path.exists(sys.argv[1]): time.sleep(0.02)")


def _account(world, name: str) -> None:
    world.make_account(name, usage=Scenario.ok())


def _leases(world) -> dict:
    path = world.config / "leases.json"
    return json.loads(path.read_text())["leases"] if path.exists() else {}


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # ... and unblocked: roost hands its child the mask it was started with, as a shell does.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _start(world, *args: str, **popen) -> subprocess.Popen:
    """Start exec; return once its child runs and (with a lease) roost has recorded the child."""
    # SIGINT's disposition is set in the process we signal: a suite started as a background job
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler in roost.
    popen.setdefault("preexec_fn", default_sigint)
    proc = subprocess.Popen([ROOST, "exec", *args], env=world.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)
    assert proc.stdout.readline() == "started\n", proc.stderr.read() if proc.poll() is not None else ""
    deadline = time.monotonic() + 10
    while "--no-lease" not in args and time.monotonic() < deadline:
        if any(lease.get("child_pid") for lease in _leases(world).values()):
            break
        time.sleep(0.02)
    return proc


@pytest.fixture
def one(world):
    _account(world, "solo")
    return world


def test_leased_profile_is_never_rotated_and_the_lease_goes_with_the_child(one, tmp_path):
    done = tmp_path / "done"
    proc = _start(one, "--", PY, "-c", UNTIL, str(done))
    (lease,) = _leases(one).values()
    assert lease["profile"] == "solo" and lease["child_pid"] and lease["pid"] == proc.pid
    assert 1790 < lease["expires_at"] - lease["acquired_at"] <= 1800
    before = (one.profiles / "solo" / ".credentials.json").read_bytes()
    rc, out = one.run_json("refresh", "solo")
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD"
    rc, out = one.run_json("refresh", "--all")
    assert rc == 7 and out["error"]["code"] == "LEASE_HELD" and out["data"][0]["status"] == "skipped_leased"
    assert one.fake.token_posts == 0
    assert (one.profiles / "solo" / ".credentials.json").read_bytes() == before
    done.touch()
    proc.communicate(timeout=30)
    assert proc.returncode == 0 and _leases(one) == {}
    assert one.run("refresh", "solo").returncode == 0


@pytest.mark.parametrize("args,ttl", [(("--timeout", "100"), 120), (("--lease-for", "2h"), 7200)])
def test_lease_ttl(one, tmp_path, args, ttl):
    proc = _start(one, *args, "--", PY, "-c", UNTIL, str(tmp_path / "done"))
    (lease,) = _leases(one).values()
    assert abs(lease["expires_at"] - lease["acquired_at"] - ttl) < 1
    (tmp_path / "done").touch()
    proc.communicate(timeout=30)


def test_no_lease(one, tmp_path):
    proc = _start(one, "--no-lease", "--", PY, "-c", UNTIL, str(tmp_path / "done"))
    assert _leases(one) == {}
    (tmp_path / "done").touch()
    proc.communicate(timeout=30)
    lines = (one.config / "picks.log").read_text().splitlines()
    assert lines[-1].split("\t")[8] == "no-lease"


@pytest.mark.parametrize("sig,rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_to_roost_reaches_the_child_and_releases_the_lease(one, sig, rc):
    proc = _start(one, "--", PY, "-c", HOLD, "30")
    assert len(_leases(one)) == 1
    started = time.monotonic()
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    assert proc.returncode == rc and time.monotonic() - started < 5
    assert _leases(one) == {}
    line = (one.config / "picks.log").read_text().splitlines()[-1].split("\t")
    assert line[4] == str(rc) and f"signal={signal.Signals(sig).name}" in line[8]


def test_signal_with_timeout_reaches_the_childs_group(one):
    proc = _start(one, "--timeout", "60", "--", PY, "-c", HOLD, "30")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143 and _leases(one) == {}


def test_sigkilled_roost_lease_lives_while_the_child_runs(one, tmp_path):
    done = tmp_path / "done"
    proc = _start(one, "--lease-for", "60", "--", PY, "-c", UNTIL, str(done))
    (lease,) = _leases(one).values()
    proc.kill()
    proc.wait()
    assert one.run("refresh", "solo").returncode == 7  # the orphaned child still holds it
    done.touch()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{lease['child_pid']}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    assert one.run("refresh", "solo").returncode == 0  # child gone: provably dead, lease over


# -- a real terminal: Ctrl+C reaches the child once, and roost waits for it ---------------------------

COUNT_INTS = ("import signal, sys, time\n"
              "hits = []\n"
              "signal.signal(signal.SIGINT, lambda *a: hits.append(1))\n"
              "print('started', flush=True)\n"
              "time.sleep(1.5)\n"
              "print('ints', len(hits), flush=True)\n")


def _on_a_terminal(world, *args: str) -> tuple[int, str]:
    master, slave = os.openpty()

    def make_controlling_terminal() -> None:
        default_sigint()
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([ROOST, "exec", *args, "--", PY, "-c", COUNT_INTS], env=world.env(),
                            stdin=slave, stdout=slave, stderr=slave, preexec_fn=make_controlling_terminal)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 20
    while b"started" not in output and time.monotonic() < deadline:
        output += os.read(master, 1024)
    time.sleep(0.3)
    os.write(master, b"\x03")  # the terminal's Ctrl+C: SIGINT to the foreground process group
    proc.wait(timeout=20)
    try:
        while True:
            chunk = os.read(master, 1024)
            if not chunk:
                break
            output += chunk
    except OSError:
        pass
    os.close(master)
    return proc.returncode, output.decode(errors="replace")


@pytest.mark.parametrize("args", [(), ("--timeout", "30")])
def test_terminal_ctrl_c_reaches_the_child_exactly_once(one, args):
    rc, output = _on_a_terminal(one, *args)
    assert "ints 1" in output, output
    assert rc == 0, output
    assert _leases(one) == {}


def test_snapshot_ignores_leases(one, tmp_path):
    proc = _start(one, "--", PY, "-c", HOLD, "30")
    held = _leases(one)
    out = tmp_path / "copy.json"
    snap = one.run("snapshot", "solo", str(out))
    assert snap.returncode == 0 and snap.stderr.startswith("Snapshot written. roost will NEVER touch this file."), snap.stderr
    assert _leases(one) == held and out.read_bytes() == (one.profiles / "solo" / ".credentials.json").read_bytes()
    proc.terminate()
    proc.communicate(timeout=30)
