"""RoostContext: what every command and run-time hook receives.

Built once per invocation from the environment and root flags. Settings,
the plugin host and the state backend are created on first use, so a
command pays only for what it touches.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .output import Output

if TYPE_CHECKING:  # the host is built on first use: no context -> plugins -> hookspecs import at load
    from .config import Settings
    from .paths import Paths
    from .plugins import PluginHost
    from .interfaces import StateBackend
    from .records import Profile


def degraded_meta(description: dict[str, Any]) -> dict[str, Any]:
    """``meta`` fields of a run that answered from a local copy of shared state."""
    if not description.get("degraded"):
        return {}
    return {"degraded": True, "degraded_reason": description.get("reason")}


@dataclass
class RoostContext:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: Output = field(default_factory=Output)
    team: str | None = None
    disabled_plugins: tuple[str, ...] = ()
    debug: bool = False
    clock: Callable[[], float] = time.time
    host_override: "PluginHost | None" = None

    # Paths and settings are imported on first use: `roost --version` needs neither.
    @cached_property
    def paths(self) -> "Paths":
        from .paths import Paths

        return Paths.from_env(self.env)

    @cached_property
    def settings(self) -> "Settings":
        from .config import Settings

        settings = Settings.load(self.paths.config_file, self.env, self.team)
        # Plugins' declared settings come from this run's host (its disabled plugins), when first needed.
        settings.declared = lambda plugin=None: self.host.declared_settings(plugin)
        return settings

    @cached_property
    def host(self) -> "PluginHost":
        if self.host_override is not None:
            return self.host_override
        from .plugins import PluginHost

        disabled = set(self.disabled_plugins) | set(self.settings.disabled_plugins)
        return PluginHost(disabled=disabled, warn=self.out.warn)

    def config_free_host(self) -> "PluginHost":
        """A plugin host that ignores config.toml (doctor and --help work while it is broken)."""
        from .plugins import PluginHost

        return PluginHost(disabled=set(self.disabled_plugins), warn=self.out.warn)

    @cached_property
    def state(self) -> "StateBackend":
        """The configured state backend, opened on first use (see roost_core.backend)."""
        from .backend import adopt

        factory = self.host.get("state", self.settings.get("state_backend"), "state backend")
        backend: "StateBackend" = adopt(factory.open(self))
        if backend.shared:
            self.out.meta_sources.append(lambda: degraded_meta(backend.describe()))
        return backend

    @cached_property
    def shared_state(self) -> "StateBackend | None":
        """The state backend when other machines share it, else None."""
        return self.state if self.state.shared else None

    @cached_property
    def _profiles_synced(self) -> bool:
        """Bring the local tree in line with a shared store, once per run."""
        if self.shared_state is not None:
            self.shared_state.sync_profiles()
        return True

    def profiles(self) -> "list[Profile]":
        """Discovered profiles, sorted; with a shared store, the store's profiles too.

        The $CLAUDE_CONFIG_DIR ``default`` fallback is a login outside roost's
        tree that roost never rewrites; in a fleet its refresh token would be
        rotated behind the file's back, so it is left out (import it with
        ``roost add NAME --from ...``).
        """
        from .profiles import discover

        shared = self._profiles_synced and self.shared_state is not None
        return discover(self.paths, fallback=not shared)

    def profile(self, name: str) -> "Profile":
        """The named profile: VALIDATION for a bad name (nothing touched), NOT_FOUND when absent."""
        from .names import validate_name
        from .profiles import find_profile

        validate_name(name)
        return find_profile(self.profiles(), name, self.paths.profiles_tree)

    def use_team(self, team: str | None) -> None:
        """Apply ``[teams.NAME]``: a command's own ``--team`` may come after the settings were
        first read (to find the plugin that provides the command), so they are read again."""
        self.team = team
        self.__dict__.pop("settings", None)

    def now(self) -> float:
        return self.clock()

    def warn(self, message: str) -> None:
        self.out.warn(message)

    def plugin_config(self, name: str) -> dict[str, Any]:
        return self.settings.plugin_config(name)
