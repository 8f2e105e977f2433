"""roost's test kit for plugin authors: a pytest plugin (entry point ``pytest11``, name ``roost``).

Installing roost makes these fixtures available to every pytest session, with
no conftest and no import:

``roost_fake``
    A running fake Anthropic on 127.0.0.1: usage, token and status endpoints,
    scripted per token, with request counters (``count``, ``count_token``,
    ``token_posts``...).
``roost_sandbox``
    A :class:`Sandbox`: its own HOME, profiles tree and config dir, every
    endpoint pointing at ``roost_fake``. ``make_profile(name, usage=...)``
    writes a login and scripts its usage; ``write_config(text)`` writes
    config.toml; ``run(*args)`` runs the real ``roost``.
``roost_run``
    ``roost_sandbox.run``: the real ``roost`` executable in the sandbox, with
    the plugin under test installed.
``roost_plugin_under_test``
    The :class:`PluginUnderTest` found from the nearest ``pyproject.toml``
    above the test file (its ``roost.plugins`` entry points). Not installed in
    the environment? The kit writes a throwaway ``*.dist-info`` and puts it and
    the package's source on the subprocess's PYTHONPATH: no pip, no venv.
    Override the fixture to test something else.

``make_host(*plugins)`` builds an in-process plugin host holding just the
given plugins, for unit tests of one hook.

Nothing heavy is imported at module top: pytest loads this module in every
session of an environment where roost is installed. ``Scenario``,
``TokenBehaviour`` and ``FakeAnthropic`` are re-exported lazily.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_FAKESERVER = "roost_plugins.fakeserver"
_LAZY = {"Scenario", "TokenBehaviour", "FakeAnthropic", "Reply"}
# Variables of the caller that would leak the real world into a sandbox.
_SCRUBBED = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "APPDATA", "LOCALAPPDATA",
             "NO_COLOR", "AXIOM_CLAUDE_PROFILE")  # the last: tests run inside `roost exec` too


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_FAKESERVER), name)
    raise AttributeError(f"module 'roost_core.testing' has no attribute {name!r}")


def roost_command() -> list[str]:
    """The real ``roost``: the console script beside this interpreter, else ``python -m roost_core``."""
    script = Path(sys.executable).parent / ("roost.exe" if os.name == "nt" else "roost")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "roost_core"]


def fake_token(kind: str, name: str) -> str:
    """A token-shaped string unique to a profile (a test can scan output for its slices). It holds a
    digest of the name, not the name: roost cuts any 8-character run of a token from its output, so a
    token spelling the profile's name would hide that name wherever roost prints it."""
    import hashlib

    prefix = "sk-ant-oat01-" if kind == "access" else "sk-ant-ort01-"
    return f"{prefix}{kind[:3]}-{hashlib.sha256(name.encode()).hexdigest()[:20]}-kit" + "x" * 24


def make_host(*plugins: Any, disabled: tuple[str, ...] = ()) -> Any:
    """A plugin host holding only ``plugins`` (modules or objects with ``@hookimpl`` methods), with no
    entry-point discovery: for in-process tests of one hook (``host.registry("strategy")``)."""
    from roost_core.plugins import PluginHost

    return PluginHost(disabled=disabled, entries=[],
                      plugins=[(getattr(p, "__name__", None) or f"plugin-{i}", p) for i, p in enumerate(plugins)])


@dataclass(frozen=True)
class PluginUnderTest:
    """A distribution's ``roost.plugins`` entry points and where its code lives."""

    dist: str
    entry_points: dict[str, str]
    source_root: Path

    @property
    def installed(self) -> bool:
        from importlib import metadata

        try:
            metadata.distribution(self.dist)
        except metadata.PackageNotFoundError:
            return False
        return True

    def python_path(self, workdir: Path) -> list[str]:
        """PYTHONPATH entries that make roost see this plugin (none when pip installed it)."""
        if self.installed:
            return []
        stem = re.sub(r"[-_.]+", "_", self.dist).lower()
        info = workdir / f"{stem}-0.0.0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {self.dist}\nVersion: 0.0.0\n")
        lines = "".join(f"{name} = {value}\n" for name, value in self.entry_points.items())
        (info / "entry_points.txt").write_text(f"[roost.plugins]\n{lines}")
        return [str(workdir), str(self.source_root)]


def find_plugin_under_test(start: Path) -> PluginUnderTest | None:
    """The project of the nearest ``pyproject.toml`` at or above ``start``, if it declares roost plugins."""
    import tomllib

    for directory in [start, *start.parents]:
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = data.get("project", {})
        entry_points = project.get("entry-points", {}).get("roost.plugins", {})
        if not entry_points:
            return None
        where = data.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {}).get("where")
        if where:
            root = directory / where[0]
        else:
            root = directory / "src" if (directory / "src").is_dir() else directory
        return PluginUnderTest(project.get("name", directory.name), dict(entry_points), root)
    return None


@dataclass
class RoostResult:
    """One finished ``roost`` run."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """stdout parsed as JSON (the ``{data, meta}`` or ``{error, meta}`` envelope with ``--json``)."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"stdout of roost {' '.join(self.args)} is not JSON "
                                 f"(rc={self.returncode}):\n{self.stdout}\n{self.stderr}") from None


@dataclass
class SandboxTree:
    """Where a sandbox under ``root`` keeps its HOME, profiles tree, config dir and data dir."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def config(self) -> Path:
        return self.root / "xdg" / "claude-lb"

    @property
    def data(self) -> Path:
        """The data dir (``$XDG_DATA_HOME/claude-lb``): removed profiles' kept files."""
        return self.root / "xdg-data" / "claude-lb"


@dataclass
class Sandbox(SandboxTree):
    """An isolated roost world under one directory, talking to one fake Anthropic."""

    fake: Any = None  # FakeAnthropic
    python_path: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a sandboxed roost: the caller's, minus anything naming real files."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_") and k not in _SCRUBBED}
        env.update({
            "HOME": str(self.home), "USERPROFILE": str(self.home), "APPDATA": str(self.root / "appdata"),
            "LOCALAPPDATA": str(self.root / "localappdata"),
            "XDG_CONFIG_HOME": str(self.root / "xdg"), "XDG_DATA_HOME": str(self.root / "xdg-data"),
            "XDG_STATE_HOME": str(self.root / "xdg-state"), "XDG_CACHE_HOME": str(self.root / "xdg-cache"),
            "CLAUDE_LB_PROFILES_DIR": str(self.profiles), "COLUMNS": "120",
            # Unreachable unless a fake is attached: a test never reaches the internet.
            "CLAUDE_LB_API_BASE": "http://127.0.0.1:9",
            "CLAUDE_LB_TOKEN_URL": "http://127.0.0.1:9/v1/oauth/token",
            "CLAUDE_LB_STATUS_URL": "http://127.0.0.1:9/api/v2/summary.json",
        })
        if self.fake is not None:
            env.update(self.fake.env())
        if self.python_path:
            env["PYTHONPATH"] = os.pathsep.join([*self.python_path, *filter(None, [env.get("PYTHONPATH")])])
        env.update(self.extra)
        env.update(overrides)
        return env

    def make_profile(self, name: str, *, usage: Any = None, expires_in: float = 8 * 3600,
                     plan: str | None = "max", access: str | None = None, refresh: str | None = None) -> Path:
        """Write ``<tree>/<name>/.credentials.json`` (0600) and script its usage on the fake.

        ``usage`` is a ``Scenario``, a dict of ``Scenario.ok`` arguments
        (``{"session": 30, "weekly": 98}``), or None for a healthy default.
        """
        access = access or fake_token("access", name)
        refresh = refresh or fake_token("refresh", name)
        directory = self.profiles / name
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        oauth = {"accessToken": access, "refreshToken": refresh,
                 "expiresAt": int((time.time() + expires_in) * 1000),
                 "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
                 "subscriptionType": plan, "rateLimitTier": "default_claude_max_20x"}
        path = directory / ".credentials.json"
        path.write_text(json.dumps({"claudeAiOauth": oauth}, indent=2))
        os.chmod(path, 0o600)
        if self.fake is not None:
            from roost_plugins.fakeserver import Scenario

            scenario = Scenario.ok(**usage) if isinstance(usage, dict) else (usage or Scenario.ok())
            self.fake.add_account(name, access_token=access, refresh_token=refresh, usage=scenario)
        return path

    def credentials(self, name: str) -> dict[str, Any]:
        return json.loads((self.profiles / name / ".credentials.json").read_text())

    def write_config(self, text: str) -> Path:
        """Write ``<config dir>/config.toml``."""
        self.config.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.config / "config.toml"
        path.write_text(text)
        return path

    def run(self, *args: str, input: str | None = None, timeout: float = 60, **env: str) -> RoostResult:
        """Run the real ``roost`` with ``args``; keyword arguments are extra environment variables."""
        proc = subprocess.run([*roost_command(), *args], env=self.env(**env), input=input,
                              capture_output=True, text=True, timeout=timeout, cwd=self.root)
        return RoostResult(list(args), proc.returncode, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def roost_fake():
    """A running fake Anthropic on 127.0.0.1 (usage, token and status endpoints)."""
    from roost_plugins.fakeserver import FakeAnthropic

    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def roost_plugin_under_test(request: pytest.FixtureRequest) -> PluginUnderTest | None:
    """The plugin whose tests are running (nearest pyproject.toml declaring ``roost.plugins``)."""
    return find_plugin_under_test(Path(request.path).parent)


@pytest.fixture
def roost_sandbox(tmp_path: Path, roost_fake, roost_plugin_under_test) -> Sandbox:
    """An isolated roost world pointed at ``roost_fake``, with the plugin under test installed."""
    python_path = roost_plugin_under_test.python_path(tmp_path / "site") if roost_plugin_under_test else []
    sandbox = Sandbox(tmp_path / "world", roost_fake, python_path)
    sandbox.home.mkdir(parents=True)
    return sandbox


@pytest.fixture
def roost_run(roost_sandbox: Sandbox):
    """``roost_run(*args, **env) -> RoostResult``: the real ``roost`` in ``roost_sandbox``."""
    return roost_sandbox.run
