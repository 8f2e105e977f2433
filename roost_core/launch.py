"""The ``roost`` executable's entry point: the passive-health fast path, else the click CLI.

``roost statusline`` and ``roost hook`` run after every claude turn, so they
are dispatched here before click, pluggy or the rest of roost_core is
imported (roost_core.passive_fast); it answers None when the full CLI must
handle the call.
"""

import sys

FAST = ("statusline", "hook")


def main() -> None:
    argv = sys.argv
    if len(argv) > 1 and argv[1] in FAST:
        from .passive_fast import run

        code = run(argv[1], argv[2:])
        if code is not None:
            sys.exit(code)
    from .cli import main as cli_main

    cli_main()
