"""``roost trace <name>``: one full probe, dumped for a bug report.

The request envelope (URL, headers with the bearer cut to its last 4
characters), the raw response (status, headers, body) and the classifier's
decision with its reasons. No request is made when the verdict is local (an
expired or unusable token) or while a usage-endpoint 429 holds the account
back (``--force`` probes anyway): the dump then says so and why. Redaction holds in text and JSON alike: the
engine already cuts every token it knows (and anything shaped like one) out
of the response, and the dump is scrubbed once more before it is printed.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


def _response(outcome: Any) -> dict[str, Any] | None:
    if outcome is None:
        return None
    body: Any = outcome.json()
    return {"status": outcome.status, "headers": dict(outcome.headers),
            "body": body if body is not None else outcome.body.decode("utf-8", "replace"),
            "json": body is not None, "error": outcome.error, "error_detail": outcome.error_detail,
            "elapsed_s": round(outcome.elapsed_s, 4)}


def _held(outcome: Any, verdict: Any, record: Any) -> bool:
    """No request because a usage 429 holds the account back (not a local verdict)."""
    from roost_core.api import Health

    return outcome is None and verdict.health is Health.RATE_LIMITED and record.next_probe_at is not None


def trace_data(ctx: Any, name: str, timeout: float | None, force: bool = False) -> dict[str, Any]:
    from roost_core.api import probe_traced

    from roost_core.api import passive_summary

    profile = ctx.profile(name)
    passive = passive_summary(ctx, name, ctx.now())  # what the running claude reported before this probe
    # Over budget too, but not into a usage-endpoint 429 block unless --force (docs/health.md, "Commands").
    outcome, verdict, record = probe_traced(ctx, profile, timeout=timeout, force=force)
    last = passive["last_observed_at"]
    before = f" (the last passive reading was at {last})" if last else " (no passive reading)"
    if outcome is not None:
        decided, why, note = "probe", "trace probed just now, which is now the freshest evidence" + before, None
    elif _held(outcome, verdict, record):
        note = verdict.reasons[0] if verdict.reasons else "no request was made: a usage 429 holds the account back"
        decided = "cache"
        when = f" at {record.checked_at}" if record.checked_at else ""
        why = (f"no request was made: the usage endpoint's 429{when} holds the account back until "
               f"{record.next_probe_at}, and that 429 decided{before}; --force probes anyway")
    else:
        decided, note = "local", "no request was made: the verdict is local (from the credentials file)"
        why = "no request was made: the credentials file alone decided" + before
    return {
        "evidence": {"decided_by": decided, "why": why, "passive": passive},
        "profile": name,
        "request": outcome.request if outcome is not None else None,
        "response": _response(outcome),
        "note": note,
        "classification": {"health": verdict.health.value, "ttl_s": verdict.ttl_s, "error": verdict.error,
                           "retry_after_s": verdict.retry_after_s, "classifier": verdict.classifier,
                           "reasons": list(verdict.reasons),
                           "session_resets_at": record.session_resets_at,
                           "weekly_resets_at": record.weekly_resets_at},
        "record": record.to_dict(),
    }


def scrub_deep(value: Any, secrets: tuple[str, ...]) -> Any:
    """Every string in a JSON-like value, tokens cut to their last 4 characters."""
    from roost_core.api import scrub

    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {scrub_deep(k, secrets): scrub_deep(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_deep(v, secrets) for v in value]
    return value


def _secrets(ctx: Any, name: str) -> tuple[str, ...]:
    from roost_core.api import read_local

    return read_local(ctx, ctx.profile(name)).secrets


def run_trace(ctx: Any, name: str, timeout: float | None, force: bool = False) -> None:
    from roost_core.api import ValidationError
    from roost_core.api import render

    if timeout is not None and timeout <= 0:
        raise ValidationError("--timeout must be more than 0 seconds")
    data = scrub_deep(trace_data(ctx, name, timeout, force), _secrets(ctx, name))
    if not ctx.out.json_mode and not render(ctx, "trace", data, {}):
        import json

        ctx.out.say(json.dumps(data, indent=2, ensure_ascii=False))
    ctx.out.emit(data, {"redacted": True}, text=data["classification"]["health"])


def build_command() -> Any:
    import click

    from roost_core.api import DURATION, complete_profiles, json_option, pass_roost

    @click.command("trace")
    @click.argument("name", shell_complete=complete_profiles)
    @click.option("--timeout", type=DURATION, default=None, metavar="DURATION",
                  help="Probe deadline (default 5s, setting 'timeout').")
    @click.option("--force", is_flag=True, help="Probe even while a usage-endpoint 429 holds the account back.")
    @json_option
    @pass_roost
    def trace_cmd(rctx: Any, name: str, timeout: float | None, force: bool) -> None:
        """Probe NAME once; dump request, response and the classifier's reasoning (token redacted)."""
        run_trace(rctx, name, timeout, force)

    return trace_cmd


@hookimpl
def roost_register_commands(cli: Any) -> None:
    cli.add_command(build_command())
