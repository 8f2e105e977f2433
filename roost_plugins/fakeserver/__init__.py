"""A stdlib-only fake of the Anthropic endpoints roost talks to, for tests and demos.

Usage endpoint, OAuth token endpoint (single-use rotating refresh tokens) and
the Statuspage summary, all scriptable per token or per profile. See
``server.FakeAnthropic`` and ``scenarios.Scenario``.

The names resolve lazily (PEP 562): ``roost --help`` loads the ``demo``
command from this package, and must not pay for http.server on the way.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"FakeAnthropic": ".server", "Scenario": ".scenarios", "TokenBehaviour": ".scenarios",
          "StatusPage": ".scenarios", "Reply": ".scenarios"}
__all__ = ["FakeAnthropic", "Scenario", "TokenBehaviour", "StatusPage", "Reply"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
