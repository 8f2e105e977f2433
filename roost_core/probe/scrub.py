"""Scrubbing: no token a server echoes, or a plugin repeats, leaves the engine whole.

Every outcome, verdict and reason is cut to a token's last 4 characters,
both for the profile's known tokens and for anything shaped like one.
"""

from __future__ import annotations

from dataclasses import replace

from ..credentials import redact, redact_token_shapes
from ..records import ProbeOutcome


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known token, and anything shaped like one, cut to its last 4 characters;
    also once decoded (JSON escapes), split by separators or base64-encoded (roost_core.leakguard)."""
    from ..leakguard import scrub_decoded

    def plain(value: str) -> str:
        for secret in secrets:
            if secret and len(secret) >= 8:
                value = value.replace(secret, redact(secret))
        return redact_token_shapes(value)

    return scrub_decoded(text, secrets, plain)


def scrub_outcome(outcome: ProbeOutcome, secrets: tuple[str, ...]) -> ProbeOutcome:
    """The outcome with any echoed token redacted (a hostile server may echo the bearer)."""
    text = outcome.body.decode("utf-8", "replace")
    cleaned = scrub(text, secrets)
    body = outcome.body if cleaned == text else cleaned.encode("utf-8")
    headers = {k: scrub(v, secrets) for k, v in outcome.headers.items()}
    detail = scrub(outcome.error_detail, secrets) if outcome.error_detail else outcome.error_detail
    return replace(outcome, body=body, headers=headers, error_detail=detail)
