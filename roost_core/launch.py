"""The ``roost`` executable's entry point: the passive-health fast path, else the click CLI.

``roost statusline`` and ``roost hook`` run after every claude turn, so they
are dispatched here before click, pluggy or the rest of roost_core is
imported (roost_core.passive_fast); it answers None when the full CLI must
handle the call. Either way these two never fail their caller: whatever
happens, they exit 0 (``--help`` included) and note a failure in the debug log.
"""

import sys

FAST = ("statusline", "hook")


def main() -> None:
    argv = sys.argv
    if len(argv) > 1 and argv[1] in FAST:
        sys.exit(_passive(argv[1], argv[2:]))
    from .cli import main as cli_main

    cli_main()


def _passive(kind: str, args: list) -> int:
    import os

    try:
        from .passive_fast import run

        if run(kind, args) is not None:
            return 0
        from .cli import cli

        code = cli.main([kind, *args], prog_name="roost", standalone_mode=False)
        if code not in (0, None):
            _note(os.environ, f"{kind}: the full path ended with {code}")
    except SystemExit as exc:
        if exc.code not in (0, None):
            _note(os.environ, f"{kind}: exit {exc.code}")
    except BaseException as exc:  # never fail claude's status line or hook
        _note(os.environ, f"{kind}: {type(exc).__name__}: {exc}")
    return 0


def _note(env, message: str) -> None:
    from .passive_fast import debug_note

    debug_note(env, message)
