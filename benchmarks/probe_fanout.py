"""Probe fan-out: how long a live probe of N profiles takes, as a ratio to one probe.

The local fake Anthropic answers every usage request after a fixed latency
(default 200 ms). For each fleet size (default 10, 100 and 1000) the engine
probes every profile once (``probe_many``, forced so no cache or budget
interferes) on its one async client with at most ``--concurrency`` requests
in flight, and the wall time is compared with a single probe's. With a
bound B and latency L the floor is ceil(N / B) x L, so the ideal ratio is
ceil(N / B); ``efficiency`` is ideal / measured. ``--cli`` also times the
real ``roost probe`` executable (start-up included) for each size. The fake
runs in its own process, so its threads do not compete with roost for the GIL.

Nothing outside a temporary directory is touched and nothing leaves 127.0.0.1.

    .venv/bin/python benchmarks/probe_fanout.py [--sizes 10,100,1000] [--latency 0.2]
                                                [--concurrency 16] [--runs 3] [--cli] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/ is sys.path[0] when this runs as a script
from pick_hotpath import write_login


def write_fleet(tree: Path, count: int, latency: float) -> list[dict[str, object]]:
    """Profiles on disk, and the fake's script entry for each (usage after ``latency`` s)."""
    from roost_plugins.fakeserver import Scenario

    expires = int((time.time() + 8 * 3600) * 1000)
    accounts = []
    for i in range(count):
        name = f"p{i:04d}"
        access, refresh = write_login(tree, name, f"fan{i:04d}", expires, mode=None)
        usage = Scenario.ok(weekly=float(i % 97)).with_delay(latency).to_dict()
        accounts.append({"label": name, "access_token": access, "refresh_token": refresh, "usage": usage})
    return accounts


@contextlib.contextmanager
def fake_server(root: Path, accounts: list[dict[str, object]]):
    """The fake Anthropic in a child process; yields its base URL."""
    script = root / "fleet.json"
    script.write_text(json.dumps({"accounts": accounts}))
    proc = subprocess.Popen([sys.executable, "-m", "roost_plugins.fakeserver", "--script", str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def environment(root: Path, base: str, concurrency: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update({"HOME": str(root), "CLAUDE_LB_PROFILES_DIR": str(root / "profiles"),
                "XDG_CONFIG_HOME": str(root / "xdg"), "CLAUDE_LB_PROBE_CONCURRENCY": str(concurrency),
                "CLAUDE_LB_PROBE_BUDGET": "100000", "CLAUDE_LB_TIMEOUT": "30",
                "CLAUDE_LB_API_BASE": base, "CLAUDE_LB_TOKEN_URL": base + "/v1/oauth/token",
                "CLAUDE_LB_STATUS_URL": base + "/api/v2/summary.json"})
    return env


def time_engine(env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds of one forced probe of every profile, in process (start-up excluded)."""
    from roost_core.context import RoostContext
    from roost_core.output import Output
    from roost_core.probe import probe_many
    from roost_core.profiles import discover

    ctx = RoostContext(env=env, out=Output(stdout=io.StringIO(), stderr=io.StringIO()))
    profiles = discover(ctx.paths)
    _ = ctx.host, ctx.state  # plugin discovery is start-up, not fan-out
    started = time.perf_counter()
    records = asyncio.run(probe_many(ctx, profiles, force=True))
    elapsed = time.perf_counter() - started
    return elapsed, sum(r.health.value == "ok" for r in records)


def time_cli(env: dict[str, str]) -> float:
    roost = str(Path(sys.executable).parent / "roost")
    started = time.perf_counter()
    subprocess.run([roost, "probe", "--force", "--json"], env=env, capture_output=True, check=True, timeout=600)
    return time.perf_counter() - started


def measure(size: int, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="roost-fanout-") as tmp:
        root = Path(tmp)
        accounts = write_fleet(root / "profiles", size, args.latency)
        with fake_server(root, accounts) as base:
            env = environment(root, base, args.concurrency)
            engine = [time_engine(env) for _ in range(args.runs)]
            result: dict[str, object] = {"profiles": size,
                                         "engine_s": round(statistics.median(t for t, _ in engine), 4),
                                         "ok": min(n for _, n in engine)}
            if args.cli:
                result["cli_s"] = round(statistics.median(time_cli(env) for _ in range(args.runs)), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="probes in flight (probe_concurrency)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (the median is reported)")
    parser.add_argument("--cli", action="store_true", help="also time the roost executable (start-up included)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    measure(1, argparse.Namespace(**{**vars(args), "runs": 1, "cli": False}))  # warm-up: imports, TLS setup
    single = measure(1, args)
    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        row = measure(size, args)
        ideal = math.ceil(size / args.concurrency)
        row["ratio"] = round(row["engine_s"] / single["engine_s"], 2)
        row["ideal_ratio"] = ideal
        row["floor_s"] = round(ideal * args.latency, 3)
        row["efficiency"] = round(ideal / row["ratio"], 2) if row["ratio"] else None
        rows.append(row)
    report = {"latency_s": args.latency, "concurrency": args.concurrency, "single": single, "sizes": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"latency {args.latency * 1000:.0f} ms, at most {args.concurrency} in flight; "
          f"one probe: {single['engine_s'] * 1000:.0f} ms"
          + (f" ({single['cli_s']:.2f} s through the CLI)" if "cli_s" in single else ""))
    print(f"{'profiles':>8}  {'wall s':>8}  {'floor s':>7}  {'x single':>8}  {'ideal x':>7}  {'efficiency':>10}"
          + ("  {:>7}".format("cli s") if args.cli else ""))
    for row in rows:
        print(f"{row['profiles']:>8}  {row['engine_s']:>8.3f}  {row['floor_s']:>7.2f}  {row['ratio']:>8.2f}  "
              f"{row['ideal_ratio']:>7}  "
              f"{row['efficiency']:>10.2f}" + (f"  {row['cli_s']:>7.2f}" if args.cli else ""))


if __name__ == "__main__":
    main()
