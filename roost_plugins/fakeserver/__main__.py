"""Run the fake by hand: ``python -m roost_plugins.fakeserver --port N [--script FILE.json]``.

Prints the base URL on stdout (one line, so a wrapper can read it) and the
``CLAUDE_LB_*`` exports on stderr, then serves until Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .server import FakeAnthropic


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m roost_plugins.fakeserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", help="JSON fleet description (accounts, usage, status)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    fake = FakeAnthropic(args.host, args.port)
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            fake.load_script(json.load(fh))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with fake:
        print(fake.base_url, flush=True)
        for name, value in fake.env().items():
            print(f"export {name}={value}", file=sys.stderr, flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
