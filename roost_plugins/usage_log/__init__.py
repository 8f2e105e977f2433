"""The opt-in usage log: one JSON line per successful probe in ``<config>/usage-log.ndjson``.

Built on the ``roost_probe_completed`` observer hook, so it sees exactly the
live probes (never cache reads). On when the ``usage_log`` setting resolves
true: ``CLAUDE_LB_USAGE_LOG=1|true|yes|on`` (``0|false|no|off`` turns it
off for the process), a team's ``usage_log``, the marker file
``<config>/usage-log.enabled`` (``roost config usage-log on``; the file
layer, over config.toml) or ``usage_log = true`` in config.toml. Each record is written with the state backend's single-write
append, so concurrent roost processes never interleave lines; the log is never
rotated (``truncate()`` empties it). ``roost report`` reads it.

With a shared state backend (redis) the log is one stream for the whole
fleet: status and ``truncate()`` go through the backend's optional
``log_stats``/``truncate_log`` members and fall back to the local file.

Public API: ``is_enabled(ctx)``, ``record_for(record, now)``, ``read(ctx)``,
``stats(ctx)``, ``truncate(ctx=None)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from roost_core.api import hookimpl

if TYPE_CHECKING:
    from roost_core.api import RoostContext
    from roost_core.api import HealthRecord, ProbeOutcome, Profile

USAGE_LOG = "usage-log.ndjson"
MARKER = "usage-log.enabled"
METRICS = ("session_pct", "weekly_pct", "sonnet_pct", "opus_pct", "overage_pct")
RESETS = ("session_resets_at", "weekly_resets_at")
# Health states that come from a 200 usage body, i.e. a probe that measured something.
MEASURED = frozenset({"ok", "session_limit", "weekly_limit"})


@dataclass(frozen=True)
class UsageLogState:
    enabled: bool
    source: str | None  # "marker" | "environment" | "config" | None
    marker: bool
    environment: bool
    config: bool
    off_by: str | None = None  # "environment" | "config": the layer that keeps it off over the marker


def marker_path(ctx: "RoostContext") -> Path:
    return ctx.paths.config_dir / MARKER


def log_path(ctx: "RoostContext") -> Path:
    return Path(ctx.state.log_path(USAGE_LOG) or ctx.paths.config_dir / USAGE_LOG)


def location(ctx: "RoostContext") -> str:
    """Where the log lives, for people: a file path, or the shared backend's own words."""
    if ctx.state.log_path(USAGE_LOG) is None:
        return str(stats(ctx)["location"])
    return str(log_path(ctx))


def state(ctx: "RoostContext") -> UsageLogState:
    """Whether the log is on: the resolved ``usage_log`` setting, which reads the marker too.

    Precedence is every setting's (docs/observability.md): env > team > file,
    where the file layer is the marker (``roost config usage-log on``) over
    config.toml's ``usage_log``; ``source`` names the layer that decided.
    """
    from roost_core.api import TRUTHY

    resolved = ctx.settings.resolve("usage_log")
    marker = marker_path(ctx).is_file()
    environment = ctx.env.get("CLAUDE_LB_USAGE_LOG", "").strip().lower() in TRUTHY
    enabled = bool(resolved.value)
    layer = {"env": "environment", "team": "config", "flag": "flag"}.get(resolved.origin)
    if resolved.origin == "file":
        layer = "marker" if resolved.source else "config"
    config = enabled and layer == "config"  # config.toml's (or the team's) usage_log = true decided
    off_by = layer if not enabled and marker and layer in ("environment", "config") else None
    return UsageLogState(enabled, layer if enabled else None, marker, environment, config, off_by)


def is_enabled(ctx: "RoostContext") -> bool:
    return state(ctx).enabled


def record_for(record: "HealthRecord", now: float) -> dict[str, Any]:
    """The usage-log line for one probe result (shape in docs/observability.md)."""
    from roost_core.api import utc_now_iso

    health = getattr(record.health, "value", record.health)
    line: dict[str, Any] = {"ts": utc_now_iso(now), "profile": record.name, "health": health}
    line.update({name: getattr(record, name) for name in METRICS + RESETS})
    return line


def is_measurement(outcome: "ProbeOutcome", record: "HealthRecord") -> bool:
    """A successful probe: an HTTP 200 usage body that the classifier read."""
    health = getattr(record.health, "value", record.health)
    return outcome.error is None and outcome.status == 200 and not outcome.local_expired and health in MEASURED


@hookimpl
def roost_probe_completed(profile: "Profile", outcome: "ProbeOutcome", record: "HealthRecord",
                          ctx: "RoostContext") -> None:
    if not is_measurement(outcome, record) or not is_enabled(ctx):
        return
    line = json.dumps(record_for(record, ctx.now()), separators=(",", ":"), sort_keys=False)
    ctx.state.append_line(USAGE_LOG, line)


def read(ctx: "RoostContext") -> Iterator[dict[str, Any]]:
    """Every well-formed record, oldest first; malformed lines are skipped."""
    for line in ctx.state.iter_lines(USAGE_LOG):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("profile"), str) and isinstance(item.get("ts"), str):
            yield item


def truncate(ctx: "RoostContext | None" = None) -> int:
    """Empty the usage log; returns what was dropped: bytes (a file) or entries (redis stream).

    Through the state backend's ``truncate_log`` (the files backend truncates
    in place, so concurrent O_APPEND writers stay safe; the redis backend trims
    the shared stream, for every machine, and fails closed when the store is
    down; a backend without the capability answers UNAVAILABLE).
    """
    if ctx is None:
        from roost_core.api import RoostContext

        ctx = RoostContext()
        try:
            return _truncate(ctx)
        finally:
            _close_state(ctx)
    return _truncate(ctx)


def _truncate(ctx: "RoostContext") -> int:
    return int(ctx.state.truncate_log(USAGE_LOG))


def _close_state(ctx: "RoostContext") -> None:
    """Close a backend this module opened itself (a redis connection), if one was opened."""
    opened = ctx.__dict__.get("state")
    if opened is not None:
        opened.close()


def stats(ctx: "RoostContext") -> dict[str, Any]:
    """{location, records, bytes, ...} of the log, as the state backend counts it."""
    return dict(ctx.state.log_stats(USAGE_LOG))


# -- roost config usage-log on|off|status -------------------------------------------

def _status_data(ctx: "RoostContext") -> dict[str, Any]:
    """The status keys of old (``path`` now holds the backend's location) plus where it lives."""
    current = state(ctx)
    found = stats(ctx)
    data = {"enabled": current.enabled, "source": current.source, "marker": current.marker,
            "environment": current.environment, "config": current.config, "off_by": current.off_by,
            "marker_path": str(marker_path(ctx)), "path": found["location"], "bytes": found.get("bytes"),
            "records": found.get("records"), "backend": found.get("backend", ctx.state.name),
            "degraded": bool(found.get("degraded"))}
    for extra in ("reason", "spooled"):
        if extra in found:
            data[extra] = found[extra]
    return data


def set_marker(ctx: "RoostContext", on: bool) -> None:
    from roost_core.api import atomic_write, ensure_private_dir

    path = marker_path(ctx)
    if on:
        ensure_private_dir(ctx.paths.config_dir)
        if not path.is_file():
            atomic_write(path, b"", 0o600)
    else:
        path.unlink(missing_ok=True)


def _source_label(data: dict[str, Any]) -> str:
    return {"marker": f"marker {data['marker_path']}", "environment": "CLAUDE_LB_USAGE_LOG",
            "config": "usage_log in config.toml"}.get(data["source"] or "", "")


def _describe(data: dict[str, Any]) -> str:
    if not data["enabled"] and data.get("off_by"):  # the marker is on, a higher layer says off
        switch = _source_label({"source": data["off_by"], "marker_path": data["marker_path"]})
        return f"Usage log is off: {switch} turns it off over the marker ('roost config usage-log on')."
    if not data["enabled"]:
        return "Usage log is off (turn it on with 'roost config usage-log on')."
    if data["records"] is None:
        return (f"Usage log is on ({_source_label(data)}); its size in {data['path']} is unknown: "
                f"{data.get('reason') or 'the state backend did not say'}.")
    return f"Usage log is on ({_source_label(data)}): {data['records']} record(s) in {data['path']}."


def build_command():
    import click

    from roost_core.api import json_option, pass_roost

    @click.command("usage-log")
    @click.argument("action", type=click.Choice(["on", "off", "status"]), default="status")
    @json_option
    @pass_roost
    def usage_log_cmd(rctx: "RoostContext", action: str) -> None:
        """Turn the per-probe usage log on or off, or show its state (default: status).

        'on' writes the marker <config dir>/usage-log.enabled, 'off' deletes it;
        'roost config' then shows usage_log = true (file, marker). CLAUDE_LB_USAGE_LOG
        or a team's usage_log win over the marker; the marker wins over config.toml.
        """
        if action != "status":
            set_marker(rctx, action == "on")
        data = _status_data(rctx)
        if action == "off" and data["enabled"]:
            rctx.warn(f"the marker is gone, but the log stays on through {_source_label(data)}")
        elif action == "on" and not data["enabled"]:
            rctx.warn(f"the marker is written, but the log stays off through {rctx.settings.where('usage_log')}")
        rctx.out.emit(data, {"action": action}, text="on" if data["enabled"] else "off")
        if not rctx.out.json_mode:
            rctx.out.say(_describe(data))

    return usage_log_cmd


@hookimpl
def roost_register_commands(cli: Any) -> None:
    config = cli.commands.get("config")
    if config is None or not hasattr(config, "add_command"):
        return  # no core config group in this build: nothing to attach to
    config.add_command(build_command())


@hookimpl
def roost_register_settings() -> Any:
    from roost_core.api import Setting

    # A bool like any other: 1/true/yes/on, 0/false/no/off (or empty); anything else is VALIDATION.
    return Setting(False, name="usage_log", type="bool", env="CLAUDE_LB_USAGE_LOG", marker=MARKER,
                   doc="Append one JSON record per probe to usage-log.ndjson. `roost config usage-log on` "
                       "writes the marker `<config dir>/usage-log.enabled`, which reads as `true` in the file "
                       "layer (over config.toml's value; env and team win over it).")
