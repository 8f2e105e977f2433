"""``roost refresh --expired`` over many profiles, none of them due: two installs side by side.

Every profile is checked against the health cache (a token the usage endpoint
rejected as expired is due even while its ``expiresAt`` is ahead). Give the
``roost`` scripts of two installs, as for ``ab_startup.py``; both run in one
world of N profiles with a warm health cache behind the fake Anthropic on
127.0.0.1, alternating which goes first. Prints medians of wall and CPU time.

    .venv/bin/python benchmarks/refresh_expired.py /tmp/vbefore/bin/roost .venv/bin/roost [--profiles 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from ab_startup import python_of, timed  # noqa: E402
from hotpath import pick_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="the baseline install's roost script")
    parser.add_argument("b", help="the install under test's roost script")
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from roost_plugins.fakeserver import FakeAnthropic

    installs = {"A": [python_of(args.a), args.a], "B": [python_of(args.b), args.b]}
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as fake:
        env = pick_world(Path(tmp), args.profiles, fake)  # a cold pick warms the health cache
        samples: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        for round_no in range(args.runs):
            for side, argv in list(installs.items())[::-1 if round_no % 2 else 1]:
                samples[side].append(timed([*argv, "refresh", "--expired", "--json"], env))
    print(f"refresh --expired, {args.profiles} profiles, none due; {args.runs} rounds, medians")
    for which, label in ((0, "wall"), (1, "CPU")):
        a, b = (statistics.median(t[which] for t in samples[side]) for side in installs)
        print(f"{label:<5} A {a * 1000:8.0f} ms   B {b * 1000:8.0f} ms   B/A {b / a:5.2f}")


if __name__ == "__main__":
    main()
