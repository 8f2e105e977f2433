"""Passive source ``statusline``: claude's statusLine document -> a reading.

The document arrives on ``roost statusline``'s stdin after every turn; its
``rate_limits`` block (``five_hour``/``seven_day``: ``used_percentage``,
``resets_at`` epoch seconds) is account-wide and absent before the session's
first response. The parser is roost_plugins.passive.parsers.parse_statusline.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl

from .parsers import parse_statusline


class StatuslineSource:
    name = "statusline"
    kinds = frozenset({"statusline"})

    def read(self, kind: str, observation: Any, now: float) -> dict[str, Any] | None:
        return parse_statusline(observation, now)


@hookimpl
def roost_register_passive_sources():
    return StatuslineSource()
