"""Dataclasses every plugin exchanges with the core.

Plain records only: no I/O here, so any module can import them cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from .recordbase import record


class Health(str, Enum):
    """The eight health states of a profile (docs/health.md, "The eight states")."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"
    SESSION_LIMIT = "session_limit"
    WEEKLY_LIMIT = "weekly_limit"
    AUTH_EXPIRED = "auth_expired"
    AUTH_DEAD = "auth_dead"
    NETWORK_ERROR = "network_error"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


THROTTLED = frozenset({Health.RATE_LIMITED, Health.SESSION_LIMIT, Health.WEEKLY_LIMIT})
AUTH_BAD = frozenset({Health.AUTH_DEAD, Health.AUTH_EXPIRED})
# The ``source`` of a record that stands on the state store withholding the profile's credentials for
# now (a shared store's rotation not yet on a replica): ``unknown``, never cached, out of picks.
WITHHELD_SOURCE = "store"


@record(frozen=True)
class Profile:
    """One discovered OAuth profile: ``<tree>/<name>/.credentials.json``."""

    name: str
    directory: Path

    @property
    def credentials_path(self) -> Path:
        return self.directory / ".credentials.json"


@record
class Usage:
    """Utilisation figures parsed from a usage body (all optional: Pro/Team give none)."""

    session_pct: float | None = None
    weekly_pct: float | None = None
    sonnet_pct: float | None = None
    opus_pct: float | None = None
    overage_pct: float | None = None
    session_resets_at: str | None = None
    weekly_resets_at: str | None = None
    overage_enabled: bool | None = None
    overage: dict[str, Any] | None = None
    # Model-scoped limits from limits[]: [{"model": "Fable", "id": "claude-fable" | None, "pct": 100.0,
    #   "resets_at": iso | None, "active": bool}] ("model": the display name, else the id).
    model_limits: list[dict[str, Any]] = field(default_factory=list)
    # The limits[] entry is_active marks: {"kind", "model", "pct", "resets_at"}; None when none is.
    binding_limit: dict[str, Any] | None = None


@record
class ProbeOutcome:
    """What one probe saw, before classification. Never holds a whole token."""

    source: str
    url: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Transport failure kind ("timeout", "connect", "dns", "tls", "protocol", "too_large", ...)
    error: str | None = None
    error_detail: str | None = None
    elapsed_s: float = 0.0
    # The request as sent, bearer redacted to its last 4 characters (for trace).
    request: dict[str, Any] = field(default_factory=dict)
    # True when no request was made because the stored token is past expiresAt.
    local_expired: bool = False

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON (see ``json_problem``)."""
        return _parse_body(self.body)[0]

    def json_problem(self) -> str | None:
        """Why ``json()`` is None: "not JSON", "NaN or Infinity in it", "nested deeper than 64 levels"."""
        return _parse_body(self.body)[1]


MAX_JSON_DEPTH = 64  # usage bodies are 3 deep; deeper ones are refused before anything recurses over them


def _parse_body(body: bytes) -> tuple[Any, str | None]:
    import json

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number")

    try:
        document = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except RecursionError:
        return None, f"nested deeper than {MAX_JSON_DEPTH} levels"
    except UnicodeDecodeError:  # (a ValueError too: first)
        return None, "not UTF-8"
    except ValueError as exc:
        return None, "NaN or Infinity in it" if "is not a number" in str(exc) else "not JSON"
    if _depth_over(document, MAX_JSON_DEPTH):
        return None, f"nested deeper than {MAX_JSON_DEPTH} levels"
    return document, None


def _depth_over(document: Any, limit: int) -> bool:
    """True when ``document`` nests more than ``limit`` levels (iterative: no recursion to exhaust)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


@record
class Classification:
    """A classifier's verdict on a probe outcome."""

    health: Health
    # Seconds this verdict stays valid; None means until something changes it
    # (auth_dead: a refresh or a new login, seen through the file's mtime).
    ttl_s: float | None
    usage: Usage | None = None
    error: str | None = None
    retry_after_s: float | None = None
    reasons: list[str] = field(default_factory=list)
    classifier: str = ""


@record
class HealthRecord:
    """A profile's health as shown by status/show/probe/pick (docs/health.md, "Records")."""

    name: str
    health: Health
    plan: str | None = None
    session_pct: float | None = None
    weekly_pct: float | None = None
    sonnet_pct: float | None = None
    opus_pct: float | None = None
    overage_pct: float | None = None
    session_resets_at: str | None = None
    weekly_resets_at: str | None = None
    expires_at: str | None = None
    error: str | None = None
    checked_at: str | None = None
    retry_after_s: float | None = None
    overage_enabled: bool | None = None
    model_limits: list[dict[str, Any]] = field(default_factory=list)
    binding_limit: dict[str, Any] | None = None
    # After a usage-endpoint 429: no probe of this profile before this time (ISO 8601).
    next_probe_at: str | None = None
    valid_until: str | None = None
    stale: bool = False
    last_good_at: str | None = None
    # Which evidence the record stands on: "probe" (asked just now), "cache" (a cached probe), "local"
    # (the credentials file alone), or a passive source: "statusline" | "hook" | "stream" | a site's.
    source: str = "probe"
    observed_at: str | None = None  # ISO 8601: when that evidence was seen
    evidence: str | None = None  # which evidence decided and why (passive health)
    # {"extra": the usage body's extra_usage block (is_enabled, monthly_limit, used_credits, utilization,
    # currency; raw values)}, or None when the account has no overage surface (Pro/Team) or no usage was read.
    usage: dict[str, Any] | None = None

    @property
    def withheld(self) -> bool:
        """The state store withholds this profile's credentials for now: not to be picked."""
        return self.health is Health.UNKNOWN and self.source == WITHHELD_SOURCE

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["health"] = self.health.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HealthRecord":
        known = cls.__dataclass_fields__
        kwargs = dict(data) if known.keys() >= data.keys() else {k: v for k, v in data.items() if k in known}
        kwargs["health"] = Health(kwargs.get("health", "unknown"))
        return cls(**kwargs)


@record
class Candidate:
    """A profile that survived the filter ladder, as a strategy sees it."""

    record: HealthRecord
    index: int  # position in discovery order (sorted by name)

    @property
    def name(self) -> str:
        return self.record.name


@record
class LastPick:
    name: str
    at: datetime
    strategy: str | None = None


@record
class PickRequest:
    """Everything a strategy may consult besides the candidates. No I/O allowed."""

    strategy: str
    now: datetime
    last_pick: LastPick | None = None
    stickiness_s: float = 300.0
    count: int = 1
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@record
class Scored:
    candidate: Candidate
    score: float | None = None
    note: str = ""


@record
class Ranking:
    """A strategy's answer: candidates in preference order, best first."""

    order: list[Scored]
    rationale: str


@record
class PickResult:
    name: str
    health: Health
    strategy: str
    rationale: str
    record: HealthRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        """``pick --json``'s item: ``health`` is the picked profile's whole record (its state in ``health.health``)."""
        record = self.record or HealthRecord(self.name, self.health)
        return {"name": self.name, "health": record.to_dict(), "strategy": self.strategy, "rationale": self.rationale}


@record
class PlatformStatus:
    """The folded status-page view (``meta.platform_status``; docs/health.md, "Platform status")."""

    indicator: str | None = None
    description: str | None = None
    active_incidents: list[dict[str, Any]] = field(default_factory=list)
    degraded_components: list[dict[str, Any]] = field(default_factory=list)
    fetched_at: str | None = None
    age_seconds: int | None = None
    fetch_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_clean(self) -> bool:
        return not self.active_incidents and not self.degraded_components and self.indicator in (None, "none")


@record
class TokenGrant:
    """A successful refresh response, normalised."""

    access_token: str
    refresh_token: str | None
    expires_in: float
    scope: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show tokens
        return f"TokenGrant(access=…{self.access_token[-4:]}, expires_in={self.expires_in})"


@record
class CheckResult:
    """One doctor finding."""

    name: str
    level: str  # "ok" | "warn" | "fail" | "skip"
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@record
class AuditEvent:
    """One picks.log line (format in docs/files.md)."""

    ts: str
    event: str  # "pick" | "exec" | "refresh" ...
    profile: str
    strategy: str = ""
    rc: int | None = None
    duration_s: float | None = None
    argv0: str = ""
    pid: int = 0
    note: str = ""
