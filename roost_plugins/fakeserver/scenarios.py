"""What the fake Anthropic server answers, described as plain data.

Everything here is pure: a ``Scenario`` (usage endpoint), a ``TokenBehaviour``
(token endpoint knobs) and a ``StatusPage`` (status page) each turn into a
``Reply`` that ``server.py`` only has to put on the wire. Keeping the wire
shapes here, away from sockets and locks, lets tests and the demo describe a
whole fleet as JSON (``to_dict``/``from_dict``) and keeps the server small.

Shapes follow what roost reads (docs/health.md for the usage body and the
status page, docs/refresh.md for the token endpoint): written examples, not
captures.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

SESSION_AUTO_S = 2 * 3600
"""``resets_at="auto"`` for the session window: two hours after the response."""

WEEKLY_AUTO_S = 3 * 86400
"""``resets_at="auto"`` for the weekly windows: three days after the response."""

EXPIRED_MESSAGE = (
    "OAuth token has expired. Please obtain a new token or refresh your existing token."
)
INVALID_CREDENTIALS_MESSAGE = "Invalid authentication credentials"
RATE_LIMIT_MESSAGE = "Rate limited. Please try again later."

# Constructors that ``Scenario.from_dict`` may call by name. A tuple, not a
# registry, so nothing at module level can be mutated.
_SCENARIO_KINDS = (
    "ok",
    "session_exhausted",
    "weekly_exhausted",
    "unauthorized",
    "invalid_credentials",
    "forbidden_scope",
    "rate_limited",
    "server_error",
    "malformed",
    "not_object",
    "oversized",
    "hang",
    "drop",
    "drip",
    "limits_only",
    "mixed",
    "token_expired",
)
_ACTIONS = ("send", "hang", "drop", "drip")


# --------------------------------------------------------------------------- #
# Reply: the one thing the HTTP layer understands
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Reply:
    """One response plan, so protocol decisions never touch a socket.

    ``action`` says how to deliver it: ``send`` normally, ``drip`` one body
    byte every ``interval`` seconds, ``hang`` accept and never answer (until
    the server stops), ``drop`` close the socket without a status line.
    """

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    action: str = "send"
    interval: float = 0.0
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        if self.action not in _ACTIONS:
            raise ValueError(f"unknown reply action {self.action!r}")

    @classmethod
    def json(cls, status: int, payload: Any, headers=()) -> "Reply":
        """A JSON reply; compact separators keep bodies close to the real ones."""
        return cls(status, json.dumps(payload).encode(), tuple(headers))

    @classmethod
    def html(cls, status: int, title: str) -> "Reply":
        """An HTML error page, what a CDN or proxy in front of the API sends."""
        body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return cls(status, body.encode(), content_type="text/html; charset=utf-8")

    @classmethod
    def dropped(cls) -> "Reply":
        """Close the connection without any response."""
        return cls(action="drop")


def iso_in(seconds: float) -> str:
    """UTC ISO-8601 with microseconds and ``+00:00``, like the usage endpoint."""
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds")


def statuspage_time(seconds_ago: float = 0.0) -> str:
    """Statuspage timestamps use milliseconds and a ``Z`` suffix."""
    moment = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def request_id() -> str:
    """A fresh ``req_...`` id as the API envelope carries."""
    return "req_011C" + secrets.token_urlsafe(18)


def error_envelope(error_type: str, message: str, **extra: Any) -> dict:
    """The standard API error envelope (401/403/5xx on api.anthropic.com)."""
    error = {"type": error_type, "message": message, **extra}
    return {"type": "error", "error": error, "request_id": request_id()}


def rate_limit_body() -> dict:
    """The observed 429 body: note it has no top-level ``"type": "error"``."""
    return {"error": {"message": RATE_LIMIT_MESSAGE, "type": "rate_limit_error"}}


# --------------------------------------------------------------------------- #
# Usage endpoint scenarios
# --------------------------------------------------------------------------- #


def _resolve_reset(value: Any, auto_s: float) -> str | None:
    """Turn a scripted ``resets_at`` into wire form at response time.

    ``"auto"`` means "a sensible time from now", a number means seconds from
    now (handy in JSON scripts), ``None`` stays null, any string passes as-is.
    """
    if value == "auto":
        return iso_in(auto_s)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return iso_in(value)
    return value


def _window(utilization: float | None, resets_at: str | None) -> dict | None:
    """A usage window, or null when the scenario leaves it out."""
    if utilization is None:
        return None
    return {"utilization": float(utilization), "resets_at": resets_at}


def _extra_usage(overage: float | None) -> dict:
    """``extra_usage`` in minor units: 5000 = 50.00 USD monthly cap."""
    if overage is None:
        return {"is_enabled": False, "monthly_limit": None, "used_credits": None, "utilization": None}
    return {
        "is_enabled": True,
        "monthly_limit": 5000,
        "used_credits": float(overage) * 50,
        "utilization": float(overage),
        "currency": "USD",
    }


def usage_body(
    session=10.0,
    weekly=20.0,
    sonnet=None,
    opus=None,
    overage=None,
    session_resets_at="auto",
    weekly_resets_at="auto",
    extra=None,
    limits=None,
    extra_fields=None,
) -> dict:
    """The 200 usage body, computed now so ``auto`` resets stay in the future."""
    session_reset = _resolve_reset(session_resets_at, SESSION_AUTO_S)
    weekly_reset = _resolve_reset(weekly_resets_at, WEEKLY_AUTO_S)
    body: dict[str, Any] = {
        "five_hour": _window(session, session_reset),
        "seven_day": _window(weekly, weekly_reset),
        "seven_day_oauth_apps": None,
        "seven_day_opus": _window(opus, weekly_reset),
        "seven_day_sonnet": _window(sonnet, weekly_reset),
        "extra_usage": dict(extra) if extra is not None else _extra_usage(overage),
    }
    if limits is not None:
        body["limits"] = list(limits)
    body.update(extra_fields or {})
    return body


def _limit(kind: str, group: str, percent: float, resets_at: Any, model: str | None, active: Any) -> dict:
    scope = None
    if model is not None:
        scope = {"model": {"id": "claude-" + "-".join(model.lower().split()), "display_name": model}}
    return {"kind": kind, "group": group, "percent": percent, "resets_at": resets_at, "scope": scope,
            "is_active": active == (model or kind)}


def limits_body(session=10.0, weekly=20.0, models=None, active=None, overage=None,
                session_resets_at="auto", weekly_resets_at="auto") -> dict:
    """A 200 body carrying only ``limits[]`` (and ``extra_usage``): the session and
    weekly_all entries, then one weekly_scoped entry per model. Model resets are
    epoch seconds, the others ISO text: the list mixes both on the wire."""
    session_reset = _resolve_reset(session_resets_at, SESSION_AUTO_S)
    weekly_reset = _resolve_reset(weekly_resets_at, WEEKLY_AUTO_S)
    weekly_epoch = (datetime.fromisoformat(weekly_reset).timestamp() if isinstance(weekly_reset, str)
                    else weekly_reset)
    limits = [_limit("session", "session", session, session_reset, None, active),
              _limit("weekly_all", "weekly", weekly, weekly_reset, None, active)]
    for model, percent in (models or {}).items():
        limits.append(_limit("weekly_scoped", "weekly", percent,
                             int(weekly_epoch) if weekly_epoch is not None else None, model, active))
    return {"limits": limits, "extra_usage": _extra_usage(overage)}


@dataclass(frozen=True)
class Scenario:
    """How the usage endpoint answers one access token.

    Build one with the classmethods (``Scenario.ok(...)``,
    ``Scenario.rate_limited("0")``...). ``kind`` names the constructor and
    ``args`` holds its JSON-safe arguments, so ``from_dict(to_dict())`` is the
    identity and a script file can name any constructor.
    """

    kind: str
    args: dict = field(default_factory=dict)
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        if not hasattr(self, f"_reply_{self.kind}"):
            raise ValueError(f"unknown scenario kind {self.kind!r}")

    # -- constructors -------------------------------------------------------

    @classmethod
    def ok(
        cls,
        session=10.0,
        weekly=20.0,
        sonnet=None,
        opus=None,
        overage=None,
        session_resets_at="auto",
        weekly_resets_at="auto",
        extra=None,
        limits=None,
        extra_fields=None,
    ) -> "Scenario":
        """200 with the windows given; ``extra`` replaces ``extra_usage`` whole."""
        args = dict(
            session=session,
            weekly=weekly,
            sonnet=sonnet,
            opus=opus,
            overage=overage,
            session_resets_at=session_resets_at,
            weekly_resets_at=weekly_resets_at,
            extra=extra,
            limits=limits,
            extra_fields=extra_fields,
        )
        return cls("ok", args)

    @classmethod
    def session_exhausted(cls, weekly=71.0, **kwargs) -> "Scenario":
        """The 5-hour window at 100 %: roost's ``session_limit``."""
        return cls.ok(session=100.0, weekly=weekly, **kwargs)

    @classmethod
    def weekly_exhausted(cls, session=20.0, **kwargs) -> "Scenario":
        """The weekly window at 100 %: roost's ``weekly_limit``."""
        return cls.ok(session=session, weekly=100.0, **kwargs)

    @classmethod
    def limits_only(cls, session=10.0, weekly=20.0, models=None, active=None, overage=None,
                    session_resets_at="auto", weekly_resets_at="auto") -> "Scenario":
        """Today's wire with nothing but ``limits[]``: no flat windows at all.

        ``models`` maps a display name to its weekly percent (``{"Fable": 100}``);
        ``active`` names the binding entry ("session", "weekly_all" or a model).
        """
        return cls("limits_only", dict(session=session, weekly=weekly, models=models, active=active,
                                       overage=overage, session_resets_at=session_resets_at,
                                       weekly_resets_at=weekly_resets_at))

    @classmethod
    def mixed(cls, session=10.0, weekly=20.0, models=None, active=None, overage=None,
              session_resets_at="auto", weekly_resets_at="auto", flat_session=None, flat_weekly=None) -> "Scenario":
        """Flat windows and ``limits[]`` together, as most bodies come since 2026-12:
        ``seven_day_opus``/``seven_day_sonnet`` null, model limits only in the list.
        ``flat_session``/``flat_weekly`` let the flat keys disagree with the list."""
        return cls("mixed", dict(session=session, weekly=weekly, models=models, active=active, overage=overage,
                                 session_resets_at=session_resets_at, weekly_resets_at=weekly_resets_at,
                                 flat_session=flat_session, flat_weekly=flat_weekly))

    @classmethod
    def token_expired(cls) -> "Scenario":
        """401 whose envelope says ``error.details.error_code: "token_expired"`` (clock skew)."""
        return cls("token_expired")

    @classmethod
    def unauthorized(cls, message: str = EXPIRED_MESSAGE) -> "Scenario":
        """401 with the standard ``authentication_error`` envelope (by default the server-side
        expiry message; roost's ``auth_dead`` like every 401 without ``token_expired``)."""
        return cls("unauthorized", {"message": message})

    @classmethod
    def invalid_credentials(cls) -> "Scenario":
        """401 as seen for revoked tokens or ones rotated away by someone else."""
        return cls.unauthorized(INVALID_CREDENTIALS_MESSAGE)

    @classmethod
    def forbidden_scope(cls, newline: bool = False) -> "Scenario":
        """403 for inference-only tokens; ``newline`` mimics the wrapped variant."""
        return cls("forbidden_scope", {"newline": newline})

    @classmethod
    def rate_limited(cls, retry_after: str | None = None) -> "Scenario":
        """429; ``retry_after`` goes out verbatim ("0", "30", an HTTP-date) or not at all."""
        return cls("rate_limited", {"retry_after": retry_after})

    @classmethod
    def server_error(cls, status: int = 500) -> "Scenario":
        """A 5xx with the API's ``api_error`` (or 529 ``overloaded_error``) envelope."""
        return cls("server_error", {"status": status})

    @classmethod
    def malformed(cls) -> "Scenario":
        """200 whose body is not JSON at all."""
        return cls("malformed")

    @classmethod
    def not_object(cls) -> "Scenario":
        """200 whose body is JSON but not an object."""
        return cls("not_object")

    @classmethod
    def oversized(cls, nbytes: int = 5_000_000) -> "Scenario":
        """200 with a usage-looking JSON body padded to ``nbytes`` (tests body caps)."""
        return cls("oversized", {"nbytes": nbytes})

    @classmethod
    def hang(cls) -> "Scenario":
        """Accept the request and never answer, until the server stops."""
        return cls("hang")

    @classmethod
    def drop(cls) -> "Scenario":
        """Close the socket without a response."""
        return cls("drop")

    @classmethod
    def drip(cls, interval: float = 0.5) -> "Scenario":
        """Status and headers at once, then one body byte every ``interval`` s."""
        return cls("drip", {"interval": interval})

    @staticmethod
    def http_date(seconds_from_now: float) -> str:
        """An RFC 7231 date, for ``rate_limited(retry_after=...)``."""
        return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)

    def with_delay(self, seconds: float) -> "Scenario":
        """The same answer, after ``seconds`` of latency."""
        return dataclasses.replace(self, delay_s=float(seconds))

    # -- (de)serialisation --------------------------------------------------

    def to_dict(self) -> dict:
        """Flat JSON form: ``{"kind": ..., <args>..., "delay_s": ...}``."""
        out = {"kind": self.kind, **self.args}
        if self.delay_s:
            out["delay_s"] = self.delay_s
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Scenario":
        """Inverse of ``to_dict``; ``kind`` may name any public constructor."""
        args = dict(data)
        kind = args.pop("kind", "ok")
        delay = args.pop("delay_s", 0.0)
        if kind not in _SCENARIO_KINDS:
            raise ValueError(f"unknown scenario kind {kind!r}")
        return getattr(cls, kind)(**args).with_delay(delay)

    # -- rendering ----------------------------------------------------------

    def reply(self) -> Reply:
        """The response for one request, built now (fresh resets and ids)."""
        return getattr(self, f"_reply_{self.kind}")(**self.args)

    @staticmethod
    def _reply_ok(**args) -> Reply:
        return Reply.json(200, usage_body(**args))

    @staticmethod
    def _reply_limits_only(**args) -> Reply:
        return Reply.json(200, limits_body(**args))

    @staticmethod
    def _reply_mixed(flat_session=None, flat_weekly=None, **args) -> Reply:
        body = limits_body(**args)
        session_reset = body["limits"][0]["resets_at"]
        weekly_reset = body["limits"][1]["resets_at"]
        flat = usage_body(session=args["session"] if flat_session is None else flat_session,
                          weekly=args["weekly"] if flat_weekly is None else flat_weekly, overage=args["overage"],
                          session_resets_at=session_reset, weekly_resets_at=weekly_reset)
        return Reply.json(200, {**flat, "limits": body["limits"]})

    @staticmethod
    def _reply_token_expired() -> Reply:
        details = {"error_code": "token_expired", "error_visibility": "user_facing"}
        return Reply.json(401, error_envelope("authentication_error", EXPIRED_MESSAGE, details=details))

    @staticmethod
    def _reply_unauthorized(message: str) -> Reply:
        return Reply.json(401, error_envelope("authentication_error", message))

    @staticmethod
    def _reply_forbidden_scope(newline: bool) -> Reply:
        gap = "\n    " if newline else " "
        message = f"OAuth token does not meet scope requirement{gap}user:profile"
        details = {"error_visibility": "user_facing"}
        return Reply.json(403, error_envelope("permission_error", message, details=details))

    @staticmethod
    def _reply_rate_limited(retry_after: str | None) -> Reply:
        headers = () if retry_after is None else (("retry-after", str(retry_after)),)
        return Reply.json(429, rate_limit_body(), headers)

    @staticmethod
    def _reply_server_error(status: int) -> Reply:
        if status == 529:
            return Reply.json(status, error_envelope("overloaded_error", "Overloaded"))
        return Reply.json(status, error_envelope("api_error", "Internal server error"))

    @staticmethod
    def _reply_malformed() -> Reply:
        return Reply(200, b"not json{")

    @staticmethod
    def _reply_not_object() -> Reply:
        return Reply(200, b"[1,2]")

    @staticmethod
    def _reply_oversized(nbytes: int) -> Reply:
        # Valid JSON on purpose: only a size cap, not a parse error, may reject it.
        head = b'{"five_hour": {"utilization": 10.0, "resets_at": null}, "padding": "'
        tail = b'"}'
        padding = max(0, nbytes - len(head) - len(tail))
        return Reply(200, head + b"x" * padding + tail)

    @staticmethod
    def _reply_hang() -> Reply:
        return Reply(action="hang")

    @staticmethod
    def _reply_drop() -> Reply:
        return Reply.dropped()

    @staticmethod
    def _reply_drip(interval: float) -> Reply:
        body = json.dumps(usage_body()).encode()
        return Reply(200, body, action="drip", interval=float(interval))


# --------------------------------------------------------------------------- #
# Token endpoint knobs
# --------------------------------------------------------------------------- #


@dataclass
class TokenBehaviour:
    """Per-profile knobs of the token endpoint (the hostile token server of docs/RELIABILITY.md).

    ``status_override`` and ``body_override`` answer without rotating (an
    edge 429 is applied before the grant is checked). ``drop_after_commit``
    rotates and then loses the response: the ambiguous case of F4.
    ``before_commit(label)`` runs just before the rotation, outside the lock,
    so it may call ``FakeAnthropic.rotate_out_of_band``.
    """

    delay_s: float = 0.0
    status_override: int | None = None
    drop_after_commit: bool = False
    drip: bool = False
    revoke_family_on_reuse: bool = False
    before_commit: Callable[[str], None] | None = None
    expires_in: int = 28800
    omit_refresh_token: bool = False
    body_override: bytes | None = None
    drip_interval_s: float = 0.5
    # The invalid_grant a dead refresh token gets: "invalid" ("Refresh token not found
    # or invalid") or "expired" ("Refresh token expired": the account idled too long).
    grant_error: str = "invalid"

    def to_dict(self) -> dict:
        """JSON form; ``before_commit`` cannot be serialised and is left out."""
        out = dataclasses.asdict(self)
        out.pop("before_commit")
        if self.body_override is not None:
            out["body_override"] = self.body_override.decode("utf-8", "replace")
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TokenBehaviour":
        """Inverse of ``to_dict`` (a string ``body_override`` becomes UTF-8 bytes)."""
        args = dict(data)
        if isinstance(args.get("body_override"), str):
            args["body_override"] = args["body_override"].encode()
        return cls(**args)

    def override_reply(self) -> Reply | None:
        """The no-rotation answer this behaviour forces, if any."""
        if self.status_override is not None:
            return token_status_reply(self.status_override)
        if self.body_override is not None:
            return Reply(200, self.body_override)
        return None


def token_status_reply(status: int) -> Reply:
    """What the token endpoint says for a forced status (section 3.4)."""
    if status == 429:
        return Reply.json(429, {"error": {"type": "rate_limit_error", "message": RATE_LIMIT_MESSAGE}})
    if status == 400:
        return invalid_request_reply()
    if status >= 500:
        return Reply.html(status, f"{status} Server Error")
    return Reply.json(status, {"error": "http_error", "error_description": f"HTTP {status}"})


def invalid_request_reply() -> Reply:
    """400 for a body missing ``grant_type``/``refresh_token``/``client_id``."""
    return Reply.json(400, {"error": "invalid_request", "error_description": "Invalid request format"})


GRANT_ERRORS = {"invalid": "Refresh token not found or invalid", "expired": "Refresh token expired"}


def invalid_grant_reply(kind: str = "invalid") -> Reply:
    """400 for a spent, revoked or unknown refresh token (``kind="expired"``: idle too long)."""
    return Reply.json(400, {"error": "invalid_grant", "error_description": GRANT_ERRORS[kind]})


# --------------------------------------------------------------------------- #
# Status page
# --------------------------------------------------------------------------- #

PAGE_ID = "fakepage0001"
DEFAULT_COMPONENTS = ("claude.ai", "Claude API (api.anthropic.com)", "Claude Code")


@dataclass(frozen=True)
class StatusPage:
    """The Statuspage v2 summary (section 4.3) with switchable parts.

    ``degraded`` is a list of ``(component name, status)``; names not among
    the defaults are added as extra components. ``http_status`` other than
    200 answers an HTML error page; ``hang`` never answers.
    """

    indicator: str = "none"
    description: str = "All Systems Operational"
    incidents: tuple = ()
    degraded: tuple = ()
    http_status: int = 200
    hang: bool = False

    def to_dict(self) -> dict:
        """JSON form matching ``FakeAnthropic.set_status`` keyword names."""
        out = dataclasses.asdict(self)
        out["incidents"] = [dict(i) for i in self.incidents]
        out["degraded"] = [list(d) for d in self.degraded]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "StatusPage":
        """Inverse of ``to_dict``; lists become tuples so the page stays immutable."""
        args = dict(data)
        args["incidents"] = tuple(dict(i) for i in args.get("incidents", ()))
        args["degraded"] = tuple(tuple(d) for d in args.get("degraded", ()))
        return cls(**args)

    def reply(self, path: str) -> Reply:
        """Answer ``summary.json`` or the smaller ``status.json``."""
        if self.hang:
            return Reply(action="hang")
        if self.http_status != 200:
            return Reply.html(self.http_status, f"{self.http_status} Error")
        summary = self.summary()
        if path.endswith("/status.json"):
            summary = {"page": summary["page"], "status": summary["status"]}
        return Reply.json(200, summary)

    def summary(self) -> dict:
        """The full summary body, timestamps computed now."""
        return {
            "page": {
                "id": PAGE_ID,
                "name": "Claude",
                "url": "https://status.claude.com",
                "time_zone": "Etc/UTC",
                "updated_at": statuspage_time(),
            },
            "status": {"indicator": self.indicator, "description": self.description},
            "components": self._components(),
            "incidents": [_complete_incident(i, n) for n, i in enumerate(self.incidents, 1)],
            "scheduled_maintenances": [],
        }

    def _components(self) -> list[dict]:
        statuses = dict(self.degraded)
        names = list(DEFAULT_COMPONENTS) + [n for n in statuses if n not in DEFAULT_COMPONENTS]
        return [_component(n, pos, statuses.get(n, "operational")) for pos, n in enumerate(names, 1)]


def _component(name: str, position: int, status: str) -> dict:
    return {
        "id": f"cmp{position:08d}",
        "name": name,
        "status": status,
        "position": position,
        "group": False,
        "group_id": None,
        "only_show_if_degraded": False,
        "description": None,
        "showcase": True,
        "start_date": None,
        "page_id": PAGE_ID,
        "created_at": "2023-07-11T18:00:00.000Z",
        "updated_at": statuspage_time(60),
    }


def _complete_incident(given: dict, n: int) -> dict:
    """Fill in what a test left out, so clients see the full Statuspage shape."""
    created = statuspage_time(600)
    status = given.get("status", "investigating")
    update = {
        "id": f"upd{n:08d}",
        "status": status,
        "body": "We are investigating this issue.",
        "created_at": created,
        "display_at": created,
        "updated_at": created,
    }
    incident = {
        "id": f"inc{n:08d}",
        "name": "Elevated errors",
        "status": status,
        "impact": "minor",
        "shortlink": f"https://stspg.io/fake{n}",
        "created_at": created,
        "updated_at": statuspage_time(),
        "monitoring_at": None,
        "resolved_at": None,
        "started_at": created,
        "page_id": PAGE_ID,
        "incident_updates": [update],
        "components": [],
    }
    incident.update(given)
    return incident
