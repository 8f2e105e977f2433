"""Settings: flag > environment > team > config file > built-in default (docs/settings.md).

One resolver every command uses, so precedence is decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .durations import parse_duration
from .errors import ValidationError
from .numbers import number_setting

TRUTHY = frozenset({"1", "true", "yes", "on"})


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUTHY


def _as_pct(value: Any) -> float:
    number = float(value)
    if not 0 <= number <= 1000:
        raise ValueError(f"{value!r} is not a percentage")
    return number


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected a list of names or a comma-separated string")
    return [str(v) for v in value]


def _duration_at_least(minimum: float, why: str) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < minimum:
            raise ValueError(f"must be at least {minimum:g}s ({why})")
        return seconds

    return convert


@dataclass(frozen=True)
class Setting:
    default: Any
    convert: Callable[[Any], Any] = lambda v: v
    env: str | None = None
    section: str | None = None  # table in config.toml ("endpoints"), None = top level
    team: bool = False  # may be set per [teams.NAME]


SETTINGS: dict[str, Setting] = {
    "strategy": Setting("sticky", str, team=True),
    "stickiness": Setting(300.0, parse_duration, env="CLAUDE_LB_STICKINESS"),
    "warn_at": Setting(None, _as_pct, team=True),
    "timeout": Setting(5.0, _duration_at_least(0.1, "a request needs time to be answered"), env="CLAUDE_LB_TIMEOUT"),
    "avoid": Setting((), _as_list, team=True),
    "max_cost": Setting(None, _as_pct, team=True),
    "require_ok": Setting(False, _as_bool, team=True),
    "fallback": Setting(None, str, team=True),
    "api_base": Setting("https://api.anthropic.com", str, env="CLAUDE_LB_API_BASE", section="endpoints"),
    "token_url": Setting("https://platform.claude.com/v1/oauth/token", str, env="CLAUDE_LB_TOKEN_URL",
                         section="endpoints"),
    "status_url": Setting("https://status.claude.com/api/v2/summary.json", str, env="CLAUDE_LB_STATUS_URL",
                          section="endpoints"),
    "user_agent": Setting("claude-code/2.1.332", str, env="CLAUDE_LB_USER_AGENT"),
    "token_user_agent": Setting("axios/1.13.6", str, env="CLAUDE_LB_TOKEN_USER_AGENT"),
    "probe_source": Setting("anthropic", str),
    "refresher": Setting("anthropic", str),
    "status_feed": Setting("status-page", str),
    "probe_concurrency": Setting(16, number_setting(integer=True, minimum=1, maximum=256),
                                 env="CLAUDE_LB_PROBE_CONCURRENCY"),
    "probe_budget": Setting(20, number_setting(integer=True, minimum=1, maximum=100_000), env="CLAUDE_LB_PROBE_BUDGET"),
    "usage_log": Setting(False, _as_bool, env="CLAUDE_LB_USAGE_LOG"),
    "lock_stale": Setting(60.0, _duration_at_least(10.0, "claude's own stale window; less would take a live claude's lock"),
                          env="CLAUDE_LB_LOCK_STALE"),
    "lock_wait": Setting(20.0, parse_duration, env="CLAUDE_LB_LOCK_WAIT"),
    "refresh_deadline": Setting(15.0, parse_duration, env="CLAUDE_LB_REFRESH_DEADLINE"),
    "refresh_min_interval": Setting(30.0, parse_duration, env="CLAUDE_LB_REFRESH_MIN_INTERVAL"),
    "picks_log_max_bytes": Setting(10 * 1024 * 1024, number_setting(integer=True, minimum=0, maximum=1 << 40),
                                   env="CLAUDE_LB_PICKS_LOG_MAX_BYTES"),
    "state_backend": Setting("files", str, env="CLAUDE_LB_STATE_BACKEND"),
}


def load_config_file(path: Path) -> dict[str, Any]:
    """Parse config.toml; a malformed file is VALIDATION naming the line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"malformed config file {path}: {exc}", details={"path": str(path)}) from None


@dataclass
class Settings:
    """Resolved configuration. ``get(key, flag)`` applies the precedence."""

    file: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    team: str | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: Path, env: Mapping[str, str], team_flag: str | None = None) -> "Settings":
        data = load_config_file(path)
        team = team_flag or env.get("CLAUDE_LB_TEAM") or None
        settings = cls(data, env, team, path)
        if team is not None and team not in settings.teams:
            known = ", ".join(sorted(settings.teams)) or "none defined"
            raise ValidationError(f"unknown team {team!r} (config.toml teams: {known})")
        return settings

    @property
    def teams(self) -> dict[str, dict[str, Any]]:
        teams = self.file.get("teams", {})
        return teams if isinstance(teams, dict) else {}

    def _raw(self, key: str, spec: Setting) -> tuple[Any, str]:
        if spec.env and self.env.get(spec.env, "") != "":
            return self.env[spec.env], f"environment {spec.env}"
        if spec.team and self.team:
            table = self.teams.get(self.team, {})
            if key in table:
                return table[key], f"[teams.{self.team}]"
        table = self.file.get(spec.section, {}) if spec.section else self.file
        if isinstance(table, dict) and key in table:
            where = f"[{spec.section}] {key}" if spec.section else key
            return table[key], f"config.toml {where}"
        if key == "state_backend" and isinstance(self.file.get("state"), dict) and "backend" in self.file["state"]:
            return self.file["state"]["backend"], "config.toml [state] backend"
        return spec.default, "default"

    def get(self, key: str, flag: Any = None) -> Any:
        spec = SETTINGS[key]
        if flag is not None and flag != ():
            return flag
        value, origin = self._raw(key, spec)
        if value is spec.default:
            return value
        try:
            return spec.convert(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"bad value for {key} from {origin}: {value!r} ({exc})",
                                  details={"key": key, "origin": origin}) from None

    def origin(self, key: str) -> str:
        """Where ``key``'s value comes from (environment, team, config.toml or default)."""
        return self._raw(key, SETTINGS[key])[1]

    def plugin_config(self, name: str) -> dict[str, Any]:
        """The ``[plugins.NAME]`` table for a plugin's own settings (empty when absent)."""
        plugins = self.file.get("plugins", {})
        table = plugins.get(name, {}) if isinstance(plugins, dict) else {}
        return table if isinstance(table, dict) else {}

    def section(self, name: str) -> dict[str, Any]:
        table = self.file.get(name, {})
        return table if isinstance(table, dict) else {}

    @property
    def disabled_plugins(self) -> list[str]:
        plugins = self.file.get("plugins", {})
        disable = plugins.get("disable", []) if isinstance(plugins, dict) else []
        try:
            return _as_list(disable)
        except ValueError as exc:
            raise ValidationError(f"bad value for [plugins] disable from config.toml: {disable!r} ({exc})",
                                  details={"key": "plugins.disable"}) from None
