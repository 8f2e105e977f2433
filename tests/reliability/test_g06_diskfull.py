"""G6 / F9: disk full (ENOSPC) and file-size limits (EFBIG) at every write stage.

ENOSPC: each command runs on a 512 KiB tmpfs in a private mount namespace
(root + ``unshare -m``; skipped with the reason otherwise), filled so that 0,
1, 2, ... pages remain: each step lets the command get one write further
before the disk is full. EFBIG: RLIMIT_FSIZE below the size of a credentials
file, with SIGXFSZ ignored (a short write, then EFBIG), no root needed.

After every run: the credentials files are the originals (or, after a
successful refresh, the server's live pair), no temp file is left, every
JSON state file parses, every picks.log line is whole, and the command ended
with a clear message (no traceback, no "unexpected").
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from relkit import files
from relkit.world import HERE, ROOST

DISKFULL = HERE / "diskfull.py"
REFRESH_STAGES = 7
PAGES = {"pick": 4, "exec": 4, "add": 2, "invalidate": 2}


def can_mount_tmpfs(tmp: Path) -> str | None:
    """None if a private tmpfs can be mounted here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs"
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = tmp / "probe-mnt"
    probe.mkdir()
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
                          capture_output=True, text=True)
    return None if proc.returncode == 0 else f"cannot mount a tmpfs in a private namespace: {proc.stderr.strip()}"


def template(rel) -> dict[str, bytes]:
    for name in ["p", "q", *[f"r{i}" for i in range(REFRESH_STAGES)]]:
        rel.profile(name)
    for argv in (["status", "--json"], ["pick"], ["exec", "--", "true"]):
        assert rel.run(*argv).rc == 0
    source = rel.roost_env.home / ".claude"
    source.mkdir(mode=0o700)
    shutil.copy(rel.creds_path("q"), source / ".credentials.json")
    return {p.name: p.joinpath(".credentials.json").read_bytes() for p in rel.profiles.iterdir() if p.is_dir()}


def world_env(rel) -> dict[str, str]:
    env = rel.env()
    env.update(HOME="{WORLD}/home", CLAUDE_LB_PROFILES_DIR="{WORLD}/profiles", XDG_CONFIG_HOME="{WORLD}/xdg",
               XDG_DATA_HOME="{WORLD}/xdg-data")
    env.pop("PYTHONPATH", None)
    return env


def run_full(rel, label: str, free_pages: int, argv: list[str], **extra_env: str) -> tuple[dict, Path]:
    mount, out = rel.root.parent / f"mnt-{label}", rel.root.parent / f"out-{label}"
    mount.mkdir()
    env = {**world_env(rel), **extra_env}
    proc = subprocess.run(["unshare", "-m", sys.executable, str(DISKFULL), str(rel.root), str(mount), str(out),
                           str(free_pages * 4096), "--", ROOST, *argv], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), out


def inspect(rel, label: str, result: dict, out: Path, originals: dict[str, bytes]) -> list[str]:
    problems = []
    text = result["stdout"] + result["stderr"]
    if "Traceback" in text or "unexpected " in text:
        problems.append(f"{label}: traceback or unexpected error: {text[-300:]}")
    for name, original in originals.items():
        path = out / "profiles" / name / ".credentials.json"
        data = path.read_bytes() if path.exists() else b""
        if data != original:
            try:
                token = json.loads(data)["claudeAiOauth"]["refreshToken"]
            except (ValueError, KeyError, TypeError):
                token = None
            if token != rel.fake.live_refresh_token(name):
                problems.append(f"{label}: credentials of {name} neither original nor the live pair")
    leftovers = files.temp_leftovers([out])
    if leftovers:
        problems.append(f"{label}: temp files left: {[p.name for p in leftovers]}")
    problems += [f"{label}: {p}" for p in files.parse_problems(out / "xdg" / "claude-lb", out / "profiles")]
    log = out / "xdg" / "claude-lb" / "picks.log"
    if log.exists() and log.read_bytes() and not log.read_bytes().endswith(b"\n"):
        problems.append(f"{label}: picks.log ends with a torn line")
    return problems


CAMPAIGN = pytest.StashKey[dict]()


def campaign(rel, request, tmp_path_factory) -> dict:
    """The full-disk runs, once per session (two tests read different figures of them)."""
    if CAMPAIGN in request.config.stash:
        return request.config.stash[CAMPAIGN]
    reason = can_mount_tmpfs(tmp_path_factory.mktemp("g6probe"))
    if reason:
        request.config.stash[CAMPAIGN] = {"skip": reason}
        return request.config.stash[CAMPAIGN]
    originals = template(rel)
    jobs = [(f"refresh-{k}", k, ["refresh", f"r{k}", "--json"]) for k in range(REFRESH_STAGES)]
    jobs += [(f"{cmd}-{k}", k, argv) for cmd, argv in (
        ("pick", ["pick", "--json"]), ("exec", ["exec", "--", "true"]),
        ("add", ["add", "fresh", "--json"]), ("invalidate", ["invalidate", "p", "--json"]))
        for k in range(PAGES[cmd])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda job: (job, *run_full(rel, job[0], job[1], job[2])), jobs))
    problems, codes, lost, pending = [], {}, [], []
    for (label, k, argv), result, out in outcomes:
        codes[label] = result["rc"]
        problems += inspect(rel, label, result, out, originals)
        if argv[0] == "refresh" and result["rc"] != 0:
            if any(r["label"] == argv[1] for r in rel.fake.rotations):
                lost.append(label)
        pending += [f"{label}: {p.name}" for p in out.rglob("*.roost-pending*")]
    stats = {"jobs": len(jobs), "problems": problems, "codes": codes, "lost": lost, "pending": pending}
    request.config.stash[CAMPAIGN] = stats
    return stats


def test_g6_disk_full_at_every_write_stage(rel, request, tmp_path_factory):
    stats = campaign(rel, request, tmp_path_factory)
    if "skip" in stats:
        pytest.skip(f"G6 tmpfs part skipped: {stats['skip']} (the RLIMIT_FSIZE test still runs)")
    codes, problems = stats["codes"], stats["problems"]
    message = (f"G6: {stats['jobs']} runs on a full tmpfs (0..{REFRESH_STAGES - 1} free pages) -> originals "
               f"modified, temp files left or unclear errors={len(problems)}; exit codes={codes}")
    print(message)
    assert not problems, message + "\n" + "\n".join(problems[:20])
    assert any(code == 0 for code in codes.values()) and any(code != 0 for code in codes.values()), \
        "the disk was never (or always) full enough to matter: " + message


def test_g6_no_refresh_token_lost_to_a_full_disk(rel, request, tmp_path_factory):
    stats = campaign(rel, request, tmp_path_factory)
    if "skip" in stats:
        pytest.skip(f"G6 tmpfs part skipped: {stats['skip']}")
    message = (f"G6: refreshes whose new token was lost to a full disk={stats['lost']}, "
               f"pending files left={stats['pending']}")
    print(message)
    assert not stats["lost"] and not stats["pending"], message


def limit_file_size(limit: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited across exec: a write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_g6_file_size_limit_efbig(rel):
    """RLIMIT_FSIZE smaller than a credentials file: every write stage past it fails with EFBIG."""
    originals = template(rel)
    runs = {}
    for label, argv in (("refresh", ["refresh", "r0", "--json"]), ("pick", ["pick", "--json"]),
                        ("exec", ["exec", "--", "true"]), ("add", ["add", "fresh", "--json"]),
                        ("invalidate", ["invalidate", "p", "--json"])):
        runs[label] = rel.run(*argv, preexec=limit_file_size(200))
    problems = []
    for label, run in runs.items():
        result = {"rc": run.rc, "stdout": run.stdout, "stderr": run.stderr}
        problems += inspect(rel, label, result, rel.root, originals)
    codes = {label: run.rc for label, run in runs.items()}
    message = f"G6: RLIMIT_FSIZE=200 B (EFBIG) -> originals modified or temp files left={len(problems)}; exit codes={codes}"
    print(message)
    assert not problems, message + "\n" + "\n".join(problems)
    assert codes["add"] != 0 and codes["refresh"] != 0, message


@pytest.mark.stress
def test_g6_stress_every_kill_point_under_a_full_disk(rel, tmp_path_factory):
    """SIGKILL at each of the first 12 kill points of a refresh, with 0-3 pages free."""
    from relkit.world import KILLPOINTS

    reason = can_mount_tmpfs(tmp_path_factory.mktemp("g6probe"))
    if reason:
        pytest.skip(reason)
    points = [f"{op}:{k}" for op in ("write", "fsync", "replace") for k in (1, 2, 3, 4)]
    for pages in range(4):
        for i, point in enumerate(points):
            rel.profile(f"s{pages}x{i}")
    originals = template(rel)
    jobs = [(f"kill-{pages}-{i}", pages, ["refresh", f"s{pages}x{i}", "--json"], point)
            for pages in range(4) for i, point in enumerate(points)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda j: (j, *run_full(rel, j[0], j[1], j[2], PYTHONPATH=str(KILLPOINTS),
                                                         ROOST_TEST_KILL_AT=j[3])), jobs))
    problems = []
    for (label, _, _, _), result, out in outcomes:
        problems += [p for p in inspect(rel, label, result, out, originals) if "unexpected" not in p]
    print(f"G6 stress: {len(jobs)} kills under a full disk -> problems={len(problems)}")
    assert not problems, problems[:10]
