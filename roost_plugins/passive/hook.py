"""Passive source ``hook``: a Claude Code hook event -> a reading.

Only ``StopFailure`` is read: ``rate_limit`` (rate_limited, or session_limit /
weekly_limit when the event names the window, until its reset when given),
``authentication_failed``, ``oauth_org_not_allowed``, ``account_on_hold`` and
``billing_error`` (auth_dead with that reason). Other events and errors give
no reading. A rate_limit naming no window borrows the ``quotaLimits`` of the
failed turn's transcript row (transcript.py). The parser is
roost_plugins.passive.parsers.parse_hook.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl

from .parsers import parse_hook
from .transcript import with_transcript_quota


class HookSource:
    name = "hook"
    kinds = frozenset({"hook"})

    def read(self, kind: str, observation: Any, now: float) -> dict[str, Any] | None:
        return parse_hook(with_transcript_quota(observation), now)


@hookimpl
def roost_register_passive_sources():
    return HookSource()
