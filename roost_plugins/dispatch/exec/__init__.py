"""``roost exec`` as a plugin of its own (``command.exec``), so a ``roost pick`` never imports it.

Small on purpose: pluggy looks at every name of the module it registers
(``command`` holds the command). A package of its own, so the command index
(roost_core.cli.command_index) finds exec's owner from its callback's module.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .command import exec_cmd

    cli.add_command(exec_cmd)
