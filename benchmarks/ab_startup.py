"""Two installs of roost, side by side: is the start-up of one slower than the other's?

For a change that moves code (a command out of the core into a plugin, say),
"no slower than before" needs both versions timed in the same run. Give the
``roost`` scripts of two installs (e.g. a venv with the old commit installed
editable from a git worktree, and one with the new); each command runs under
both, interleaved round by round, in one world: 10 profiles with a warm
health cache behind the fake Anthropic on 127.0.0.1, nothing outside a
temporary directory. Prints medians and B/A per command.

    git worktree add /tmp/before <old-commit>
    python3 -m venv /tmp/vbefore && /tmp/vbefore/bin/pip install -e /tmp/before
    python3 -m venv /tmp/vafter && /tmp/vafter/bin/pip install -e .
    .venv/bin/python benchmarks/ab_startup.py /tmp/vbefore/bin/roost /tmp/vafter/bin/roost [--runs 21]
"""

from __future__ import annotations

import argparse
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
}


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
        env = pick_world(Path(tmp), 10, fake)
        samples = {(name, side): [] for name in COMMANDS for side in installs}
        for _ in range(args.runs):
            for name, extra in COMMANDS.items():
                for side, argv in installs.items():
                    samples[(name, side)].append(run([*argv, *extra], env))
    print(f"{args.runs} interleaved rounds, medians; A = {args.a}, B = {args.b}")
    print(f"{'command':<34}{'A':>10}{'B':>10}{'B/A':>8}")
    for name in COMMANDS:
        a, b = (statistics.median(samples[(name, side)]) for side in installs)
        print(f"{name:<34}{a * 1000:8.1f}ms{b * 1000:8.1f}ms{b / a:8.2f}")


def run_module_root(python: str) -> str:
    """Where ``roost_core`` lives for this interpreter (an editable install points at its tree)."""
    import subprocess

    out = subprocess.run([python, "-c", "import roost_core, os; print(os.path.dirname(roost_core.__file__))"],
                         capture_output=True, text=True, check=True, cwd="/").stdout.strip()
    return str(Path(out).parent)


if __name__ == "__main__":
    main()
