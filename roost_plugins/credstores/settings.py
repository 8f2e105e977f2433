"""The keychain store's settings (``[plugins.keychain]`` in config.toml)."""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


def _absolute(value: Any) -> str:
    import os

    if not isinstance(value, str) or not os.path.isabs(value):
        raise ValueError("must be an absolute path (roost never looks security up on PATH)")
    return value


@hookimpl
def roost_register_settings() -> list[Any]:
    from roost_core.api import Setting

    section = "plugins.keychain"
    return [
        Setting("/usr/bin/security", name="security_bin", section=section, convert=_absolute, env="CLAUDE_LB_SECURITY_BIN",
                doc="macOS `security` tool, by absolute path (the keychain store never searches PATH)."),
        Setting(5.0, name="security_timeout", type="duration", section=section, env="CLAUDE_LB_SECURITY_TIMEOUT",
                minimum=0.1, doc="Deadline of one `security` call; past it the keychain is unavailable."),
    ]
