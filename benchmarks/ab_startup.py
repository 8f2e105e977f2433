"""Two installs of roost, side by side: is the start-up of one slower than the other's?

For a change that moves code (a command out of the core into a plugin, say),
"no slower than before" needs both versions timed in the same run. Give the
``roost`` scripts of two installs (e.g. a venv with the old commit installed
editable from a git worktree, and one with the new); each command runs under
both, interleaved round by round, in one world: 10 profiles with a warm
health cache behind the fake Anthropic on 127.0.0.1, nothing outside a
temporary directory. The cold commands first remove the health and
platform-status caches, so each run probes all 10 profiles (and fetches the
status page), and each refresh rotates all 10 tokens. Prints medians of wall time and of the process's CPU time
(user + system), and B/A per command.

    git worktree add /tmp/before <old-commit>
    python3 -m venv /tmp/vbefore && /tmp/vbefore/bin/pip install -e /tmp/before
    python3 -m venv /tmp/vafter && /tmp/vafter/bin/pip install -e .
    .venv/bin/python benchmarks/ab_startup.py /tmp/vbefore/bin/roost /tmp/vafter/bin/roost [--runs 21]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from hotpath import compile_tree, pick_world, run  # noqa: E402

COMMANDS = {
    "roost --help": ["--help"],
    "roost --version": ["--version"],
    "roost pick (warm, 10 profiles)": ["pick"],
    "roost which --json (warm)": ["--json", "which"],
    "roost exec --no-lease -- true": ["exec", "--no-lease", "--", "true"],
    # A refresh drops the refreshed profiles' health: the cold status after it re-warms the cache
    # for the next round's warm commands.
    "roost refresh --all (10 POSTs)": ["refresh", "--all"],
    "roost status --json (cold)": ["status", "--json"],
}
COLD = {"roost status --json (cold)"}
CACHES = ("health.json", "platform-status.json")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU is the child's user + system time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run(argv, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def python_of(script: str) -> str:
    """The interpreter a console script runs under (its #! line)."""
    first = Path(script).read_text().splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="the baseline install's roost script")
    parser.add_argument("b", help="the install under test's roost script")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    from roost_plugins.fakeserver import FakeAnthropic

    compile_tree()
    installs = {"A": [python_of(args.a), args.a], "B": [python_of(args.b), args.b]}
    for argv in installs.values():  # each install's own tree, compiled once (the runs write no .pyc)
        root = run_module_root(argv[0])
        run([argv[0], "-m", "compileall", "-q", f"{root}/roost_core", f"{root}/roost_plugins"], {})
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as fake:
        env = {**pick_world(Path(tmp), 10, fake), "CLAUDE_LB_REFRESH_MIN_INTERVAL": "0"}  # every run POSTs
        samples = {(name, side): [] for name in COMMANDS for side in installs}
        config = Path(tmp) / "xdg" / "claude-lb"
        for round_no in range(args.runs):
            # Which install goes first alternates: a command can pay for what the one before it left
            # (a which after a which was 15 to 20% slower here, whichever install it was).
            order = list(installs.items())[::-1 if round_no % 2 else 1]
            for name, extra in COMMANDS.items():
                for side, argv in order:
                    for cache in CACHES if name in COLD else ():
                        (config / cache).unlink(missing_ok=True)
                    samples[(name, side)].append(timed([*argv, *extra], env))
    print(f"{args.runs} interleaved rounds, medians; A = {args.a}, B = {args.b}")
    print(f"{'command':<34}{'wall A':>10}{'wall B':>10}{'B/A':>6}{'CPU A':>10}{'CPU B':>10}{'B/A':>6}")
    for name in COMMANDS:
        row = f"{name:<34}"
        for which in (0, 1):  # wall, then CPU
            a, b = (statistics.median(t[which] for t in samples[(name, side)]) for side in installs)
            row += f"{a * 1000:8.1f}ms{b * 1000:8.1f}ms{b / a:6.2f}"
        print(row)


def run_module_root(python: str) -> str:
    """Where ``roost_core`` lives for this interpreter (an editable install points at its tree)."""
    import subprocess

    out = subprocess.run([python, "-c", "import roost_core, os; print(os.path.dirname(roost_core.__file__))"],
                         capture_output=True, text=True, check=True, cwd="/").stdout.strip()
    return str(Path(out).parent)


if __name__ == "__main__":
    main()
