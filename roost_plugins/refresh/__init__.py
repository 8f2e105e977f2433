"""``roost refresh`` as a built-in plugin, over the core's refresh protocol (``command`` holds it).

The plugin module stays small: pluggy looks at every name of the module it
registers, and ``roost --help`` registers every command plugin.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .command import refresh_cmd

    cli.add_command(refresh_cmd)
