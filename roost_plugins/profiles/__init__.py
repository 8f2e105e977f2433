"""Profile management as a built-in plugin: list, add, snapshot, remove, rename, removed.

``commands`` (list, add, snapshot) and ``remove`` (remove, rename, removed)
are the click commands; ``setup`` links the user's shared claude setup into a
profile (``[profiles]`` in config.toml), ``removal`` takes a profile apart
without losing a user's file, ``add_setup`` is what ``add`` does beside
storing the login. docs/profiles.md describes it all.

This module stays light (no click): ``roost exec`` imports it for
``roost_prepare_exec``, which brings the profile's shared-setup links up to
date before the child starts.
"""

from __future__ import annotations

from typing import Any, Mapping

from roost_core.api import hookimpl


@hookimpl
def roost_register_commands(cli: Any) -> None:
    from .commands import add_cmd, list_cmd, snapshot_cmd
    from .remove import remove_cmd, removed_cmd, rename_cmd

    for command in (list_cmd, add_cmd, snapshot_cmd, remove_cmd, rename_cmd, removed_cmd):
        cli.add_command(command)


@hookimpl
def roost_prepare_exec(profile: Any, env: Mapping[str, str], ctx: Any) -> None:
    """Link the user's shared claude setup into the profile (an item new in the base appears now)."""
    if "CLAUDE_CONFIG_DIR" not in env:
        return  # the child does not run in the profile's directory
    from .setup import ensure_for

    try:
        ensure_for(ctx, profile)
    except OSError as exc:
        ctx.warn(f"could not link the shared claude setup into {profile.name!r}: {exc}")
