"""A stdlib-only fake of the Anthropic endpoints roost talks to, for tests and demos.

Usage endpoint, OAuth token endpoint (single-use rotating refresh tokens) and
the Statuspage summary, all scriptable per token or per profile. See
``server.FakeAnthropic`` and ``scenarios.Scenario``.
"""

from .scenarios import Reply, Scenario, StatusPage, TokenBehaviour
from .server import FakeAnthropic

__all__ = ["FakeAnthropic", "Scenario", "TokenBehaviour", "StatusPage", "Reply"]
