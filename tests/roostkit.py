"""Helpers shared by roost's test suites (importable as ``roostkit``; conftest holds only fixtures).

An isolated roost environment, canary tokens, the real executable's path,
throwaway plugin venvs and a settable clock.
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

from roost_core.testing import SandboxTree


ROOST = str(Path(sys.executable).parent / "roost")
TOKEN_PREFIX_ACCESS = "sk-ant-oat01-"
TOKEN_PREFIX_REFRESH = "sk-ant-ort01-"


def canary(kind: str, name: str) -> str:
    """A recognisable 40+ character fake token (reliability tests scan for its slices)."""
    prefix = TOKEN_PREFIX_ACCESS if kind == "access" else TOKEN_PREFIX_REFRESH
    return f"{prefix}{kind[:3]}{name}CANARY" + "x" * 24


@dataclass
class RoostEnv(SandboxTree):
    """An isolated roost world rooted at a tmp dir (the kit's tree layout)."""

    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CLAUDE_") and k not in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "LOCALAPPDATA",
                                                            "NO_COLOR")}
        env.update({
            "HOME": str(self.home),
            "CLAUDE_LB_PROFILES_DIR": str(self.profiles),
            "XDG_CONFIG_HOME": str(self.root / "xdg"),
            "XDG_DATA_HOME": str(self.root / "xdg-data"),  # removed profiles' files: never the real home's
            "LOCALAPPDATA": str(self.root / "localappdata"),
            "COLUMNS": "120",
            # Unreachable by default: a test that forgets the fake server fails fast.
            "CLAUDE_LB_API_BASE": "http://127.0.0.1:9",
            "CLAUDE_LB_TOKEN_URL": "http://127.0.0.1:9/v1/oauth/token",
            "CLAUDE_LB_STATUS_URL": "http://127.0.0.1:9/api/v2/summary.json",
        })
        env.update(self.extra)
        env.update(overrides)
        return env

    def make_profile(self, name: str, *, access: str | None = None, refresh: str | None = None,
                     expires_in: float = 8 * 3600, plan: str | None = "max",
                     extra: dict[str, Any] | None = None, document: dict[str, Any] | None = None) -> Path:
        """Write ``<tree>/<name>/.credentials.json`` (0600) and return its path."""
        directory = self.profiles / name
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if document is None:
            oauth = {
                "accessToken": access or canary("access", name),
                "refreshToken": refresh or canary("refresh", name),
                "expiresAt": int((time.time() + expires_in) * 1000),
                "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
                "subscriptionType": plan,
                "rateLimitTier": "default_claude_max_20x",
            }
            document = {"claudeAiOauth": oauth, "mcpOAuth": {"keep": "me"}, **(extra or {})}
        path = directory / ".credentials.json"
        path.write_text(json.dumps(document, indent=2))
        os.chmod(path, 0o600)
        return path

    def credentials(self, name: str) -> dict[str, Any]:
        return json.loads((self.profiles / name / ".credentials.json").read_text())

    def make_account(self, name: str, *, usage: Any = None, **kwargs: Any) -> Path:
        """``make_profile``, and the fake server (the ``world`` fixture's) answering for its login's
        tokens with ``usage`` (a ``Scenario``; None: the fake's default)."""
        path = self.make_profile(name, **kwargs)
        oauth = self.credentials(name)["claudeAiOauth"]
        self.fake.add_account(name, access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],  # type: ignore[attr-defined]
                              usage=usage)
        return path

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 60, **overrides: str) -> subprocess.CompletedProcess:
        """Run the real ``roost`` executable."""
        return subprocess.run([ROOST, *args], env=env or self.env(**overrides), input=input,
                              capture_output=True, text=True, timeout=timeout)

    def run_json(self, *args: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        proc = self.run(*args, *([] if "--json" in args else ["--json"]), **kwargs)
        assert "Traceback" not in proc.stderr, proc.stderr
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"stdout is not JSON (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def make_plugin_venv(tmp_path: Path, *packages: Path) -> Path:
    """A throwaway venv that sees roost (via a .pth onto this venv) plus ``packages`` installed offline.

    Returns the venv's python. Third-party plugins are installed exactly as
    users would (pip, entry points), without touching the main test venv.
    """
    import site
    import sysconfig

    venv = tmp_path / "plugin-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    # "import" lines in a .pth run at start-up; addsitedir also honours the main venv's own
    # .pth files (roost's editable-install finder).
    lines = [f"import site; site.addsitedir({d!r})" for d in dict.fromkeys(ours)]
    (Path(purelib) / "roost-main-venv.pth").write_text("\n".join(lines) + "\n")
    for package in packages:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--no-index", str(package)], check=True, capture_output=True, text=True)
    return python


@dataclass
class FakeClock:
    """A clock tests move by hand (RoostContext.clock); starts at the real time."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_dist_on_path(root: Path, dist: str, modules: dict[str, str], entry_points: dict[str, str]) -> Path:
    """A plugin "installed" as a bare dist-info beside its modules: put ``root`` on PYTHONPATH.

    importlib.metadata finds ``<dist>-0.1.dist-info`` on sys.path like any
    installed distribution, so a test plugin needs no pip and no venv.
    """
    root.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (root / f"{name}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[roost.plugins]\n{lines}")
    return root


_MODULES_AT_EXIT = """import atexit, os, sys

# The first Python process claims the dump; its children (exec's) inherit the claim and stay out.
os.environ.setdefault("ROOST_TEST_MODULES_PID", str(os.getpid()))


def _dump(path=os.environ.get("ROOST_TEST_MODULES_OUT")):
    if path and os.environ["ROOST_TEST_MODULES_PID"] == str(os.getpid()):
        with open(path, "w") as out:
            out.write("\\n".join(sorted(sys.modules)))


atexit.register(_dump)
"""


def modules_at_exit(argv: list[str], env: dict[str, str], tmp: Path, stdin: str = "") -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``argv`` (the real roost script) and return what was in its ``sys.modules`` when it exited.

    Every import counts, however it was made (``-X importtime`` leaves out a module that
    ``importlib.import_module`` loads, as roost_core.api's lazy names are); a ``sitecustomize``
    on PYTHONPATH registers the dump, so the command runs exactly as installed.
    """
    hook = tmp / "modules-at-exit"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(_MODULES_AT_EXIT)
    out = tmp / f"modules-{time.monotonic_ns()}.txt"
    env = {k: v for k, v in env.items() if k != "ROOST_TEST_MODULES_PID"}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH")])),
               ROOST_TEST_MODULES_OUT=str(out))
    proc = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    return proc, set(out.read_text().split("\n")) if out.exists() else set()


def get_profile(paths: Any, name: str) -> Any:
    """The named profile of ``paths``' tree: VALIDATION for a bad name, NOT_FOUND when absent."""
    from roost_core.names import validate_name
    from roost_core.profiles import discover, find_profile

    return find_profile(discover(paths), validate_name(name), paths.profiles_tree)
