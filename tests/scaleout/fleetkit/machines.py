"""N roost "machines" on one box: separate HOME, config and profiles dirs, one Redis.

Each machine runs the real ``roost`` executable with its own
``config.toml`` selecting the redis backend, so nothing local (filelocks,
mirrors, journals) is shared: only the store is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOST = str(Path(sys.executable).parent / "roost")


def canary(kind: str, name: str) -> str:
    prefix = "sk-ant-oat01-" if kind == "access" else "sk-ant-ort01-"
    return f"{prefix}{kind[:3]}{name}CANARY" + "x" * 24


@dataclass
class Machine:
    label: str
    root: Path
    redis_url: str
    key_file: Path
    fake_env: dict[str, str]
    redis_options: dict[str, Any] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def config(self) -> Path:
        return self.root / "xdg" / "claude-lb"

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

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CLAUDE_") and k not in ("XDG_CONFIG_HOME", "NO_COLOR")}
        env.update({"HOME": str(self.home), "CLAUDE_LB_PROFILES_DIR": str(self.profiles),
                    "XDG_CONFIG_HOME": str(self.root / "xdg"), "COLUMNS": "120"})
        env.update(self.fake_env)
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def make_profile(self, name: str, *, access: str | None = None, refresh: str | None = None,
                     expires_in: float = 8 * 3600) -> Path:
        directory = self.profiles / name
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        oauth = {"accessToken": access or canary("access", name), "refreshToken": refresh or canary("refresh", name),
                 "expiresAt": int((time.time() + expires_in) * 1000),
                 "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
                 "subscriptionType": "max", "rateLimitTier": "default_claude_max_20x"}
        path = directory / ".credentials.json"
        path.write_text(json.dumps({"claudeAiOauth": oauth, "mcpOAuth": {"keep": "me"}}, indent=2))
        os.chmod(path, 0o600)
        return path

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

    def local_credentials(self, name: str) -> dict[str, Any]:
        return json.loads((self.profiles / name / ".credentials.json").read_text())

    def argv(self, *args: str) -> list[str]:
        return [ROOST, *args]

    def run(self, *args: str, timeout: float = 60, input: str | None = None,
            **overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), env=self.env(**overrides), capture_output=True, text=True,
                              timeout=timeout, input=input)

    def popen(self, *args: str, **overrides: str) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), env=self.env(**overrides), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run_json(self, *args: str, **kwargs: Any) -> tuple[int, Any]:
        proc = self.run(*args, *([] if "--json" in args else ["--json"]), **kwargs)
        assert "Traceback" not in proc.stderr, proc.stderr
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"[{self.label}] stdout is not JSON (rc={proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}") from None


@dataclass
class Fleet:
    root: Path
    redis_url: str
    key_file: Path
    fake: Any
    machines: list[Machine] = field(default_factory=list)

    def add(self, label: str, **redis_options: Any) -> Machine:
        machine = Machine(label, self.root / f"machine-{label}", self.redis_url, self.key_file,
                          self.fake.env(), redis_options).setup()
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
