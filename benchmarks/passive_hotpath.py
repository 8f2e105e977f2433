"""How fast are ``roost statusline`` and ``roost hook``? Wall time as a ratio to ``python -c pass``.

Claude Code runs its statusLine command after every turn (some users at
1 Hz) and the StopFailure hook after a failed turn, so both must stay near
the interpreter's floor (goal: at most 3x ``python -c pass``). This builds a
throwaway profiles tree and config dir, byte-compiles roost first (an
editable install is not compiled by pip, and a run under
PYTHONDONTWRITEBYTECODE would charge every start a compile), then times, in
the same run and interleaved so machine load hits all alike:

* ``python -c pass``                                  (the floor)
* ``roost statusline < doc.json`` (records a reading, prints the line)
* ``roost hook < stopfailure.json`` (records a rate_limit reading)

Each run sends new figures, so each run writes the passive document.

and prints medians and ratios. Each command is the real ``roost`` script
with the venv's interpreter. Nothing outside a temporary directory is
touched; nothing touches the network.

    .venv/bin/python benchmarks/passive_hotpath.py [--runs 40] [--json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 3.0


def timed(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode().strip()}")
    return elapsed


def world(tmp: Path, *, strip: tuple[str, ...] = ("CLAUDE_", "AXIOM_", "PYTHONDONTWRITEBYTECODE"),
          profile: str | None = "work") -> dict[str, str]:
    """One logged-in profile ``work`` under ``tmp``; the environment drops variables starting with
    ``strip`` and names ``profile`` as the current one (AXIOM_CLAUDE_PROFILE) unless it is None."""
    directory = tmp / "profiles" / "work"
    directory.mkdir(parents=True, mode=0o700)
    creds = {"claudeAiOauth": {"accessToken": "sk-ant-oat01-bench" + "x" * 24, "refreshToken": "sk-ant-ort01-bench"
                               + "x" * 24, "expiresAt": int((time.time() + 8 * 3600) * 1000),
                               "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}}
    (directory / ".credentials.json").write_text(json.dumps(creds))
    os.chmod(directory / ".credentials.json", 0o600)
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(strip)}
    env.update({"HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "xdg"),
                "CLAUDE_LB_PROFILES_DIR": str(tmp / "profiles"), "CLAUDE_LB_API_BASE": "http://127.0.0.1:9"})
    if profile is not None:
        env["AXIOM_CLAUDE_PROFILE"] = profile
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from roost_plugins.fakeserver.passive_docs import statusline_document, stop_failure_event

    for package in ("roost_core", "roost_plugins"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    roost = str(Path(sys.executable).parent / "roost")
    with tempfile.TemporaryDirectory() as tmp:
        env = world(Path(tmp))
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], b""),
            "roost statusline": ([sys.executable, roost, "statusline"],
                                 json.dumps(statusline_document(37.5, 62.0)).encode()),
            "roost hook": ([sys.executable, roost, "hook"], json.dumps(stop_failure_event("rate_limit")).encode()),
        }
        for argv, stdin in cases.values():  # warm the page cache and the bytecode
            timed(argv, env, stdin)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for i in range(args.runs):
            # A new figure every run, so every run writes (an identical reading within 15 s is skipped).
            cases["roost statusline"] = (cases["roost statusline"][0],
                                         json.dumps(statusline_document(10.0 + i % 80, 62.0)).encode())
            cases["roost hook"] = (cases["roost hook"][0], json.dumps(stop_failure_event(
                "rate_limit", rate_limit_type="five_hour", resets_in=3600 + i)).encode())
            for name, (argv, stdin) in cases.items():
                times[name].append(timed(argv, env, stdin))
        recorded = json.loads((Path(tmp) / "xdg" / "claude-lb" / "passive.json").read_text())
        assert set(recorded["profiles"]["work"]) == {"statusline", "hook"}, recorded
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    rows = [{"what": name, "median_ms": round(m * 1000, 2), "ratio": round(m / floor, 2),
             "goal": None if name == "python -c pass" else GOAL} for name, m in medians.items()]
    if args.json:
        print(json.dumps({"runs": args.runs, "rows": rows}, indent=1))
        return
    print(f"{args.runs} interleaved runs each, medians (bytecode compiled first)")
    for row in rows:
        goal = f"  (goal <= {row['goal']:g}x: {'met' if row['ratio'] <= row['goal'] else 'MISSED'})" \
            if row["goal"] else ""
        print(f"  {row['what']:<18} {row['median_ms']:8.2f} ms  {row['ratio']:5.2f}x{goal}")


if __name__ == "__main__":
    main()
