"""G3 / F17: picks.log under many concurrent appenders across a rotation.

100 processes x 20 lines with a 64 KiB rotation threshold: exactly the
2,000 lines end up in picks.log.1 + picks.log, each whole, none twice.
The retention (one ``.1`` generation) holds them all, so the count is exact.
The negative control runs the same race with the rotation lock switched off
and must lose or tear lines (or writers must fail). Both runs pause 50 ms
before the rename to widen the window.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from relkit import world as relworld

APPENDERS = Path(relworld.__file__).with_name("appenders.py")
THRESHOLD = 64 * 1024
PAUSE = "replace:1:0.05"


def run_appenders(rel, writers: int, lines: int, nolock: bool = False,
                  threshold: int = THRESHOLD) -> tuple[int, float]:
    # Widen the race: every rotating process pauses 50 ms just before its rename (kill-point
    # module), in the real run and in the control alike.
    env = rel.env(CLAUDE_LB_PICKS_LOG_MAX_BYTES=str(threshold), ROOST_TEST_PAUSE_AT=PAUSE)
    argv = [sys.executable, str(APPENDERS), str(writers), str(lines)] + (["--nolock"] if nolock else [])
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip() or -1), time.monotonic() - started


def audit_log(rel) -> dict:
    """Counts over every generation: lines seen, torn lines, duplicates, per-file split."""
    from roost_core.audit import parse_line

    seen: dict[str, int] = {}
    torn = 0
    sizes = {}
    for name in ("picks.log.1", "picks.log"):
        path = rel.config / name
        if not path.exists():
            continue
        data = path.read_bytes()
        sizes[name] = len(data)
        for raw in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
            if not raw:
                continue
            event = parse_line(raw.decode("utf-8", "replace") + "\n")
            if event is None or not event.note.startswith("w"):
                torn += 1
                continue
            seen[event.note] = seen.get(event.note, 0) + 1
    return {"seen": seen, "torn": torn, "sizes": sizes}


def figures(rel, writers: int, lines: int) -> dict:
    log = audit_log(rel)
    expected = {f"w{w}-{i}" for w in range(writers) for i in range(lines)}
    return {
        "lost": len(expected - set(log["seen"])),
        "duplicated": sum(n - 1 for n in log["seen"].values() if n > 1),
        "torn": log["torn"],
        "rotated": "picks.log.1" in log["sizes"],
        "sizes": log["sizes"],
    }


def check_rotation(rel, writers: int, lines: int, goal: str, threshold: int = THRESHOLD) -> None:
    failed, seconds = run_appenders(rel, writers, lines, threshold=threshold)
    fig = figures(rel, writers, lines)
    message = (f"{goal}: {writers} writers x {lines} lines, {threshold // 1024} KiB threshold -> "
               f"lost={fig['lost']} duplicated={fig['duplicated']} torn={fig['torn']} "
               f"failed_writers={failed} generations={fig['sizes']} ({seconds:.1f}s)")
    print(message)
    assert fig["rotated"], "the run never rotated, so it proves nothing: " + message
    assert (fig["lost"], fig["duplicated"], fig["torn"], failed) == (0, 0, 0, 0), message


def test_g3_rotation_under_100_writers(rel):
    check_rotation(rel, 100, 20, "G3")


def test_g3_negative_control_without_the_rotation_lock_loses_lines(rel):
    """Same race, rotation lock switched off in-process: lines must go missing (or writers fail)."""
    outcomes = []
    for attempt in range(3):
        for name in ("picks.log", "picks.log.1"):
            (rel.config / name).unlink(missing_ok=True)
        failed, _ = run_appenders(rel, 100, 20, nolock=True)
        fig = figures(rel, 100, 20)
        outcomes.append((fig["lost"], fig["duplicated"], fig["torn"], failed))
        if any(outcomes[-1]):
            break
    print(f"G3 negative control (no rotation lock): (lost, duplicated, torn, failed_writers) per round = {outcomes}")
    assert any(any(o) for o in outcomes), f"locking off changed nothing: {outcomes}"


@pytest.mark.stress
def test_g3_stress_200_writers_x_50_lines(rel):
    # ~10,000 lines of ~55 bytes: a 320 KiB threshold rotates once, so one .1 holds them all.
    check_rotation(rel, 200, 50, "G3 stress", threshold=320 * 1024)
