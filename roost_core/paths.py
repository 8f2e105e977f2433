"""Where roost reads and writes (docs/design.md, "Paths"). Pure functions of the environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

CONFIG_DIR_NAME = "claude-lb"


def config_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/claude-lb`` or ``~/.config/claude-lb``; ``%APPDATA%\\claude-lb`` on Windows."""
    from .credstore import env_platform

    if env_platform(env) == "win32":
        if sys.platform != "win32":  # $CLAUDE_LB_PLATFORM=win32 on another OS (tests): %APPDATA% itself
            return Path(env.get("APPDATA") or Path.home() / "AppData" / "Roaming") / CONFIG_DIR_NAME
        import platformdirs

        return Path(platformdirs.user_config_dir(CONFIG_DIR_NAME, appauthor=False, roaming=True))
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / CONFIG_DIR_NAME


def data_dir(env: Mapping[str, str]) -> Path:
    """The user data dir (platformdirs' ``user_data_dir``; the POSIX cases without importing it).

    ``$XDG_DATA_HOME/claude-lb`` when set (an absolute path), else ``~/.local/share/claude-lb``
    on Linux and ``~/Library/Application Support/claude-lb`` on macOS; ``%LOCALAPPDATA%\\claude-lb``
    on Windows. What roost keeps of a user's (removed profiles' files) lives here, not among its settings.
    """
    from .credstore import env_platform

    platform = env_platform(env)
    if platform == "win32":
        if sys.platform != "win32":  # $CLAUDE_LB_PLATFORM=win32 on another OS (tests): %LOCALAPPDATA% itself
            return Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / CONFIG_DIR_NAME
        import platformdirs

        return Path(platformdirs.user_data_dir(CONFIG_DIR_NAME, appauthor=False, roaming=False))
    xdg = env.get("XDG_DATA_HOME")  # honoured on macOS too, as $XDG_CONFIG_HOME is for the config dir
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / CONFIG_DIR_NAME
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support" / CONFIG_DIR_NAME
    return Path.home() / ".local" / "share" / CONFIG_DIR_NAME


def profiles_tree(env: Mapping[str, str]) -> Path:
    override = env.get("CLAUDE_LB_PROFILES_DIR")
    return Path(override).expanduser() if override else Path.home() / ".claude-profiles"


def claude_dir(env: Mapping[str, str], configured: str | None = None) -> Path:
    """The user's own claude directory: ``configured`` (``[profiles] base``; a leading ``~`` is
    $HOME), else ``~/.claude``. One spelling for every plugin that links into it or writes it."""
    home = Path(env.get("HOME") or Path.home())
    if configured is None:
        return home / ".claude"
    if configured == "~" or configured.startswith("~/"):
        return home / configured[2:]
    return Path(configured)


def default_add_source() -> Path:
    return Path.home() / ".claude" / ".credentials.json"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    profiles_tree: Path
    single_profile_dir: Path | None  # $CLAUDE_CONFIG_DIR, the "default" fallback
    data_dir: Path | None = None  # the user data dir (removed/); None: built by hand without one

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Paths":
        single = env.get("CLAUDE_CONFIG_DIR")
        return cls(config_dir(env), profiles_tree(env), Path(single).expanduser() if single else None,
                   data_dir(env))

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def state_file(self, name: str) -> Path:
        return self.config_dir / name
