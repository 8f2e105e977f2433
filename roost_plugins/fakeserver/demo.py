"""``roost demo``: roost at work on a scripted fleet, in one command, touching nothing real.

It starts the package's fake Anthropic on 127.0.0.1, writes six profiles
into a temporary profiles tree (config dir and HOME are temporary too), and
runs what a user would, each as a real ``roost`` subprocess pointed at the
fake: status, pick --explain, exec --dry-run, a refresh, a few probes with
the usage log on, and report --sparkline. Everything is deleted at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

from roost_core.api import hookimpl
from roost_core.api import json_option, pass_roost

STEP_TIMEOUT_S = 60.0
HOUR_MS = 3600 * 1000
SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code"]


@dataclass(frozen=True)
class DemoProfile:
    """One scripted account: what the fake answers for it and why it is in the fleet."""

    name: str
    plan: str
    story: str
    usage: dict[str, Any]  # a fakeserver Scenario as data (Scenario.to_dict form)
    expires_in_h: float = 8.0


FLEET: tuple[DemoProfile, ...] = (
    DemoProfile("max-overage", "max", "healthy Max plan with pay-as-you-go overage on",
                {"kind": "ok", "session": 14.0, "weekly": 38.0, "sonnet": 22.0, "opus": 9.0, "overage": 35.0}),
    DemoProfile("max-busy", "max", "near its 5-hour session limit",
                {"kind": "ok", "session": 93.0, "weekly": 61.0}),
    DemoProfile("max-weekly", "max", "weekly limit exhausted",
                {"kind": "weekly_exhausted", "session": 30.0}),
    DemoProfile("max-expired", "max", "access token expired 2h ago, refresh token still good",
                {"kind": "ok", "session": 5.0, "weekly": 18.0}, expires_in_h=-2.0),
    DemoProfile("max-dead", "max", "login revoked: the usage endpoint answers 401",
                {"kind": "invalid_credentials"}),
    DemoProfile("pro", "pro", "Pro plan: healthy, but no usage data (403 scope answer)",
                {"kind": "forbidden_scope"}),
)

# The fake's numbers climb between the probe rounds, as if time passed.
CLIMB: dict[str, Callable[[int], dict[str, Any]]] = {
    "max-overage": lambda i: {"kind": "ok", "session": 14.0 + 9 * i, "weekly": 38.0 + 4 * i, "sonnet": 22.0 + 3 * i,
                              "opus": 9.0 + i, "overage": 35.0 + 6 * i},
    "max-busy": lambda i: {"kind": "ok", "session": 93.0 + 2 * i, "weekly": 61.0 + 3 * i},
    "max-expired": lambda i: {"kind": "ok", "session": 5.0 + 7 * i, "weekly": 18.0 + 2 * i},
}
PROBE_ROUNDS = 3


@dataclass
class Step:
    args: tuple[str, ...]
    why: str
    before: Callable[[Any], None] | None = None
    expect: int = 0


@dataclass
class StepResult:
    command: str
    rc: int
    expected_rc: int
    duration_s: float
    output: Any = None
    stdout: str | None = None

    @property
    def ok(self) -> bool:
        return self.rc == self.expected_rc

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "rc": self.rc, "expected_rc": self.expected_rc, "ok": self.ok,
                "duration_s": round(self.duration_s, 3), "output": self.output, "stdout": self.stdout}


@dataclass
class DemoWorld:
    """The temporary tree and the environment every step runs in."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"


def _token(kind: str, name: str) -> str:
    prefix = "sk-ant-oat01-" if kind == "access" else "sk-ant-ort01-"
    return f"{prefix}demo-{name}-{secrets.token_urlsafe(18)}"


def _write_profile(world: DemoWorld, profile: DemoProfile, access: str, refresh: str, now: float) -> None:
    from roost_core.api import atomic_write, ensure_private_dir

    oauth = {"accessToken": access, "refreshToken": refresh,
             "expiresAt": int(now * 1000 + profile.expires_in_h * HOUR_MS), "scopes": SCOPES,
             "subscriptionType": profile.plan, "rateLimitTier": f"default_claude_{profile.plan}"}
    directory = ensure_private_dir(ensure_private_dir(world.profiles) / profile.name)
    atomic_write(directory / ".credentials.json", (json.dumps({"claudeAiOauth": oauth}, indent=2) + "\n").encode(),
                 0o600)


def build_world(root: Path, fake: Any, now: float) -> DemoWorld:
    """Profiles on disk, accounts at the fake, and a child environment confined to ``root``."""
    import site

    from roost_plugins.fakeserver import Scenario

    world = DemoWorld(root)
    for profile in FLEET:
        access, refresh = _token("access", profile.name), _token("refresh", profile.name)
        fake.add_account(profile.name, access_token=access, refresh_token=refresh,
                         usage=Scenario.from_dict(profile.usage))
        _write_profile(world, profile, access, refresh, now)
    (root / "home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_", "_ROOST_")) and k not in ("XDG_CONFIG_HOME", "AXIOM_CLAUDE_PROFILE")}
    env.setdefault("PYTHONUSERBASE", site.getuserbase())  # keep a --user install importable under a fake HOME
    env.update({"HOME": str(root / "home"), "XDG_CONFIG_HOME": str(root / "config"),
                "APPDATA": str(root / "config"), "LOCALAPPDATA": str(root / "config"),
                "CLAUDE_LB_PROFILES_DIR": str(world.profiles), "CLAUDE_LB_USAGE_LOG": "1", **fake.env()})
    world.env = env
    return world


def _climb(round_no: int) -> Callable[[Any], None]:
    def apply(fake: Any) -> None:
        from roost_plugins.fakeserver import Scenario

        for name, usage in CLIMB.items():
            fake.set_chain_usage(name, Scenario.from_dict(usage(round_no)))

    return apply


def steps() -> list[Step]:
    plan = [
        Step(("status",), "Every profile's health at a glance (a cold cache, so roost probes first)."),
        Step(("pick", "--explain"), "Which profile should the next job use, and why."),
        Step(("exec", "--dry-run", "--", "claude", "--help"),
             "What `roost exec` would run: the picked profile goes into the child's environment."),
        Step(("refresh", "max-expired"), "Renew the expired login with its refresh token."),
    ]
    plan += [Step(("probe",), f"Live probe, round {i} of {PROBE_ROUNDS} (usage log on; the fake's numbers "
                  "climb between rounds, as if time passed).", before=_climb(i))
             for i in range(1, PROBE_ROUNDS + 1)]
    plan.append(Step(("report", "--sparkline"), "The usage log, summarised per profile with a trend line."))
    return plan


def _with_json(args: tuple[str, ...]) -> list[str]:
    if "--" in args:
        cut = args.index("--")
        return [*args[:cut], "--json", *args[cut:]]
    return [*args, "--json"]


def run_step(step: Step, world: DemoWorld, json_mode: bool, say: Callable[[str], None]) -> StepResult:
    shown = "roost " + " ".join(step.args)
    say(f"\n# {step.why}\n$ {shown}")
    argv = [sys.executable, "-m", "roost_core", *(_with_json(step.args) if json_mode else step.args)]
    started = time.monotonic()
    sys.stdout.flush()
    try:
        proc = subprocess.run(argv, env=world.env, cwd=world.root, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE if json_mode else None, text=True, timeout=STEP_TIMEOUT_S)
        rc, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired:
        rc, out = 124, None
        say(f"roost demo: `{shown}` did not finish in {STEP_TIMEOUT_S:g}s")
    result = StepResult(shown, rc, step.expect, time.monotonic() - started)
    if json_mode and out:
        try:
            result.output = json.loads(out)
        except ValueError:
            result.stdout = out[-4000:]
    if not result.ok:
        say(f"roost demo: `{shown}` exited {rc} (expected {step.expect})")
    return result


def _intro(fake: Any) -> str:
    rows = "\n".join(f"  {p.name:<12} {p.plan:<4} {p.story}" for p in FLEET)
    return (f"roost demo: a fake Anthropic is listening on {fake.base_url}, and a temporary profiles tree\n"
            f"holds six scripted accounts (nothing outside that temporary directory is read or written):\n{rows}")


def run_demo(json_mode: bool, say: Callable[[str], None]) -> tuple[list[StepResult], str]:
    from roost_plugins.fakeserver import FakeAnthropic

    with tempfile.TemporaryDirectory(prefix="roost-demo-") as tmp, FakeAnthropic() as fake:
        world = build_world(Path(tmp), fake, time.time())
        say(_intro(fake))
        results = []
        for step in steps():
            if step.before is not None:
                step.before(fake)
            results.append(run_step(step, world, json_mode, say))
        return results, fake.base_url


@click.command("demo")
@json_option
@pass_roost
def demo_cmd(rctx: Any) -> None:
    """Run roost against a local fake Anthropic with a scripted fleet (touches nothing real).

    With --json each step runs with --json too, and the summary envelope holds their outputs."""
    from roost_core.api import RoostError

    results, server = run_demo(rctx.out.json_mode, rctx.out.say)
    failed = [r.command for r in results if not r.ok]
    data = {"server": server, "fleet": [{"name": p.name, "plan": p.plan, "story": p.story} for p in FLEET],
            "steps": [r.to_dict() for r in results]}
    meta = {"ok": not failed, "steps": len(results), "failed": len(failed)}
    if failed:
        raise RoostError(f"demo: {len(failed)} of {len(results)} step(s) failed: {', '.join(failed)}",
                         details=data)
    rctx.out.say(f"\nroost demo: all {len(results)} steps ran; the temporary directory and the fake server are gone.\n"
                 "Next, with your real accounts: `claude login`, `roost add NAME`, `roost status`, `roost doctor`.")
    rctx.out.emit(data, meta)


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(demo_cmd)
