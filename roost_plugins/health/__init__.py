"""The health commands as a built-in plugin: ``probe``, ``status``, ``show``, ``invalidate``.

Views over the core's engines (the probe fan-out with its cache and budget,
the passive merge, the platform status cache): they decide nothing the
engines do not. ``commands`` holds them; this module stays light.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .commands import invalidate_cmd, probe_cmd, show_cmd, status_cmd

    for command in (probe_cmd, status_cmd, show_cmd, invalidate_cmd):
        cli.add_command(command)
