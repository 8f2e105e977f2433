"""The ``--profile`` and ``--since`` filters ``roost history`` and ``roost stats`` share.

Apart from scan.py so that module stays free of click.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from roost_core.api import DURATION, RoostContext, complete_profiles

F = TypeVar("F", bound=Callable[..., object])


def filter_options(command: F) -> F:
    """Add ``--profile NAME`` then ``--since DURATION`` to a picks.log command."""
    command = click.option("--since", type=DURATION, metavar="DURATION",
                           help="Only events newer than this (30m, 1h, 2d, 1w, or seconds).")(command)
    return click.option("--profile", metavar="NAME", shell_complete=complete_profiles,
                        help="Only events of this profile.")(command)


def say_no_events(rctx: RoostContext, profile: str | None, since: float | None) -> None:
    """The line a person sees when picks.log has nothing to report (``--since 0`` is a filter too)."""
    filtered = profile is not None or since is not None
    rctx.out.say("No events in picks.log" + (" match the filters." if filtered else " yet."))
