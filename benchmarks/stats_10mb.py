#!/usr/bin/env python3
"""How fast is ``roost stats`` over a full 10 MB picks.log?

Writes a synthetic picks.log of ``--mb`` megabytes (default 10, the rotation
size) with roost_core.audit.format_event into a throwaway config dir, then
times, in the same run and on the same file:

* ``wc -l`` (when present) and a plain Python line count: the floor for
  reading the file at all;
* ``roost stats --json`` and ``roost history --json`` through the real
  executable (process start-up included);
* the in-process aggregation alone.

Prints a table and a JSON line with the ratios to the plain line count.
Exits 1 when ``roost stats`` takes longer than ``--budget`` seconds (default
1.0), so CI or a person can use it as a check.

    .venv/bin/python benchmarks/stats_10mb.py [--mb 10] [--runs 3] [--budget 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = 1_777_896_000.0
PROFILES = [f"account-{c}" for c in "abcdefgh"]


def write_log(path: Path, megabytes: float) -> int:
    from roost_core.audit import format_event, utc_now_iso
    from roost_core.records import AuditEvent

    target = int(megabytes * 1024 * 1024)
    size, count, lines = 0, 0, []
    while size < target:
        is_exec = count % 2 == 1
        event = AuditEvent(ts=utc_now_iso(T0 + count * 3), event="exec" if is_exec else "pick",
                           profile=PROFILES[count % len(PROFILES)], strategy="least-used",
                           rc=(1 if count % 13 == 0 else 0) if is_exec else None,
                           duration_s=round((count % 997) / 7.0, 3) if is_exec else None,
                           argv0="claude", pid=10_000 + count % 30_000, note="")
        line = format_event(event) + "\n"
        lines.append(line)
        size += len(line.encode())
        count += 1
    path.write_text("".join(lines))
    return count


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1.0, help="max seconds for 'roost stats --json'")
    args = parser.parse_args(argv)

    roost = shutil.which("roost", path=str(Path(sys.executable).parent)) or "roost"
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as tmp:
        config = Path(tmp) / "claude-lb"
        config.mkdir(mode=0o700)
        log = config / "picks.log"
        events = write_log(log, args.mb)
        env = {**os.environ, "XDG_CONFIG_HOME": tmp, "CLAUDE_LB_PROFILES_DIR": str(Path(tmp) / "profiles")}

        def run(*cmd: str) -> None:
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def py_count() -> int:
            with open(log, "rb") as handle:
                return sum(1 for _ in handle)

        def in_process() -> None:
            from roost_plugins.picklog.scan import LogScan
            from roost_plugins.picklog.stats import aggregate
            from roost_core.context import RoostContext

            data = aggregate(RoostContext(env=env), LogScan())
            assert data["events"] == events, data["events"]

        results = {"events": events, "bytes": log.stat().st_size}
        if shutil.which("wc"):
            results["wc_l_s"] = best_of(args.runs, lambda: run("wc", "-l", str(log)))
        results["python_line_count_s"] = best_of(args.runs, py_count)
        results["roost_version_s"] = best_of(args.runs, lambda: run(roost, "--version"))
        results["roost_stats_s"] = best_of(args.runs, lambda: run(roost, "stats", "--json"))
        results["roost_history_s"] = best_of(args.runs, lambda: run(roost, "history", "--json"))
        results["aggregate_in_process_s"] = best_of(args.runs, in_process)
    floor = results["python_line_count_s"]
    results["stats_vs_python_line_count"] = round(results["roost_stats_s"] / floor, 1)
    if "wc_l_s" in results:
        results["stats_vs_wc_l"] = round(results["roost_stats_s"] / results["wc_l_s"], 1)
    results["budget_s"] = args.budget
    results["ok"] = results["roost_stats_s"] < args.budget

    print(f"picks.log: {results['bytes'] / 1e6:.1f} MB, {events} events (best of {args.runs})", file=sys.stderr)
    for key in ("wc_l_s", "python_line_count_s", "roost_version_s", "roost_stats_s", "roost_history_s",
                "aggregate_in_process_s"):
        if key in results:
            print(f"  {key:<24} {results[key] * 1000:8.1f} ms", file=sys.stderr)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
