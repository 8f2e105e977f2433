"""N forked processes append audit lines to picks.log at once (F17, G3).

    python appenders.py WRITERS LINES [--nolock]

Environment: the roost world (XDG_CONFIG_HOME, CLAUDE_LB_PICKS_LOG_MAX_BYTES).
Each child appends LINES events through roost_core.audit.append (the code
path ``pick`` and ``exec`` use) with ``note = w<writer>-<line>``. Children
start together (they block on a pipe the parent closes) and are real
processes (fork), without paying an interpreter start-up each. Prints the
number of children that failed.
"""

from __future__ import annotations

import os
import sys


def child(writer: int, lines: int, gate: int) -> int:
    from roost_core import audit
    from roost_core.context import RoostContext
    from roost_core.output import Output
    from roost_core.records import AuditEvent

    os.read(gate, 1)  # returns b"" when the parent closes the write end: everyone starts now
    ctx = RoostContext(env=dict(os.environ), out=Output())
    for line in range(lines):
        event = AuditEvent(ts=audit.utc_now_iso(ctx.now()), event="pick", profile="p", strategy="s",
                           pid=os.getpid(), note=f"w{writer}-{line}")
        audit.append(ctx, event)
    return 0


def main(argv: list[str]) -> int:
    writers, lines = int(argv[0]), int(argv[1])
    if "--nolock" in argv:
        from driver import switch_locking_off

        switch_locking_off()
    import roost_core.audit  # noqa: F401  (import once, before forking)
    import roost_core.context  # noqa: F401
    import roost_plugins.state_files  # noqa: F401
    import filelock  # noqa: F401

    read_end, write_end = os.pipe()
    pids = []
    for writer in range(writers):
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            code = 1
            try:
                code = child(writer, lines, read_end)
            except BaseException as exc:  # report, never hang the parent
                sys.stderr.write(f"writer {writer}: {type(exc).__name__}: {exc}\n")
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(read_end)
    os.close(write_end)
    failed = sum(1 for pid in pids if os.waitpid(pid, 0)[1] != 0)
    print(failed)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
