"""What does reading stream-json cost ``roost exec``? A 100 MB stream, with and without the tap.

When a child runs with ``--output-format stream-json`` and roost's stdout is
not a terminal, exec pipes the child's stdout, copies every byte to its own
stdout and hands each chunk to the passive ``stream`` tap, which records the
``rate_limit_event`` lines. Goal: the tap adds under 5 % to a plain
pass-through of the same bytes. Timed in the same run, interleaved, medians:

* exec's pass-through (roost_plugins.dispatch.teepump.pass_through: on
  Linux tee(2)+splice(2) with the tap on a scanner thread, elsewhere the
  read/write loop) between ``cat stream`` and ``cat > /dev/null`` (two
  processes, as under exec), tap off (on Linux the bare splice: the plain
  pass-through the goal is measured against) vs on; the tap with its
  recording switched off (the scan alone); a tap that does nothing (the
  floor of any tap: the bytes copied into Python); the tap on a stream whose
  every event has new figures (each one written, none a repeat);
* for reference, the read/write loop (childproc.pump) without and with the
  tap: the design exec used before (and uses where tee/splice is missing);
* end to end: the real ``roost exec --no-lease -- child`` whose child writes
  the stream, run with ``--output-format json`` (no tap: stdout inherited)
  vs ``--output-format stream-json`` (piped through the tap; again with
  tee+splice switched off, through the read/write loop), and the child
  alone; each drains into a 1 MiB pipe this process reads.

Each figure is a median over ``--runs`` interleaved runs with its spread
(min-max) and, for the in-process cases, this process's CPU time (all its
threads), which load on a shared machine disturbs less than wall time.

The stream is stream-json lines (assistant text, tool results) with a
``rate_limit_event`` every ~10 MB. Nothing leaves a temporary directory.

    .venv/bin/python benchmarks/passive_stream.py [--mb 100] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def make_stream(path: Path, megabytes: int, *, new_figures: bool = False) -> int:
    """Write the stream; its events all say the same (a steady session) unless ``new_figures``."""
    from roost_plugins.fakeserver.passive_docs import rate_limit_event

    text = {"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look at the file. " * 40}]}}
    tool = {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "line of output\n" * 200}]}}
    block = (json.dumps(text) + "\n" + json.dumps(tool) + "\n").encode()
    now = time.time()

    def event(n: int) -> bytes:
        utilization = 0.5 + n / 100 if new_figures else 0.91
        return (json.dumps(rate_limit_event("allowed_warning", "five_hour", utilization, now=now)) + "\n").encode()

    target = megabytes * 1024 * 1024
    written = events = 0
    with open(path, "wb") as out:
        while written < target:
            if written // (10 * 1024 * 1024) >= events:
                out.write(event(events))
                written += len(event(events))
                events += 1
            out.write(block)
            written += len(block)
    return events


def drain(fd: int) -> None:
    while os.read(fd, 1 << 20):
        pass


def in_process(path: Path, ctx, how: str) -> tuple[float, float, tuple[int, int]]:
    """(wall s, CPU s of this process, (readings written, repeats not written)) of one pass:
    ``cat stream`` -> pass-through -> ``cat``, both pipes sized as exec sizes them.

    ``how``: ``plain`` (exec's pass-through, no tap), ``tap``, ``scan`` (the
    tap, its recording off), ``noop`` (a tap that does nothing: what handing
    the bytes to Python costs), ``rw`` and ``rw_tap`` (the read/write loop). The
    tap is built before the clock starts, as exec builds it before the child
    starts, and the previous pass's stream reading is forgotten, so each pass
    writes as a first exec would.
    """
    from roost_core.records import Profile
    from roost_plugins.dispatch.childproc import big_pipe, pump
    from roost_plugins.dispatch.teepump import pass_through
    from roost_plugins.passive.recording import StreamTap, stream_tap

    tap = None
    if how in ("tap", "scan", "rw_tap"):
        forget_stream_readings(ctx)
        tap = stream_tap(ctx, Profile("work", Path(ctx.env["CLAUDE_LB_PROFILES_DIR"]) / "work"))
    if how == "scan":
        tap._kick = tap.close = lambda: None  # readings are parsed, never written
    if how == "noop":
        tap = _no_tap  # the bytes reach Python and nothing looks at them: the floor of any tap
    cpu = _cpu_s()
    start = time.perf_counter()
    producer = subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE)
    consumer = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert producer.stdout is not None and consumer.stdin is not None
    src, dst = os.dup(producer.stdout.fileno()), consumer.stdin.fileno()
    producer.stdout.close()
    big_pipe(src)  # as exec does (childproc._start_pump): 1 MiB pipes on both sides
    big_pipe(dst)
    if how in ("rw", "rw_tap"):
        pump(src, dst, tap)
    else:
        pass_through(src, dst, tap, pump)
    consumer.stdin.close()
    producer.wait()
    consumer.wait()
    counts = (tap.recorded, tap.repeated) if isinstance(tap, StreamTap) else (0, 0)
    return time.perf_counter() - start, _cpu_s() - cpu, counts


def _no_tap(chunk: bytes) -> None:
    pass


def forget_stream_readings(ctx) -> None:
    """Drop the stored ``stream`` reading (the status line's, which exec's pick stands on, stays)."""
    from roost_plugins.passive.doc import DOC

    def edit(doc: dict) -> dict:
        for readings in (doc.get("profiles") or {}).values():
            readings.pop("stream", None)
        return doc

    ctx.state.update_doc(DOC, edit)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def end_to_end(argv: list[str], env: dict[str, str]) -> float:
    """Run ``argv`` with its stdout a 1 MiB pipe this process drains (the size exec gives its own
    stdout when it taps: with the default 64 KiB pipe an inherited stdout would lose on pipe size)."""
    from roost_plugins.dispatch.childproc import big_pipe

    start = time.perf_counter()
    read_end, write_end = os.pipe()
    big_pipe(write_end)
    proc = subprocess.Popen(argv, env=env, stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        drain(read_end)
    finally:
        os.close(read_end)
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
        stream, stream_new = tmp_path / "stream.jsonl", tmp_path / "stream-new-figures.jsonl"
        events = make_stream(stream, args.mb)
        make_stream(stream_new, args.mb, new_figures=True)
        child = tmp_path / "child.py"
        child.write_text(CHILD)
        # A fresh passive reading: exec's pick stands on it, so no probe runs in the timings.
        subprocess.run([roost, "statusline"], input=json.dumps(statusline_document(10.0, 10.0)).encode(),
                       env={**env, "AXIOM_CLAUDE_PROFILE": "work"}, check=True, stdout=subprocess.DEVNULL)
        ctx = RoostContext(env=env)
        run_child = [sys.executable, str(child), str(stream)]
        cases = {name: (lambda how=how: in_process(stream, ctx, how)) for how, name in PUMP_CASES.items()}
        cases[NEW_FIGURES] = lambda: in_process(stream_new, ctx, "tap")
        for name in ("read/write loop, no tap", "read/write loop + tap"):
            cases[name] = cases.pop(name)  # listed after exec's own pass-through

        def exec_tapped(launcher: list[str]) -> tuple[float, None, tuple[int, int]]:
            forget_stream_readings(ctx)
            return end_to_end([*launcher, "exec", "--no-lease", "--", *run_child, "--output-format", "stream-json"],
                              env), None, (0, 0)

        read_write_roost = [sys.executable, "-c", READ_WRITE_ROOST]

        cases.update({
            "child alone": lambda: (end_to_end(run_child, env), None, (0, 0)),
            "exec (json: inherited)": lambda: (end_to_end([roost, "exec", "--no-lease", "--", *run_child,
                                                           "--output-format", "json"], env), None, (0, 0)),
            "exec (stream-json: tap)": lambda: exec_tapped([roost]),
            "  the same, read/write loop": lambda: exec_tapped(read_write_roost),
        })
        for case in cases.values():
            case()  # warm caches
        wall: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        recorded: dict[str, tuple[int, int]] = {}
        for _ in range(args.runs):
            for name, case in cases.items():
                seconds, cpu_s, recorded[name] = case()
                wall[name].append(seconds)
                if cpu_s is not None:
                    cpu[name].append(cpu_s)
    report(args, events, wall, cpu, recorded)


PUMP_CASES = {"plain": "pass-through, no tap", "tap": "pass-through + tap", "scan": "  + tap, no recording",
              "noop": "  + a tap doing nothing",
              "rw": "read/write loop, no tap", "rw_tap": "read/write loop + tap"}
NEW_FIGURES = "  + tap, every event new"
# roost with tee+splice switched off: exec's tap through the read/write loop, for the end-to-end comparison
READ_WRITE_ROOST = ("import sys; import roost_plugins.dispatch.teepump as t; t.usable = lambda src, dst: False; "
                    "from roost_core.launch import main; sys.argv[0] = 'roost'; sys.exit(main())")


def report(args: argparse.Namespace, events: int, wall: dict[str, list[float]], cpu: dict[str, list[float]],
           recorded: dict[str, tuple[int, int]]) -> None:
    med = {name: statistics.median(v) for name, v in wall.items()}

    def pct(a: str, b: str) -> float | None:
        return round((med[a] / med[b] - 1) * 100, 2) if a in med and b in med else None

    overheads = {
        "tap_vs_plain": pct("pass-through + tap", "pass-through, no tap"),  # the goal
        "scan_only_vs_plain": pct("  + tap, no recording", "pass-through, no tap"),
        "noop_tap_vs_plain": pct("  + a tap doing nothing", "pass-through, no tap"),
        "tap_new_figures_vs_plain": pct(NEW_FIGURES, "pass-through, no tap"),
        "rw_tap_vs_rw": pct("read/write loop + tap", "read/write loop, no tap"),
        "tap_vs_rw": pct("pass-through + tap", "read/write loop, no tap"),
        "exec_tap_vs_inherited": pct("exec (stream-json: tap)", "exec (json: inherited)"),
        "exec_tap_read_write_vs_inherited": pct("  the same, read/write loop", "exec (json: inherited)"),
    }
    written, repeats = recorded["pass-through + tap"]
    written_new, repeats_new = recorded[NEW_FIGURES]
    if args.json:
        print(json.dumps({"mb": args.mb, "runs": args.runs, "rate_limit_events": events,
                          "recorded_per_pass": written, "repeats_not_written_per_pass": repeats,
                          "recorded_per_pass_every_event_new": written_new,
                          "median_s": {k: round(v, 4) for k, v in med.items()},
                          "min_s": {k: round(min(v), 4) for k, v in wall.items()},
                          "max_s": {k: round(max(v), 4) for k, v in wall.items()},
                          "median_cpu_s": {k: round(statistics.median(v), 4) for k, v in cpu.items() if v},
                          "overhead_pct": overheads, "goal_pct": GOAL_PCT,
                          "tap_overhead_pct_vs_pump": overheads["tap_vs_plain"],
                          "tap_overhead_pct_vs_inherited_exec": overheads["exec_tap_vs_inherited"]}, indent=1))
        return
    print(f"{args.mb} MB of stream-json, {events} rate_limit_event lines, {args.runs} interleaved runs, "
          "medians (min-max), CPU of this process")
    for name, values in wall.items():
        line = (f"  {name:<26} {med[name] * 1000:8.1f} ms ({min(values) * 1000:6.1f}-{max(values) * 1000:6.1f})"
                f"  {args.mb / med[name]:7.1f} MB/s")
        if cpu[name]:
            line += f"  cpu {statistics.median(cpu[name]) * 1000:6.1f} ms"
        print(line)
    goal = overheads["tap_vs_plain"]
    verdict = "met" if goal is not None and goal < GOAL_PCT else "MISSED"
    print(f"  tap vs the plain pass-through: {goal:+.2f} %  (goal < {GOAL_PCT:g} %: {verdict})")
    print(f"    the scan alone (no recording): {overheads['scan_only_vs_plain']:+.2f} %;"
          f" every event new: {overheads['tap_new_figures_vs_plain']:+.2f} %;"
          f" a tap doing nothing: {overheads['noop_tap_vs_plain']:+.2f} %")
    print(f"  read/write loop: the tap adds {overheads['rw_tap_vs_rw']:+.2f} %; exec's tapped pass-through vs the"
          f" read/write loop without a tap: {overheads['tap_vs_rw']:+.2f} %")
    print(f"  exec with the tap vs exec with inherited stdout: {overheads['exec_tap_vs_inherited']:+.2f} %"
          f" (through the read/write loop: {overheads['exec_tap_read_write_vs_inherited']:+.2f} %)")
    print(f"  readings per pass: {written} written, {repeats} repeats not written (every event new: "
          f"{written_new} written, {repeats_new} not)")

if __name__ == "__main__":
    main()
