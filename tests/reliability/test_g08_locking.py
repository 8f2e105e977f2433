"""G8 / F2: roost honours claude's refresh locks and its own.

* A live claude (a helper holding ``<dir>/.oauth_refresh.lock`` and
  ``<dir>.lock``, touching them every second): 20 ``roost refresh p`` with a
  2 s lock wait all end CONFLICT (exit 7) within the wait + 1 s of asking for
  the lock, and the FTS sees 0 POSTs while the helper holds the locks.
* The helper lets go after a moment while 20 refreshers wait: exactly one
  POST, after the helper released, and no two processes ever hold the same
  lock at once (hold intervals from the kill-point traces).
* Stale and future-dated locks: older than the stale window, or more than
  60 s in the future, are taken over; 30 s in the future is live.
* The negative control runs the live-lock case with locking switched off
  in-process: POSTs then happen while claude holds its locks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from relkit import tracelog as trace
from relkit.world import HERE
from roost_plugins.fakeserver import TokenBehaviour

FAKE_CLAUDE = HERE / "fakeclaude.py"
WAIT = 2.0
N = 20


def claude_lock_paths(rel, name: str) -> list[Path]:
    directory = rel.profiles / name
    return [directory / ".oauth_refresh.lock", Path(os.path.realpath(directory) + ".lock")]


def hold_claude_locks(rel, name: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(FAKE_CLAUDE), str(rel.trace_path), str(seconds),
                             *map(str, claude_lock_paths(rel, name))], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def helper_interval(rel, pid: int) -> tuple[float, float]:
    events = [e for e in trace.read(rel.trace_path) if e.pid == pid]
    starts = [e.t for e in events if e.event == "mkdir_lock"]
    ends = [e.t for e in events if e.event == "rmdir_lock"]
    return min(starts), (max(ends) if ends else float("inf"))


def posts_inside(rel, label: str, start: float, end: float) -> int:
    """POSTs the FTS received (arrival to answer) overlapping [start, end]."""
    return sum(1 for p in rel.fake.posts_for(label) if p.arrived < end and (p.answered or p.arrived) > start)


def conflict_delays(rel, runs) -> tuple[list[float], list[float]]:
    """Per process, from its first attempt at the refresh lock to (a) giving up, (b) its exit.

    Giving up is the filelock wait failing, or (for the process that got
    roost's lock and waited on claude's) releasing roost's lock.
    """
    events = trace.read(rel.trace_path)
    decided, exited = [], []
    for run in runs:
        own = [e for e in events if e.pid == run.pid and "refresh" in e.detail]
        tries = [e.t for e in own if e.event == "lock_try"]
        gave_up = [e.t for e in own if e.event in ("lock_fail", "lock_rel")]
        decided.append(max(gave_up) - min(tries) if tries and gave_up else float("inf"))
        exited.append(run.started_at + run.elapsed - min(tries) if tries else float("inf"))
    return decided, exited


def live_lock_race(rel, driver: bool = False, n: int = N):
    rel.profile("p")
    helper = hold_claude_locks(rel, "p", seconds=60)
    prefix = ["--nolock"] if driver else []
    try:
        runs = rel.run_many([[*prefix, "refresh", "p", "--json"]] * n, trace=True, driver=driver,
                            CLAUDE_LB_LOCK_WAIT=str(WAIT))
    finally:
        helper.terminate()
        helper.wait()
    start, end = helper_interval(rel, helper.pid)
    return runs, posts_inside(rel, "p", start, end)


def test_g8_live_claude_lock_means_conflict_and_no_post(rel):
    runs, posts = live_lock_race(rel)
    codes = sorted({r.rc for r in runs})
    decided, exited = conflict_delays(rel, runs)
    message = (f"G8: {N} refreshers vs a live claude lock (wait {WAIT:g}s) -> posts while held={posts}, "
               f"exit codes={codes}, slowest CONFLICT decided {max(decided):.2f}s after asking for the lock "
               f"(bound {WAIT + 1:g}s; slowest exit {max(exited):.2f}s)")
    print(message)
    assert posts == 0 and codes == [7], message
    assert all("CONFLICT" in r.stdout for r in runs), message
    assert max(decided) <= WAIT + 1.0, message


def test_g8_negative_control_without_locks_posts_under_claudes_lock(rel):
    runs, posts = live_lock_race(rel, driver=True, n=8)
    print(f"G8 negative control (locks off): posts while claude held its lock={posts}")
    assert posts >= 1, "locking off changed nothing"


def test_g8_waiters_post_once_after_claude_lets_go_and_holds_never_overlap(rel):
    rel.profile("p")
    rel.fake.set_token_behaviour("p", TokenBehaviour(delay_s=0.2))
    helper = hold_claude_locks(rel, "p", seconds=1.5)
    runs = rel.run_many([["refresh", "p", "--json"]] * N, trace=True, CLAUDE_LB_LOCK_WAIT="15")
    helper.wait()
    start, end = helper_interval(rel, helper.pid)
    holds = trace.holds(trace.read(rel.trace_path))
    overlapping = trace.overlaps(holds)
    posts = rel.fake.posts_for("p")
    message = (f"G8: {N} refreshers waiting on claude's lock -> posts={len(posts)} "
               f"(while held={posts_inside(rel, 'p', start, end)}), overlapping holds={len(overlapping)} "
               f"over {len(holds)} hold intervals, exit codes={sorted({r.rc for r in runs})}")
    print(message)
    assert len(posts) == 1 and posts[0].arrived > end, message
    assert not overlapping, message + f"\n{overlapping[:3]}"
    assert all(r.rc == 0 for r in runs), message


def test_g8_stale_and_future_dated_claude_locks(rel):
    """Older than the stale window or > 60 s ahead: taken over. 30 s ahead: live (CONFLICT)."""
    outcomes = {}
    for name, offset in (("stale", -120.0), ("future_far", 3600.0), ("future_near", 30.0)):
        rel.profile(name)
        for path in claude_lock_paths(rel, name):
            path.mkdir(mode=0o700)
            os.utime(path, (time.time() + offset, time.time() + offset))
        run = rel.run("refresh", name, "--json", CLAUDE_LB_LOCK_WAIT="1", CLAUDE_LB_LOCK_STALE="60")
        outcomes[name] = (run.rc, len(rel.fake.posts_for(name)))
        for path in claude_lock_paths(rel, name):
            if path.exists():
                path.rmdir()
    print(f"G8: claude locks (rc, posts): stale 120 s ago={outcomes['stale']}, "
          f"1 h in the future={outcomes['future_far']}, 30 s in the future={outcomes['future_near']}")
    assert outcomes == {"stale": (0, 1), "future_far": (0, 1), "future_near": (7, 0)}, outcomes
