"""Run many roost commands in-process over corrupted copies of one world (F8, G5).

    python matrix.py JOBS.json RESULTS.json

JOBS: {"template": DIR, "scratch": DIR, "env": {...}, "cases": [{"id", "file",
"kind", "argv"}]}. For each case: copy the template world, corrupt ``file``
(a path relative to the world) with ``kind``, run the real CLI in this
process (``cli.main``, the same code path as the executable, at ~1/20 of the
cost of a process), and record the exit code, both outputs and what happened
to the file. Tracebacks cannot hide in-process: an exception that escapes a
command becomes exit 1 ("unexpected ..."), which the test flags.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path


def corrupt(path: Path, kind: str) -> None:
    """Damage ``path`` (a file of the template world) in one of the G5 ways."""
    original = path.read_bytes() if path.is_file() else b'{"a": 1}\n'
    if kind.startswith("json:"):  # a generated document (stress tier)
        path.write_text(kind[5:])
        return
    if kind in ("directory", "symlink_loop"):
        path.unlink(missing_ok=True)
        if kind == "directory":
            path.mkdir()
        else:
            path.symlink_to(path.name)
        return
    data = {
        "empty": b"",
        "truncated": original[: max(1, len(original) // 2)],
        "garbage": bytes(range(256)) * 8,
        "not_object": b"[1, 2, 3]\n",
        "wrong_types": wrong_types(path.name),
        "nan": b'{"version": NaN, "x": Infinity}\n',
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "huge": b"",  # made sparse below: over the 16 MiB cap without writing 17 MiB per case
        "bad_utf8": b'{"a": "\xff\xfe\xfd"}\n',
        "nul": b"\x00" * 256,
        "torn_tail": original + b"2026-01-01T00:00:00.000Z\tpi",
    }[kind]
    path.write_bytes(data)
    if kind == "huge":
        with open(path, "r+b") as handle:
            handle.write(b'{"pad": "')
            handle.truncate(17 << 20)


def wrong_types(name: str) -> bytes:
    """Valid JSON objects whose inner shapes are wrong for this file."""
    return {
        ".credentials.json": b'{"claudeAiOauth": {"accessToken": 5, "refreshToken": ["x"], "expiresAt": "soon"}}\n',
        "health.json": b'{"version": "1", "profiles": {"p": 5, "q": {"record": [1]}}, "probes": 7}\n',
        "last-pick.json": b'{"name": 5, "at": {"no": 1}, "strategy": []}\n',
        "leases.json": b'{"leases": {"x": {"profile": 5, "pid": "1", "expires_at": "never"}, "y": 3}}\n',
        "platform-status.json": b'{"indicator": 5, "fetched_at": [], "components": "x"}\n',
        "refreshes.json": b'{"version": 1, "files": {"a": 1, "b": {"at": "x"}}}\n',
        "picks.log": b"\t\t\t\t\t\t\t\t\nnot\ta\tline\n",
        "config.toml": b'strategy = 5\ntimeout = "soon"\n[endpoints]\ntoken_url = 3\n',
    }.get(name, b'{"x": [1, {"y": null}]}\n')


@contextlib.contextmanager
def recording_opens(opened: set[str], world: Path):
    """Collect every path under ``world`` this process opens (to learn which command reads what)."""
    import builtins

    raw_open, raw_io_open, raw_os_open = builtins.open, io.open, os.open
    root = str(world) + os.sep

    def note(path) -> None:
        if isinstance(path, (str, bytes, os.PathLike)):
            text = os.fsdecode(os.fspath(path))
            if text.startswith(root):
                opened.add(text[len(root):])

    def wrapped_open(file, *args, **kwargs):
        note(file)
        return raw_open(file, *args, **kwargs)

    def wrapped_os_open(path, *args, **kwargs):
        note(path)
        return raw_os_open(path, *args, **kwargs)

    builtins.open = io.open = wrapped_open
    os.open = wrapped_os_open
    try:
        yield
    finally:
        builtins.open, io.open, os.open = raw_open, raw_io_open, raw_os_open


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def run_cli(argv: list[str], env: dict[str, str], trace_opens: bool = False, world: Path | None = None) -> dict:
    """One in-process CLI run: exit code, outputs, (optionally) the files it opened under ``world``."""
    from roost_core.cli import cli
    from roost_core.context import RoostContext
    from roost_core.output import Output

    os.environ.clear()
    os.environ.update(env)
    started = time.monotonic()
    out, err = io.StringIO(), io.StringIO()
    opened: set[str] = set()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            (recording_opens(opened, world) if trace_opens else contextlib.nullcontext()):
        rctx = RoostContext(env=dict(env), out=Output(stdout=out, stderr=err))
        try:
            rc = cli.main(args=argv, prog_name="roost", standalone_mode=False, obj=rctx)
        except SystemExit as exc:  # a command that exits on its own
            rc = exc.code if isinstance(exc.code, int) else 1
    return {"rc": rc, "stdout": out.getvalue()[-2000:], "stderr": err.getvalue()[-2000:],
            "seconds": time.monotonic() - started, "opened": sorted(opened)}


def run_case(case: dict, template: Path, scratch: Path, base_env: dict[str, str]) -> dict:
    """Copy the template, damage one file (``kind``), run ``argv`` or each of ``steps``."""
    world = scratch / case["id"]
    shutil.copytree(template, world, symlinks=True)
    target = world / case["file"]
    if case.get("kind"):
        corrupt(target, case["kind"])
    before = digest(target)
    env = {k: v.replace("{WORLD}", str(world)) for k, v in {**base_env, **case.get("env", {})}.items()}
    steps = case.get("steps") or [case["argv"]]
    runs = [run_cli([a.replace("{WORLD}", str(world)) for a in argv], env, case.get("trace_opens", False), world)
            for argv in steps]
    result = dict(runs[-1], id=case["id"], steps=[{"rc": r["rc"], "stdout": r["stdout"], "stderr": r["stderr"]}
                                                  for r in runs])
    result.update(before=before, after=digest(target), is_dir_after=target.is_dir() and not target.is_symlink(),
                  temps=[str(p.relative_to(world)) for p in world.rglob("*.roost-tmp")])
    if case.get("list_files"):
        result["files"] = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*")
                                 if not str(p.relative_to(scratch)).startswith(case["id"] + "/home"))
    shutil.rmtree(world, ignore_errors=True)
    return result


def main(argv: list[str]) -> int:
    jobs = json.loads(Path(argv[0]).read_text())
    template, scratch = Path(jobs["template"]), Path(jobs["scratch"])
    scratch.mkdir(parents=True, exist_ok=True)
    results = []
    for case in jobs["cases"]:
        results.append(run_case(case, template, scratch, jobs["env"]))
    Path(argv[1]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
