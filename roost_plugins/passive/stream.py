"""Passive source ``stream``: a stream-json ``rate_limit_event`` line -> a reading.

``roost exec`` hands this source each stdout line of a child run with
``--output-format stream-json`` that mentions ``rate_limit_event`` (every
byte still reaches roost's stdout unchanged). ``rate_limit_info``: ``status``
allowed | allowed_warning | rejected, ``resetsAt``, ``rateLimitType``,
``utilization`` (a fraction), newer builds ``unifiedWindows``. The parser is
roost_plugins.passive.parsers.parse_stream_line.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl

from .parsers import parse_stream_line


class StreamSource:
    name = "stream"
    kinds = frozenset({"stream"})

    def read(self, kind: str, observation: Any, now: float) -> dict[str, Any] | None:
        return parse_stream_line(observation, now) if isinstance(observation, (bytes, str)) else None


@hookimpl
def roost_register_passive_sources():
    return StreamSource()
