"""What does reading stream-json cost ``roost exec``? A 100 MB stream, with and without the tap.

When a child runs with ``--output-format stream-json`` and roost's stdout is
not a terminal, exec pipes the child's stdout, copies every byte to its own
stdout and hands each chunk to the passive ``stream`` tap, which records the
``rate_limit_event`` lines. Goal: the tap adds under 5 % to a plain
pass-through of the same bytes. Timed in the same run, interleaved, medians:

* the pump: roost_plugins.dispatch.childproc.pump between ``cat stream`` and ``cat >
  /dev/null`` (two processes, as under exec), tap off vs on (the copy
  alone vs the copy plus the scan and the recording);
* end to end: the real ``roost exec --no-lease -- child`` whose child writes
  the stream, run with ``--output-format json`` (no tap: stdout inherited)
  vs ``--output-format stream-json`` (piped through the tap), and the child
  alone; each drained by this process through a pipe.

The stream is stream-json lines (assistant text, tool results) with a
``rate_limit_event`` every ~10 MB. Nothing leaves a temporary directory.

    .venv/bin/python benchmarks/passive_stream.py [--mb 100] [--runs 5] [--json]
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

import passive_hotpath  # benchmarks/ is sys.path[0] when this runs as a script

ROOT = Path(__file__).resolve().parent.parent
GOAL_PCT = 5.0
CHILD = "import sys, shutil\nwith open(sys.argv[1], 'rb') as f:\n    shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)\n"


def make_stream(path: Path, megabytes: int) -> int:
    from roost_plugins.fakeserver.passive_docs import rate_limit_event

    text = {"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look at the file. " * 40}]}}
    tool = {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "line of output\n" * 200}]}}
    block = (json.dumps(text) + "\n" + json.dumps(tool) + "\n").encode()
    event = (json.dumps(rate_limit_event("allowed_warning", "five_hour", 0.91)) + "\n").encode()
    target = megabytes * 1024 * 1024
    written = events = 0
    with open(path, "wb") as out:
        while written < target:
            if written // (10 * 1024 * 1024) >= events:
                out.write(event)
                written += len(event)
                events += 1
            out.write(block)
            written += len(block)
    return events


def drain(fd: int) -> None:
    while os.read(fd, 1 << 20):
        pass


def in_process(path: Path, ctx, tap_on: bool) -> tuple[float, int]:
    """pump() between two processes, as exec runs it: ``cat stream`` -> pump -> ``cat > /dev/null``.

    The tap is built before the clock starts, as exec builds it before the child starts.
    """
    from roost_plugins.dispatch.childproc import pump
    from roost_plugins.passive.recording import stream_tap
    from roost_core.records import Profile

    tap = stream_tap(ctx, Profile("work", Path(ctx.env["CLAUDE_LB_PROFILES_DIR"]) / "work")) if tap_on else None
    start = time.perf_counter()
    producer = subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE)
    consumer = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert producer.stdout is not None and consumer.stdin is not None
    src, dst = os.dup(producer.stdout.fileno()), consumer.stdin.fileno()
    producer.stdout.close()
    _big_pipe(src)  # as exec does (childproc._start_pump): 1 MiB reads when the producer is fast
    pump(src, dst, tap)
    consumer.stdin.close()
    producer.wait()
    consumer.wait()
    return time.perf_counter() - start, (tap.recorded if tap else 0)


def _big_pipe(fd: int) -> None:
    from roost_plugins.dispatch.childproc import F_SETPIPE_SZ, PUMP_CHUNK

    try:
        import fcntl

        fcntl.fcntl(fd, F_SETPIPE_SZ, PUMP_CHUNK)
    except (ImportError, OSError):
        pass


def end_to_end(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    drain(proc.stdout.fileno())
    rc = proc.wait()
    if rc != 0:
        raise SystemExit(f"{argv} exited {rc}")
    return time.perf_counter() - start


def world(tmp: Path) -> dict[str, str]:
    """passive_hotpath's world, but the caller picks no current profile."""
    return passive_hotpath.world(tmp, strip=("CLAUDE_", "AXIOM_"), profile=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from roost_core.context import RoostContext
    from roost_plugins.fakeserver.passive_docs import statusline_document

    roost = str(Path(sys.executable).parent / "roost")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = world(tmp_path)
        stream = tmp_path / "stream.jsonl"
        events = make_stream(stream, args.mb)
        child = tmp_path / "child.py"
        child.write_text(CHILD)
        # A fresh passive reading: exec's pick stands on it, so no probe runs in the timings.
        subprocess.run([roost, "statusline"], input=json.dumps(statusline_document(10.0, 10.0)).encode(),
                       env={**env, "AXIOM_CLAUDE_PROFILE": "work"}, check=True, stdout=subprocess.DEVNULL)
        ctx = RoostContext(env=env)
        run_child = [sys.executable, str(child), str(stream)]
        cases = {
            "pump, no tap": lambda: in_process(stream, ctx, False)[0],
            "pump + tap": lambda: in_process(stream, ctx, True)[0],
            "child alone": lambda: end_to_end(run_child, env),
            "exec (json: inherited)": lambda: end_to_end([roost, "exec", "--no-lease", "--", *run_child,
                                                          "--output-format", "json"], env),
            "exec (stream-json: tap)": lambda: end_to_end([roost, "exec", "--no-lease", "--", *run_child,
                                                           "--output-format", "stream-json"], env),
        }
        for case in cases.values():
            case()  # warm caches
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, case in cases.items():
                times[name].append(case())
        _, recorded = in_process(stream, ctx, True)
    med = {name: statistics.median(v) for name, v in times.items()}
    pump_overhead = (med["pump + tap"] / med["pump, no tap"] - 1) * 100
    exec_overhead = (med["exec (stream-json: tap)"] / med["exec (json: inherited)"] - 1) * 100
    result = {"mb": args.mb, "runs": args.runs, "rate_limit_events": events, "recorded_per_pass": recorded,
              "median_s": {k: round(v, 4) for k, v in med.items()},
              "tap_overhead_pct_vs_pump": round(pump_overhead, 2),
              "tap_overhead_pct_vs_inherited_exec": round(exec_overhead, 2), "goal_pct": GOAL_PCT}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{args.mb} MB of stream-json, {events} rate_limit_event lines, {args.runs} interleaved runs, medians")
    for name, value in med.items():
        print(f"  {name:<26} {value * 1000:9.1f} ms  ({args.mb / value:7.1f} MB/s)")
    verdict = "met" if pump_overhead < GOAL_PCT else "MISSED"
    print(f"  tap overhead vs the plain pass-through (pump): {pump_overhead:+.2f} %  (goal < {GOAL_PCT:g} %: {verdict})")
    print(f"  exec with the tap vs exec with inherited stdout: {exec_overhead:+.2f} %")
    print(f"  readings recorded per pass: {recorded}")


if __name__ == "__main__":
    main()
