"""roost's main job as a built-in plugin: ``pick``, ``which`` and ``exec`` over the core's pick ladder.

The ladder, the probe cache and the leases are the core's engines
(``roost_core.api``: ``run_pick``, ``acquire_lease``, ...); these commands
parse flags, run the child (``childproc``) and print. Loaded alone for its
own commands (the ``roost.commands`` entry points name it), so a warm
``roost pick`` imports nothing else of roost_plugins but the strategies.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .exec_cmd import exec_cmd
    from .pick_cmds import pick_cmd, which_cmd

    for command in (pick_cmd, which_cmd, exec_cmd):
        cli.add_command(command)
