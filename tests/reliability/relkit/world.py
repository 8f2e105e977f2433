"""RelWorld: one isolated roost world wired to the FTS, the kill points and the canary scan.

Every roost process goes through ``run``/``start``/``run_many`` so its output
is kept for the end-of-test checks (no traceback anywhere, no canary slice
anywhere, every owned file parses, 0600/0700 modes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import canary, files

HERE = Path(__file__).resolve().parent
KILLPOINTS = HERE.parent / "killpoints"
ROOST = str(Path(sys.executable).parent / "roost")
DRIVER = HERE / "driver.py"


@dataclass
class Run:
    argv: list[str]
    rc: int | None
    stdout: str
    stderr: str
    elapsed: float
    pid: int
    killed: bool = False
    started_at: float = 0.0  # time.monotonic() at spawn

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"stdout of {self.argv[1:]} is not JSON (rc={self.rc}):\n"
                                 f"{self.stdout}\n{self.stderr}") from None

    def __str__(self) -> str:
        return (f"rc={self.rc} argv={self.argv[1:]} ({self.elapsed:.2f}s)\n"
                f"stdout: {self.stdout[-800:]}\nstderr: {self.stderr[-800:]}")


@dataclass
class Proc:
    popen: subprocess.Popen
    argv: list[str]
    started: float
    world: "RelWorld"

    def finish(self, timeout: float = 60) -> Run:
        try:
            out, err = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            out, err = self.popen.communicate()
            err += f"\n[harness: killed after {timeout}s]"
        run = Run(self.argv, self.popen.returncode, out, err, time.monotonic() - self.started,
                  self.popen.pid, killed=self.popen.returncode == -signal.SIGKILL, started_at=self.started)
        self.world.runs.append(run)
        return run

    def kill(self) -> None:
        try:
            self.popen.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class RelWorld:
    roost_env: Any  # tests/conftest.py RoostEnv
    fake: Any  # relkit.fts.ReliabilityFake
    scanner: canary.Scanner = field(default_factory=canary.Scanner)
    runs: list[Run] = field(default_factory=list)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    siblings: list["RelWorld"] = field(default_factory=list)
    # Files a test made, or asked roost to make, that hold whole tokens by design (snapshots, sources).
    credential_copies: set[Path] = field(default_factory=set)
    # End-of-test checks; a test may switch one off, saying why in a comment.
    checks: dict[str, bool] = field(default_factory=lambda: {"modes": True, "tracebacks": True})

    # -- layout --------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.roost_env.root

    @property
    def profiles(self) -> Path:
        return self.roost_env.profiles

    @property
    def config(self) -> Path:
        return self.roost_env.config

    @property
    def trace_path(self) -> Path:
        return self.root / "trace.tsv"

    def creds_path(self, name: str) -> Path:
        return self.profiles / name / ".credentials.json"

    def creds_bytes(self, name: str) -> bytes:
        return self.creds_path(name).read_bytes()

    def stored_refresh(self, name: str) -> str | None:
        return json.loads(self.creds_bytes(name))["claudeAiOauth"].get("refreshToken")

    def sibling(self, name: str) -> "RelWorld":
        """Another isolated world (own tree and config) on the same FTS, checked with this one."""
        env = type(self.roost_env)(self.root / name)
        env.home.mkdir(parents=True)
        env.extra.update(self.roost_env.extra)
        world = RelWorld(env, self.fake, self.scanner, self.runs)
        self.siblings.append(world)
        return world

    # -- profiles ------------------------------------------------------------
    def profile(self, name: str, *, expires_in: float = 8 * 3600, register: bool = True,
                usage: Any = None, **kwargs: Any) -> Path:
        """A profile with random canary tokens, known to the FTS (unless ``register=False``)."""
        access, refresh = canary.new_token("access"), canary.new_token("refresh")
        self.tokens[name] = (access, refresh)
        self.scanner.add([access, refresh])
        path = self.roost_env.make_profile(name, access=access, refresh=refresh, expires_in=expires_in,
                                           **kwargs)
        if register:
            self.fake.add_account(name, access_token=access, refresh_token=refresh, usage=usage)
        return path

    # -- processes -----------------------------------------------------------
    def env(self, **overrides: str) -> dict[str, str]:
        env = self.roost_env.env()
        env["PYTHONPATH"] = str(KILLPOINTS)
        env.update(overrides)
        return env

    def start(self, *args: str, kill_at: str | None = None, pause_at: str | None = None,
              trace: bool = False, umask: int | None = None, env: dict[str, str] | None = None,
              driver: bool = False, stdin: Any = subprocess.DEVNULL,
              preexec: Callable[[], None] | None = None, wrap: list[str] | None = None,
              **overrides: str) -> Proc:
        full_env = dict(env) if env is not None else self.env(**overrides)
        if kill_at:
            full_env["ROOST_TEST_KILL_AT"] = kill_at
        if pause_at:
            full_env["ROOST_TEST_PAUSE_AT"] = pause_at
        if trace:
            full_env["ROOST_TEST_TRACE"] = str(self.trace_path)
        argv = [sys.executable, str(DRIVER), *args] if driver else [ROOST, *args]
        argv = [*(wrap or []), *argv]  # e.g. ["faketime", "+15m"]

        def before_exec() -> None:
            if umask is not None:
                os.umask(umask)
            if preexec is not None:
                preexec()

        popen = subprocess.Popen(argv, env=full_env, stdin=stdin, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 preexec_fn=before_exec if (umask is not None or preexec) else None)
        return Proc(popen, argv, time.monotonic(), self)

    def run(self, *args: str, timeout: float = 60, **kwargs: Any) -> Run:
        return self.start(*args, **kwargs).finish(timeout)

    def run_many(self, argvs: list[list[str]], timeout: float = 120, **kwargs: Any) -> list[Run]:
        """Start all, then collect each on its own thread (so each elapsed time ends at its exit)."""
        from concurrent.futures import ThreadPoolExecutor

        procs = [self.start(*argv, **kwargs) for argv in argvs]
        with ThreadPoolExecutor(max_workers=len(procs) or 1) as pool:
            return list(pool.map(lambda proc: proc.finish(timeout), procs))

    # -- invariants ----------------------------------------------------------
    def tracebacks(self) -> list[Run]:
        return [r for r in self.runs if "Traceback" in r.stderr or "Traceback" in r.stdout]

    def leaks(self, extra_texts: list[tuple[str, str]] = (), runs: bool = True) -> list[canary.Hit]:
        """Canary slices in any output, any file roost keeps (credentials copies aside)."""
        self.scanner.add(self.fake.issued)
        hits = []
        for run in self.runs if runs else ():
            hits += self.scanner.scan_text(run.stdout, f"stdout of {run.argv[1:4]}")
            hits += self.scanner.scan_text(run.stderr, f"stderr of {run.argv[1:4]}")
        for where, text in extra_texts:
            hits += self.scanner.scan_text(text, where)
        def skip(path: Path) -> bool:
            return canary.is_credentials_copy(path) or path in self.credential_copies

        for root in (self.config, self.profiles, self.roost_env.home):
            if root.exists():
                hits += self.scanner.scan_tree(root, skip=skip)
        return hits

    def owned_dirs(self) -> list[Path]:
        dirs = [self.config] if self.config.exists() else []
        if self.profiles.is_dir():
            dirs += [p for p in self.profiles.iterdir() if p.is_dir() and not p.is_symlink()]
        return dirs

    def check(self, *, modes: bool = True, tracebacks: bool = True, runs: bool = True) -> None:
        """The assertions after every reliability test (siblings: their files only)."""
        if tracebacks:
            bad = self.tracebacks()
            assert not bad, "traceback in roost output:\n" + "\n".join(map(str, bad[:3]))
        problems = files.parse_problems(self.config, self.profiles)
        assert not problems, "unparsable files:\n" + "\n".join(problems)
        if modes:
            problems = files.mode_problems(self.owned_dirs())
            assert not problems, "wrong modes:\n" + "\n".join(problems)
        for world in self.siblings:
            world.check(modes=modes, tracebacks=False, runs=False)
        hits = self.leaks(runs=runs)
        assert not hits, "canary slices leaked:\n" + "\n".join(map(str, hits[:10]))
