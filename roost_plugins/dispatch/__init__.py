"""roost's main job as built-in plugins: ``pick`` and ``which`` here, ``exec`` in ``exec/``.

The ladder, the probe cache and the leases are the core's engines
(``roost_core.api``: ``run_pick``, ``acquire_lease``, ...); these commands
parse flags, run the child (``childproc``) and print. ``exec`` is an entry
point of its own (``command.exec``: ``roost_plugins.dispatch.exec``), so a warm ``roost pick`` imports neither
it nor anything else of roost_plugins but the strategies, and ``roost exec``
loads exec alone (the ``roost.commands`` entry points name pick's module).
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .pick_cmds import pick_cmd, which_cmd

    for command in (pick_cmd, which_cmd):
        cli.add_command(command)
