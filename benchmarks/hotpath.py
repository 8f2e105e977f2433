"""The hot path at the import floor: every row of issue #17's table, each as a ratio to its baseline.

Every row is timed against its own baseline in the same run, interleaved (one
round runs every command once, so load from other work on the machine hits all
alike), and reported as the median of its runs. Bytecode is compiled first (and
again before each round, cheap when nothing changed): an editable install is
not compiled by pip, and a machine that sets PYTHONDONTWRITEBYTECODE would
otherwise charge every start a compile. Children run with
PYTHONDONTWRITEBYTECODE=1, so they read the compiled files and write nothing.

Rows (baseline in brackets):

* ``import click, pluggy, json`` [python -c pass]: the floor of a click + pluggy CLI
* ``import click, pluggy, json, filelock`` [python -c pass]
* ``roost --version`` [python -c pass]                      goal <= 4.5x
* warm ``roost pick``, 10 profiles [python -c pass]         goal <= 5x
* ``roost exec --no-lease -- true`` [python -c pass]        goal <= 6x
* ``roost statusline < doc.json`` [python -c pass]          goal <= 3x
* ``roost stats`` over a 10 MB picks.log [a Python process counting its lines]  goal <= 3x
  (with its summary index; the first read, no index, is printed too)
* ``roost probe``, 100 profiles [1 profile], server latency 200 ms  goal <= 2.5x
* warm ``roost pick``, 1000 profiles [10 profiles]         goal <= 1.5x
* peak RSS of ``roost stats`` (100 MB picks.log) and ``roost report`` (100 MB
  usage log)                                               goal < 64 MB

Every command is the real ``roost`` script run by the venv's interpreter. The
fake Anthropic (roost_plugins.fakeserver) answers on 127.0.0.1; nothing outside
a temporary directory is touched. Exit status 1 when a goal is missed.

    .venv/bin/python benchmarks/hotpath.py [--runs 21] [--probe-runs 5] [--skip-rss] [--json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from passive_hotpath import world as passive_world  # noqa: E402
from pick_hotpath import write_profiles  # noqa: E402
from probe_fanout import fake_server, write_fleet  # noqa: E402
from stats_10mb import write_log  # noqa: E402

PY = sys.executable
ROOST = str(Path(PY).parent / "roost")
LATENCY_S = 0.2
MB = 1024 * 1024
RSS_GOAL_MB = 64.0
COUNT_LINES = "import sys\nwith open(sys.argv[1], 'rb') as f:\n    print(sum(1 for _ in f))\n"


def compile_tree() -> None:
    for package in ("roost_core", "roost_plugins"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "AXIOM_"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        said = (proc.stderr.decode().strip() or proc.stdout.decode().strip())[-800:]
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {said}")
    return elapsed


class Case:
    """One command: argv, env and a callable giving the stdin (or a setup) for each run."""

    def __init__(self, argv: list[str], env: dict[str, str], stdin=None, before=None) -> None:
        self.argv, self.env, self.stdin, self.before = argv, env, stdin, before
        self.samples: list[float] = []
        self.runs = 0

    def __call__(self) -> None:
        if self.before:
            self.before()
        stdin = self.stdin(self.runs) if self.stdin else b""
        self.runs += 1
        self.samples.append(run(self.argv, self.env, stdin))

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def pick_world(root: Path, count: int, fake) -> dict[str, str]:
    (root / "home").mkdir(parents=True)
    write_profiles(root / "profiles", count, fake)
    env = base_env(**fake.env(), HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "xdg"),
                   CLAUDE_LB_PROFILES_DIR=str(root / "profiles"))
    before = fake.count("GET", "/api/oauth/usage")
    # Cold: probes every profile once and warms the health cache (generous timeout: a loaded machine).
    run([PY, ROOST, "pick"], {**env, "CLAUDE_LB_PROBE_CONCURRENCY": "64", "CLAUDE_LB_TIMEOUT": "60"})
    if fake.count("GET", "/api/oauth/usage") - before < count:
        raise SystemExit(f"the cold pick of {count} profiles did not probe each")
    return env


def stats_world(root: Path, megabytes: float) -> tuple[dict[str, str], Path]:
    config = root / "xdg" / "claude-lb"
    config.mkdir(parents=True, mode=0o700)
    write_log(config / "picks.log", megabytes)
    return base_env(HOME=str(root), XDG_CONFIG_HOME=str(root / "xdg"),
                    CLAUDE_LB_PROFILES_DIR=str(root / "profiles")), config / "picks.log"


def write_usage_log(path: Path, megabytes: float) -> int:
    """A usage log of ``megabytes`` in the usage_log plugin's own line format."""
    from roost_core.audit import utc_now_iso

    target, size, count = int(megabytes * MB), 0, 0
    with open(path, "w") as out:
        while size < target:
            chunk = []
            for _ in range(1000):
                t = 1_777_896_000 + count * 60
                line = {"ts": utc_now_iso(t), "profile": f"account-{count % 8}", "health": "ok",
                        "session_pct": float(count % 100), "weekly_pct": float(count % 97),
                        "sonnet_pct": None, "opus_pct": float(count % 31), "overage_pct": None,
                        "session_resets_at": utc_now_iso(t + 3600), "weekly_resets_at": utc_now_iso(t + 86400)}
                chunk.append(json.dumps(line, separators=(",", ":")))
                count += 1
            text = "\n".join(chunk) + "\n"
            out.write(text)
            size += len(text)
    return count


def peak_rss_mb(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one run of ``argv``, read in a fresh parent (RUSAGE_CHILDREN is a max over all children)."""
    probe = ("import resource, subprocess, sys\n"
             "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
             "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([PY, "-c", probe, *argv], env=env, capture_output=True, text=True, check=True).stdout
    rc, kib = out.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(argv)} exited {rc}")
    return int(kib) / 1024


def timing_rows(args: argparse.Namespace, tmp: Path) -> list[dict]:
    from roost_plugins.fakeserver import FakeAnthropic
    from roost_plugins.fakeserver.passive_docs import statusline_document

    with FakeAnthropic() as fake:
        env10 = pick_world(tmp / "p10", 10, fake)
        env1000 = pick_world(tmp / "p1000", 1000, fake)
        (tmp / "passive").mkdir()
        penv = {**passive_world(tmp / "passive"), "PYTHONDONTWRITEBYTECODE": "1"}
        senv, log = stats_world(tmp / "stats", 10)
        index_dir = log.parent

        def drop_index() -> None:
            for path in index_dir.glob("picks.log.index*"):
                path.unlink()

        probes = fake.count("GET", "/api/oauth/usage")
        floor_env = base_env()
        cases = {
            "python -c pass": Case([PY, "-c", "pass"], floor_env),
            "import click, pluggy, json": Case([PY, "-c", "import click, pluggy, json"], floor_env),
            "import click, pluggy, json, filelock": Case([PY, "-c", "import click, pluggy, json, filelock"],
                                                         floor_env),
            "roost --version": Case([PY, ROOST, "--version"], env10),
            "roost pick (warm, 10 profiles)": Case([PY, ROOST, "pick"], env10),
            "roost exec --no-lease -- true": Case([PY, ROOST, "exec", "--no-lease", "--", "true"], env10),
            "roost statusline < doc.json": Case(
                [PY, ROOST, "statusline"], penv,
                stdin=lambda i: json.dumps(statusline_document(10.0 + i % 80, 62.0)).encode()),
            "roost pick (warm, 1000 profiles)": Case([PY, ROOST, "pick"], env1000),
            "python line count of picks.log": Case([PY, "-c", COUNT_LINES, str(log)], senv),
            "roost stats (10 MB, index kept)": Case([PY, ROOST, "stats", "--json"], senv),
            "roost stats (10 MB, first read)": Case([PY, ROOST, "stats", "--json"], senv, before=drop_index),
        }
        for case in cases.values():  # warm the page cache
            case()
            case.samples.clear()
        for _ in range(args.runs):
            compile_tree()
            for case in cases.values():
                case()
        if fake.count("GET", "/api/oauth/usage") != probes:
            raise SystemExit("a warm pick or exec probed: the cache was not warm")
        recorded = json.loads((Path(penv["XDG_CONFIG_HOME"]) / "claude-lb" / "passive.json").read_text())
        assert "statusline" in recorded["profiles"]["work"], recorded
    m = {name: case.median for name, case in cases.items()}

    def row(what: str, base: str, goal: float | None, note: str = "") -> dict:
        return {"what": what, "baseline": base, "median_ms": round(m[what] * 1000, 1),
                "baseline_ms": round(m[base] * 1000, 1), "ratio": round(m[what] / m[base], 2), "goal": goal,
                "note": note}

    return [
        {**row("python -c pass", "python -c pass", None), "note": "the baseline"},
        row("import click, pluggy, json", "python -c pass", None, "the floor"),
        row("import click, pluggy, json, filelock", "python -c pass", None),
        row("roost --version", "python -c pass", 4.5),
        row("roost pick (warm, 10 profiles)", "python -c pass", 5.0),
        row("roost exec --no-lease -- true", "python -c pass", 6.0),
        row("roost statusline < doc.json", "python -c pass", 3.0),
        row("roost stats (10 MB, index kept)", "python line count of picks.log", 3.0),
        row("roost stats (10 MB, first read)", "python line count of picks.log", None, "no index yet"),
        row("roost pick (warm, 1000 profiles)", "roost pick (warm, 10 profiles)", 1.5),
    ]


def probe_row(args: argparse.Namespace, tmp: Path) -> dict:
    """``roost probe`` of 100 profiles vs 1; each fleet on its own fake (a child process), interleaved."""
    cases: dict[str, Case] = {}
    with fake_server(tmp / "f1", write_fleet(tmp / "f1" / "profiles", 1, LATENCY_S)) as base1, \
            fake_server(tmp / "f100", write_fleet(tmp / "f100" / "profiles", 100, LATENCY_S)) as base100:
        for name, base, root in (("1", base1, tmp / "f1"), ("100", base100, tmp / "f100")):
            env = base_env(HOME=str(root), CLAUDE_LB_PROFILES_DIR=str(root / "profiles"),
                           XDG_CONFIG_HOME=str(root / "xdg"), CLAUDE_LB_PROBE_BUDGET="100000",
                           CLAUDE_LB_API_BASE=base, CLAUDE_LB_TOKEN_URL=base + "/v1/oauth/token",
                           CLAUDE_LB_STATUS_URL=base + "/api/v2/summary.json")
            cases[name] = Case([PY, ROOST, "probe", "--json"], env)
        for case in cases.values():
            case()
            case.samples.clear()
        for _ in range(args.probe_runs):
            compile_tree()
            for case in cases.values():
                case()
    one, hundred = cases["1"].median, cases["100"].median
    return {"what": "roost probe (100 profiles, 200 ms latency)", "baseline": "roost probe (1 profile)",
            "median_ms": round(hundred * 1000, 1), "baseline_ms": round(one * 1000, 1),
            "ratio": round(hundred / one, 2), "goal": 2.5, "note": ""}


def rss_rows(tmp: Path) -> list[dict]:
    senv, log = stats_world(tmp / "rss", 100)
    write_usage_log(log.parent / "usage-log.ndjson", 100)
    rows = []
    for what, argv in (("peak RSS: roost stats (100 MB picks.log)", [PY, ROOST, "stats", "--json"]),
                       ("peak RSS: roost report (100 MB usage log)", [PY, ROOST, "report", "--json"])):
        mb = max(peak_rss_mb(argv, senv) for _ in range(2))
        rows.append({"what": what, "rss_mb": round(mb, 1), "goal_mb": RSS_GOAL_MB})
    rows.append({"what": "peak RSS: python -c pass", "rss_mb": round(peak_rss_mb([PY, "-c", "pass"], senv), 1),
                 "goal_mb": None})
    return rows


def met(row: dict) -> bool | None:
    if row.get("goal"):
        return row["ratio"] <= row["goal"]
    if row.get("goal_mb"):
        return row["rss_mb"] < row["goal_mb"]
    return None


def render(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [f"{args.runs} interleaved rounds (probe: {args.probe_runs}), medians, bytecode compiled first",
             f"{'what':<42} {'median':>9} {'baseline':>9} {'ratio':>7}  goal"]
    for row in rows:
        verdict = {True: "met", False: "MISSED", None: ""}[met(row)]
        if "rss_mb" in row:
            goal = f"< {row['goal_mb']:g} MB {verdict}" if row["goal_mb"] else ""
            lines.append(f"{row['what']:<42} {row['rss_mb']:>7.1f}MB {'':>9} {'':>7}  {goal}")
            continue
        goal = f"<= {row['goal']:g}x {verdict}" if row["goal"] else row["note"]
        lines.append(f"{row['what']:<42} {row['median_ms']:>7.1f}ms {row['baseline_ms']:>7.1f}ms "
                     f"{row['ratio']:>6.2f}x  {goal}")
        if row["baseline"] != "python -c pass":
            lines[-1] += f"  (vs {row['baseline']})"
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="interleaved rounds of the start-up rows")
    parser.add_argument("--probe-runs", type=int, default=5, help="interleaved rounds of the probe row")
    parser.add_argument("--skip-startup", action="store_true", help="leave out the start-up and stats rows")
    parser.add_argument("--skip-probe", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    compile_tree()
    with tempfile.TemporaryDirectory(prefix="roost-hotpath-") as tmp_name:
        tmp = Path(tmp_name)
        rows = [] if args.skip_startup else timing_rows(args, tmp)
        if not args.skip_probe:
            rows.append(probe_row(args, tmp / "probe"))
        if not args.skip_rss:
            rows += rss_rows(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(rows, indent=1) if args.json else render(rows, args))
    return 1 if any(met(r) is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
