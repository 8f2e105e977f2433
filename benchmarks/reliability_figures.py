"""Run the reliability suite and print one line per goal figure (G1-G14).

    python benchmarks/reliability_figures.py            # default tier
    python benchmarks/reliability_figures.py --stress   # the by-hand stress tier

Each test prints its own figure ("G1: 50 refreshers -> posts=1 ..."); this
collects those lines from ``pytest -s`` and the G10/G14 totals of the
terminal summary, so a release note can quote them. The exit code is
pytest's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURE = re.compile(r"(?:^|[.FsxX])((?:G1[0-4]|G[1-9])\b[^\n]*)")


def main(argv: list[str]) -> int:
    marker = ["-m", "stress"] if "--stress" in argv else []
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/reliability", "-q", "-s", "-p", "no:randomly",
                           *marker], cwd=ROOT, capture_output=True, text=True)
    figures = []
    for line in proc.stdout.splitlines():
        match = FIGURE.search(line)
        if match and ("->" in match.group(1) or match.group(1).startswith(("G10 (", "G14:"))):
            figures.append(match.group(1).strip())
    for figure in sorted(figures, key=lambda f: int(re.match(r"G(\d+)", f).group(1))):
        print(figure)
    tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    print(*tail, sep="\n")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
