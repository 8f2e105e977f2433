"""``roost statusline``, ``roost hook`` (the full path) and ``roost claude-setup``.

The launcher answers ``statusline``/``hook`` through this plugin's fast path
when it can (files state backend, built-in sources only: fast.py); these commands are
the same behaviour through the plugin host, so a site's passive sources and
any state backend take part. Both never fail the caller: exit 0, nothing of
roost's own printed on an error, a note in ``<config>/debug.log``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from roost_core.api import hookimpl, json_option, pass_roost

from .parsers import short_line

FREE_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def _stdin() -> bytes:
    from .fast import read_stdin

    return read_stdin()


def observe(rctx: Any, kind: str, stdin: bytes, seen: dict[str, Any] | None = None) -> str:
    """Parse with every passive source of ``kind``, record for the current profile; roost's status text.

    ``seen`` (for ``--json``) gets the profile, the reading and what went wrong.
    """
    import os

    from .parsers import statusline_problem
    from .recording import current_profile, read_observation, record

    seen = {} if seen is None else seen
    now = rctx.now()
    found = seen["profile"] = current_profile(rctx)
    try:
        observation = json.loads(stdin) if stdin.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        observation = None
    readings = read_observation(rctx, kind, observation, now)
    preferred = next((r for r in readings if r.get("source") == kind), readings[0] if readings else None)
    seen["reading"] = preferred
    if found is None:
        seen["note"] = "not running under a roost profile: nothing recorded"
    elif not readings:
        seen["note"] = (statusline_problem(observation, stdin) if kind == "statusline"
                        else "not a StopFailure event roost acts on") + "; nothing recorded"
    if found is not None and readings:
        name, directory = found
        try:
            mtime = os.stat(os.path.join(directory, ".credentials.json")).st_mtime_ns
        except OSError:
            mtime = None
        record(rctx, name, readings, mtime)
        seen["recorded"] = True
    if kind != "statusline" or found is None:
        return ""
    if preferred is None:  # an error, or no rate_limits yet: nothing of roost's own
        from .where import debug_note

        debug_note(rctx.env, f"statusline: {seen['note']}")
        return ""
    return short_line(found[0], preferred)


def run(rctx: Any, kind: str, then: str | None, extra: list[str]) -> None:
    from .fast import envelope, print_status, run_then
    from .where import debug_note

    stdin = _stdin()
    ours = ""
    seen: dict[str, Any] = {}
    try:
        if extra:
            debug_note(rctx.env, f"{kind}: ignored arguments {extra!r}")
        rctx.out.quiet = True  # a plugin warning must not land in claude's status line
        ours = observe(rctx, kind, stdin, seen)
    except Exception as exc:  # never fail the caller
        debug_note(rctx.env, f"{kind}: {type(exc).__name__}: {exc}")
        ours, seen["note"] = "", f"{type(exc).__name__}: {exc}"
    theirs = run_then(then, stdin, rctx.env) if kind == "statusline" and then else ""
    if rctx.out.json_mode:
        whole = envelope(kind, seen, ours, theirs)
        rctx.out.emit(whole["data"], whole["meta"])
    elif kind == "statusline":
        print_status(ours, theirs)


@click.command("statusline", context_settings=FREE_ARGS)
@click.option("--then", "then", metavar="CMD", help="Run your own status line command too (same stdin); "
                                                     "its output follows roost's part.")
@json_option
@click.pass_context
def statusline_cmd(ctx: click.Context, then: str | None) -> None:
    """Claude Code's statusLine command: record the rate limits, print 'work · 5h 37% · 7d 62%'.

    Reads the JSON document claude sends on stdin, records a passive reading
    for the roost profile this claude runs under (AXIOM_CLAUDE_PROFILE, else
    the profile whose directory is CLAUDE_CONFIG_DIR). Never probes, never
    touches the network, always exits 0.
    """
    run(_rctx(ctx), "statusline", then, list(ctx.args))


@click.command("hook", context_settings=FREE_ARGS)
@json_option
@click.pass_context
def hook_cmd(ctx: click.Context) -> None:
    """Claude Code hook command: read a StopFailure event on stdin and mark the profile.

    rate_limit -> rate_limited (session_limit / weekly_limit when the event
    names the window) until its reset; authentication_failed,
    oauth_org_not_allowed, account_on_hold, billing_error -> auth_dead with
    that reason. Other events are ignored. Always exits 0.
    """
    run(_rctx(ctx), "hook", None, list(ctx.args))


def _rctx(ctx: click.Context) -> Any:
    from roost_core.api import RoostContext

    return ctx.ensure_object(RoostContext)


@click.command("claude-setup")
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Every profile (the default without NAME).")
@click.option("--apply", "apply", is_flag=True,
              help="Merge the fragment into the settings.json claude reads for each profile.")
@click.option("--remove", "remove", is_flag=True, help="Take roost's statusLine and hook out again.")
@json_option
@pass_roost
def claude_setup_cmd(rctx: Any, name: str | None, all_: bool, apply: bool, remove: bool) -> int:
    """Wire passive health into claude: the statusLine command and the StopFailure hook.

    Prints the settings.json fragment; --apply merges it (keeping every other
    key, and your own statusLine as --then), --remove takes it out. A backup
    is written beside each changed file.
    """
    from .setup import run_setup

    return run_setup(rctx, name, all_, apply, remove)


@hookimpl
def roost_register_commands(cli: Any) -> None:
    for command in (statusline_cmd, hook_cmd, claude_setup_cmd):
        cli.add_command(command)
