"""N roost "machines" on one box: separate HOME, config and profiles dirs, one Redis.

Each machine runs the real ``roost`` executable with its own
``config.toml`` selecting the redis backend, so nothing local (filelocks,
mirrors, journals) is shared: only the store is.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from roostkit import ROOST, RoostEnv, canary  # noqa: F401 (canary: re-exported for the tests)


@dataclass(kw_only=True)
class Machine(RoostEnv):
    """A RoostEnv (``extra`` = the fake Anthropic's variables) whose config.toml selects the store."""

    label: str
    redis_url: str
    key_file: Path
    redis_options: dict[str, Any] = field(default_factory=dict)

    def setup(self) -> "Machine":
        self.home.mkdir(parents=True, exist_ok=True)
        self.profiles.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.write_config()
        return self

    def write_config(self) -> None:
        # Generous timeouts: CI boxes get loaded; tests of the timeouts set their own.
        options = {"url": self.redis_url, "key_file": str(self.key_file), "lock_ttl": "3s",
                   "restore_hold": "0", "timeout": "3s", "connect_timeout": "3s", "retries": 0,
                   **self.redis_options}
        lines = ["[state]", 'backend = "redis"', "", "[state.redis]"]
        for key, value in options.items():
            lines.append(f"{key} = {json.dumps(value)}")
        (self.config / "config.toml").write_text("\n".join(lines) + "\n")

    def context(self, **env: str) -> Any:
        """A RoostContext of this machine, in process (what its roost commands build)."""
        from roost_core.context import RoostContext
        from roost_core.output import Output

        return RoostContext(env=self.env(**env), out=Output(quiet=True))

    def backend(self) -> Any:
        """This machine's state backend, in process (what its roost commands open)."""
        return self.context().state

    def profile(self, name: str) -> Any:
        from roost_core.records import Profile

        return Profile(name, self.profiles / name)

    def hooks(self, stop_at: str | None = None, *, kill: bool = False, mark: Path | None = None,
              hostname: str | None = None) -> dict[str, str]:
        """Environment for fleetkit/hooks/sitecustomize.py (stop points, a hostname of its own)."""
        env = {"PYTHONPATH": str(Path(__file__).parent / "hooks"),
               "ROOST_SCALEOUT_HOSTNAME": hostname or f"host-{self.label}"}
        if stop_at:
            env.update(ROOST_SCALEOUT_STOP_AT=stop_at, ROOST_SCALEOUT_STOP_SIGNAL="KILL" if kill else "STOP",
                       ROOST_SCALEOUT_MARK=str(mark or self.root / "stop.mark"))
        return env

    def popen(self, *args: str, **overrides: str) -> subprocess.Popen:
        return subprocess.Popen([ROOST, *args], env=self.env(**overrides), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@dataclass
class Fleet:
    root: Path
    redis_url: str
    key_file: Path
    fake: Any
    machines: list[Machine] = field(default_factory=list)

    def add(self, label: str, **redis_options: Any) -> Machine:
        machine = Machine(root=self.root / f"machine-{label}", extra=self.fake.env(), label=label,
                          redis_url=self.redis_url, key_file=self.key_file, redis_options=redis_options).setup()
        self.machines.append(machine)
        return machine

    def seed(self, first: Machine, *names: str, cli: bool = False, expires_in: float = 8 * 3600) -> None:
        """A fleet with ``names`` in the store: ``first`` imports them, the others sync.

        ``cli=True`` does it with the roost commands a person would type; the
        default does the same through each machine's own backend in process
        (the real plugin factory and config.toml, minus the process start-ups).
        """
        for name in names:
            first.make_profile(name, expires_in=expires_in)
            self.fake.add_account(name, access_token=canary("access", name),
                                  refresh_token=canary("refresh", name))
        if cli:
            check(first.run("state", "init"))
            check(first.run("state", "sync"))  # nothing in the store yet: a no-op
            for name in names:
                check(first.run("show", name))  # the first read imports the login into the store
            for machine in self.machines:
                if machine is not first:
                    check(machine.run("state", "sync"))
            return
        from roost_redis.restore import init_store

        init_store(first.backend())
        for machine in [first, *(m for m in self.machines if m is not first)]:
            backend = machine.backend()
            for name in names:
                backend.read_credentials(machine.profile(name))


def check(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def wait_for_lease(redis: Any, child: subprocess.Popen, timeout: float = 20.0) -> None:
    """Until some machine's exec has its lease in the store (the child must stay alive)."""
    store, deadline = redis.client(), time.monotonic() + timeout
    while not store.zcard("roost:leases"):
        assert time.monotonic() < deadline and child.poll() is None, "the exec never took its lease"
        time.sleep(0.05)


@contextlib.contextmanager
def rotation_no_replica_confirms(machine: Machine, cluster: Any, profile: str = "p") -> Iterator[tuple[str, str]]:
    """``machine`` refreshes ``profile``, paused right after its POST; the replica is stopped before
    the commit (whose WAIT then falls short) and resumed on leaving. Yields the refresh's (stdout, stderr)
    once it has finished with exit 0 and said no replica confirmed it."""
    import os
    import signal

    mark = machine.root / "stop.mark"
    proc = machine.popen("refresh", profile, "--json", **machine.hooks("journal", mark=mark))
    deadline = time.monotonic() + 30
    while not (mark.exists() and mark.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    replica = cluster.replica()
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "no replica confirmed" in err, err
        yield out, err
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
