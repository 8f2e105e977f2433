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
from typing import Any, Callable, Mapping

from .config import Settings
from .output import Output
from .paths import Paths
from .plugins import PluginHost


@dataclass
class RoostContext:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: Output = field(default_factory=Output)
    team: str | None = None
    disabled_plugins: tuple[str, ...] = ()
    debug: bool = False
    clock: Callable[[], float] = time.time
    host_override: PluginHost | None = None

    @cached_property
    def paths(self) -> Paths:
        return Paths.from_env(self.env)

    @cached_property
    def settings(self) -> Settings:
        return Settings.load(self.paths.config_file, self.env, self.team)

    @cached_property
    def host(self) -> PluginHost:
        if self.host_override is not None:
            return self.host_override
        disabled = set(self.disabled_plugins) | set(self.settings.disabled_plugins)
        return PluginHost(disabled=disabled, warn=self.out.warn)

    @cached_property
    def state(self) -> Any:
        """The configured StateBackend (``files`` unless config.toml says otherwise)."""
        name = self.settings.get("state_backend")
        factory = self.host.get("state", name, "state backend")
        return factory.open(self)

    def now(self) -> float:
        return self.clock()

    def warn(self, message: str) -> None:
        self.out.warn(message)

    def plugin_config(self, name: str) -> dict[str, Any]:
        return self.settings.plugin_config(name)
