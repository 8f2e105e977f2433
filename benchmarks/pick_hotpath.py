"""How fast is ``roost pick`` on a warm cache? Wall time as a ratio to Python itself.

For each fleet size (default 10 and 1000 profiles) this builds a throwaway
profiles tree and config dir, warms the health cache with one real pick
against the local fake Anthropic, then times, in the same run and
interleaved so machine load hits all three alike:

* ``python -c pass``                        (the interpreter's floor)
* ``python -c "import click, pluggy, ..."`` (an eager import of every dependency)
* ``python -m roost_core pick``             (the hot path)

and reports medians and ratios. It also checks, with ``-X importtime``, that
the warm pick imported neither httpx nor rich. Nothing outside a temporary
directory is touched and nothing leaves 127.0.0.1.

    .venv/bin/python benchmarks/pick_hotpath.py [--runs 15] [--sizes 10,1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EAGER_IMPORTS = "import click, pluggy, httpx, rich.console, rich.table, platformdirs, filelock"
HEAVY = ("httpx", "httpcore", "rich")


def write_login(tree: Path, name: str, tag: str, expires: int, mode: int | None = 0o600) -> tuple[str, str]:
    """``<tree>/<name>/.credentials.json`` with tokens marked ``tag`` (chmod ``mode`` unless None);
    returns (access, refresh)."""
    access, refresh = f"sk-ant-oat01-{tag}" + "x" * 24, f"sk-ant-ort01-{tag}" + "x" * 24
    (tree / name).mkdir(parents=True, mode=0o700)
    creds = {"claudeAiOauth": {"accessToken": access, "refreshToken": refresh, "expiresAt": expires,
                               "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}}
    path = tree / name / ".credentials.json"
    path.write_text(json.dumps(creds))
    if mode is not None:
        os.chmod(path, mode)
    return access, refresh


def write_profiles(tree: Path, count: int, fake) -> None:
    from roost_plugins.fakeserver import Scenario

    expires = int((time.time() + 8 * 3600) * 1000)
    for i in range(count):
        name = f"p{i:04d}"
        access, refresh = write_login(tree, name, f"bench{i:04d}", expires)
        fake.add_account(name, access_token=access, refresh_token=refresh,
                         usage=Scenario.ok(weekly=float(i % 97), session=float(i % 13)))


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def heavy_imports(env: dict[str, str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", "pick"], env=env,
                          capture_output=True, text=True)
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def measure(count: int, runs: int) -> dict:
    from roost_plugins.fakeserver import FakeAnthropic

    with tempfile.TemporaryDirectory(prefix="roost-bench-") as tmp, FakeAnthropic() as fake:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
        env.update(fake.env(), HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "xdg"),
                   CLAUDE_LB_PROFILES_DIR=str(root / "profiles"), CLAUDE_LB_PROBE_CONCURRENCY="32")
        (root / "home").mkdir()
        write_profiles(root / "profiles", count, fake)
        warm_s = timed([sys.executable, "-m", "roost_core", "pick"], env)  # cold: probes every profile
        probes = fake.count("GET", "/api/oauth/usage")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "eager import of all dependencies": [sys.executable, "-c", EAGER_IMPORTS],
            "roost pick (warm cache)": [sys.executable, "-m", "roost_core", "pick"],
        }
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(runs):  # interleaved: load spikes hit every command alike
            for label, argv in commands.items():
                samples[label].append(timed(argv, env))
        heavy = heavy_imports(env)
        if fake.count("GET", "/api/oauth/usage") != probes:
            raise SystemExit("the warm picks probed: the cache was not warm")
    medians = {label: statistics.median(values) for label, values in samples.items()}
    pick = medians["roost pick (warm cache)"]
    return {
        "profiles": count, "runs": runs, "cold_pick_s": round(warm_s, 4),
        "median_s": {label: round(v, 4) for label, v in medians.items()},
        "ratio_to_python": round(pick / medians["python -c pass"], 2),
        "ratio_to_eager_imports": round(pick / medians["eager import of all dependencies"], 2),
        "heavy_imports_on_hot_path": heavy,
    }


def report(result: dict) -> str:
    lines = [f"{result['profiles']} profiles ({result['runs']} runs, medians; cold pick that warmed the cache: "
             f"{result['cold_pick_s'] * 1000:.0f} ms)"]
    for label, seconds in result["median_s"].items():
        lines.append(f"  {label:<36} {seconds * 1000:8.1f} ms")
    lines.append(f"  roost pick / python -c pass          {result['ratio_to_python']:8.2f}x")
    lines.append(f"  roost pick / eager imports           {result['ratio_to_eager_imports']:8.2f}x")
    heavy = ", ".join(result["heavy_imports_on_hot_path"]) or "none"
    lines.append(f"  httpx/rich imported by the warm pick: {heavy}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    parser.add_argument("--sizes", default="10,1000", help="comma-separated fleet sizes (default 10,1000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = [measure(int(size), args.runs) for size in args.sizes.split(",")]
    print(json.dumps(results, indent=1) if args.json else "\n\n".join(report(r) for r in results))
    return 1 if any(r["heavy_imports_on_hot_path"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
