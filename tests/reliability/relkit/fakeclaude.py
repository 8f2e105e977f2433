"""A stand-in for Claude Code holding its refresh locks (F2, G8).

    python fakeclaude.py TRACE HOLD_S LOCKDIR [LOCKDIR...]

Takes each lock directory with mkdir, in order (as proper-lockfile does),
touches their mtimes every second while holding, logs ``mkdir_lock`` /
``rmdir_lock`` to TRACE in the kill-point trace format, prints "held" once
it holds them all, and releases after HOLD_S seconds (or at SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from tracelog import record  # noqa: E402  (relkit/tracelog.py, on sys.path as this script's directory)


def main(argv: list[str]) -> int:
    trace_path, hold = argv[0], float(argv[1])
    paths = argv[2:]
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    for path in paths:
        os.mkdir(path, 0o700)
        record(trace_path, "mkdir_lock", path)
    print("held", flush=True)
    while not done.wait(min(1.0, hold)):
        hold -= 1.0
        if hold <= 0:
            break
        for path in paths:
            os.utime(path)
    for path in reversed(paths):
        record(trace_path, "rmdir_lock", path)
        os.rmdir(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
