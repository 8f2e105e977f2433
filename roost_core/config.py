"""Settings: flag > environment > team > config file > built-in default (docs/settings.md).

One resolver every command uses, so precedence is decided in one place. The
core's settings are declared here (``SETTINGS``); a plugin declares its own
through ``roost_register_settings()`` (``settings.<plugin>`` entry points),
read only when a key the core does not know is asked for, or when every
setting is listed (``roost config``, doctor, docs/settings.md), so a warm
``roost pick`` imports no plugin to resolve its settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .durations import parse_duration
from .errors import ValidationError
from .numbers import number_setting
from .setting import TRUTHY, Setting, as_list, masked

__all__ = ["SETTINGS", "TRUTHY", "Resolved", "Setting", "Settings", "bad_value", "load_config_file"]

_as_list = as_list  # [plugins] disable


def _duration_at_least(minimum: float, why: str) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < minimum:
            raise ValueError(f"must be at least {minimum:g}s ({why})")
        return seconds

    return convert


def _core(name: str, default: Any, type: str, doc: str, **more: Any) -> Setting:
    return Setting(default, name=name, type=type, doc=doc, **more)


# The core's own settings: the engines' (pick, probe, refresh, leases, picks.log) and plugin choice.
_CORE: list[Setting] = [
    _core("strategy", "sticky", "str", "Pick strategy (a registered strategy name, see `roost pick --help`)."),
    _core("stickiness", 300.0, "duration", "How long sticky keeps the last pick.", env="CLAUDE_LB_STICKINESS"),
    _core("warn_at", None, "percent", "Warn when the pick's session or weekly usage is at or over this %."),
    _core("timeout", 5.0, "duration", "Deadline of one probe request.", env="CLAUDE_LB_TIMEOUT",
          convert=_duration_at_least(0.1, "a request needs time to be answered")),
    _core("avoid", (), "list", "Profiles never picked (names; a comma-separated string in the environment)."),
    _core("max_cost", None, "percent", "Skip profiles whose overage spend is at or over this %."),
    _core("require_ok", False, "bool", "Pick only `ok` profiles (no `warning`)."),
    _core("fallback", None, "str", "Profile used when no profile qualifies."),
    _core("probe_source", "anthropic", "str", "Probe source plugin that probes every profile."),
    _core("refresher", "anthropic", "str", "Token refresher plugin."),
    _core("status_feed", "status-page", "str", "Platform status feed plugin."),
    _core("probe_concurrency", 64, "int", "Probe requests in flight at once.", env="CLAUDE_LB_PROBE_CONCURRENCY",
          convert=number_setting(integer=True, minimum=1, maximum=256), minimum=1, maximum=256),
    _core("probe_budget", 20, "int", "Live probes per profile per rolling hour (the rest answer from the cache).",
          env="CLAUDE_LB_PROBE_BUDGET", convert=number_setting(integer=True, minimum=1, maximum=100_000),
          minimum=1, maximum=100_000),
    _core("lock_stale", 60.0, "duration", "A refresh lock older than this (and its holder gone) is taken over.",
          env="CLAUDE_LB_LOCK_STALE",
          convert=_duration_at_least(10.0, "claude's own stale window; less would take a live claude's lock")),
    _core("lock_wait", 20.0, "duration", "How long a refresh waits for another's lock.", env="CLAUDE_LB_LOCK_WAIT"),
    _core("refresh_deadline", 15.0, "duration", "Deadline of one token refresh request.",
          env="CLAUDE_LB_REFRESH_DEADLINE", convert=_duration_at_least(0.1, "a request needs time to be answered")),
    _core("refresh_min_interval", 30.0, "duration", "A profile refreshed this recently is not refreshed again.",
          env="CLAUDE_LB_REFRESH_MIN_INTERVAL"),
    _core("picks_log_max_bytes", 10 * 1024 * 1024, "int", "picks.log rotates to picks.log.1 past this size.",
          env="CLAUDE_LB_PICKS_LOG_MAX_BYTES", convert=number_setting(integer=True, minimum=0, maximum=1 << 40),
          minimum=0, maximum=1 << 40),
    _core("state_backend", "files", "str", "State backend plugin (also `[state] backend`).",
          env="CLAUDE_LB_STATE_BACKEND"),
    _core("platform", None, "str", "The platform whose credential store and file rules apply "
          "(linux, darwin or win32; unset: the running OS).", env="CLAUDE_LB_PLATFORM",
          choices=("linux", "darwin", "win32")),
    _core("credential_store", None, "str", "Credential store plugin (unset: the platform's own: "
          "keychain on darwin, file elsewhere).", env="CLAUDE_LB_CREDENTIAL_STORE"),
]

# Core settings by name (``api_base`` style keys stay valid for settings a plugin declares in a table).
SETTINGS: dict[str, Setting] = {spec.name: spec for spec in _CORE}

ORIGINS = ("flag", "env", "team", "file", "default")


@dataclass(eq=False)
class Resolved:
    """A setting's value and where it came from (one of ORIGINS; ``source`` says which env var/team)."""

    spec: Setting
    value: Any
    origin: str
    source: str | None = None

    def describe(self) -> str:
        """``env CLAUDE_LB_X``, ``team ops``, ``file``, ``file (marker PATH)``, ``default``, ``flag``."""
        if self.source and self.origin == "file":  # a setting's marker file (usage-log.enabled)
            return f"file (marker {self.source})"
        return f"{self.origin} {self.source}" if self.source and self.origin in ("env", "team") else self.origin

    def shown(self) -> Any:
        """The value as printed (``roost config``): a secret keeps at most its last 4 characters
        (a URL: its password hidden)."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return masked(value) if self.spec.secret and value is not None else value


class UnknownSetting(ValidationError, KeyError):
    """A key no declaration matches: VALIDATION for the user, a KeyError for code."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


def _dig(table: Any, path: tuple[str, ...], where: tuple[str, ...] | None = None) -> tuple[bool, Any]:
    """``table[path[0]][path[1]]...``. With ``where`` (the table's own path in config.toml), a
    table on the way that the file gives as a plain value (``[plugins] weighted = 3``) is VALIDATION
    naming it, not silently no setting at all."""
    for depth, part in enumerate(path):
        if not isinstance(table, dict):
            if where is not None:
                _not_a_table((*where, *path[:depth]), table)
            return False, None
        if part not in table:
            return False, None
        table = table[part]
    return True, table


def _not_a_table(path: tuple[str, ...], value: Any) -> None:
    name = ".".join(path)
    raise ValidationError(f"config.toml: [{name}] must be a table, not {value!r}", details={"key": name})


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
        return tomllib.loads(raw.decode("utf-8-sig"))  # a BOM (Notepad writes one) is not a syntax error
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValidationError(f"malformed config file {path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line "
                              f"{line}); save it as UTF-8", details={"path": str(path), "line": line}) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"malformed config file {path}: {exc}", details={"path": str(path)}) from None


@dataclass
class Settings:
    """Resolved configuration. ``get(key, flag)`` applies the precedence."""

    file: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    team: str | None = None
    path: Path | None = None
    # plugin name (or None: every plugin) -> the Settings that plugin declares
    declared: Callable[[str | None], list[Setting]] | None = None

    @classmethod
    def load(cls, path: Path, env: Mapping[str, str], team_flag: str | None = None) -> "Settings":
        data = load_config_file(path)
        team = team_flag or env.get("CLAUDE_LB_TEAM") or None
        settings = cls(data, env, team, path)
        if team is not None and team not in settings.teams:
            known = ", ".join(sorted(settings.teams)) or "none defined"
            source = "flag --team" if team_flag else "env CLAUDE_LB_TEAM"
            raise ValidationError(f"unknown team {team!r} from {source} (config.toml teams: {known})",
                                  details={"team": team, "source": source, "teams": sorted(settings.teams)})
        return settings

    @property
    def teams(self) -> dict[str, dict[str, Any]]:
        teams = self.file.get("teams", {})
        return teams if isinstance(teams, dict) else {}

    # -- declarations ------------------------------------------------------
    def _plugin_specs(self, plugin: str | None = None) -> list[Setting]:
        if self.declared is None:  # standalone use (tests, doctor): every installed plugin
            from .plugins import PluginHost

            host = PluginHost()
            self.declared = host.declared_settings
        return self.declared(plugin)

    def specs(self) -> list[Setting]:
        """Every declared setting: the core's, then each plugin's (a key declared twice: the first wins)."""
        seen: dict[str, Setting] = {}
        for spec in [*_CORE, *self._plugin_specs(None)]:
            seen.setdefault(spec.key, spec)
        return list(seen.values())

    def spec(self, key: str) -> Setting:
        """The declaration of ``key`` (dotted path, or a unique bare name); UnknownSetting when none."""
        if key in SETTINGS:
            return SETTINGS[key]
        specs = self.specs()
        for spec in specs:
            if spec.key == key:
                return spec
        named = [spec for spec in specs if spec.name == key]
        if len(named) == 1:
            return named[0]
        raise UnknownSetting(f"no loaded plugin declares the setting {key!r} (is the plugin that owns it "
                             "disabled or not installed?)", details={"key": key})

    # -- resolution --------------------------------------------------------
    def _raw(self, spec: Setting) -> tuple[Any, str, str | None]:
        if spec.per_name:  # the declaration itself: each NAME's instance is resolved on its own
            return spec.default, "default", None
        if spec.env and self.env.get(spec.env, "") != "":
            return self.env[spec.env], "env", spec.env
        if spec.team and self.team:
            strict = None if spec.instance else ("teams", self.team)  # [profiles] share is no profile "share"
            found, value = _dig(self.teams.get(self.team, {}), spec.team_path, strict)
            if found:
                return value, "team", self.team
        if spec.marker and self.path is not None:
            marker = self.path.parent / spec.marker
            if marker.is_file():
                return True, "file", str(marker)
        found, value = _dig(self.file, (*spec.table, spec.name), None if spec.instance else ())
        if found:
            return value, "file", None
        if spec.name == "state_backend" and spec.plugin == "core":
            found, value = _dig(self.file, ("state", "backend"))
            if found:
                return value, "file", None
        return spec.default, "default", None

    def resolve(self, key: str | Setting, flag: Any = None) -> Resolved:
        """Value and origin of one setting; a bad value is VALIDATION naming setting, plugin and source."""
        spec = key if isinstance(key, Setting) else self.spec(key)
        if flag is not None and flag != ():
            raw, origin, source = flag, "flag", None
        else:
            raw, origin, source = self._raw(spec)
            if origin == "default":
                return Resolved(spec, raw, origin)
        try:
            value = spec.parse(raw)
        except (TypeError, ValueError, OverflowError) as exc:
            raise bad_value(spec, raw, exc, origin, source) from None
        return Resolved(spec, value, origin, source)

    def get(self, key: str, flag: Any = None) -> Any:
        return self.resolve(key, flag).value

    def origin(self, key: str) -> str:
        """Where ``key``'s value comes from: ``env CLAUDE_LB_X``, ``team ops``, ``file`` or ``default``."""
        spec = self.spec(key)
        _, origin, source = self._raw(spec)
        return Resolved(spec, None, origin, source).describe()

    def where(self, key: str) -> str:
        """Where an error should send the user: ``file (config.toml [section] name)``, ``env CLAUDE_LB_X``..."""
        spec = self.spec(key)
        _, origin, source = self._raw(spec)
        return _described(spec, origin, source)

    def resolve_all(self) -> list[Resolved]:
        """Every setting; a per-name one (``profiles.*``) as its default, then each NAME that sets it."""
        out = []
        for spec in self.specs():
            out.append(self.resolve(spec))
            if spec.per_name:
                out.extend(self.resolve(spec.named(name)) for name in self.names(spec))
        return out

    def names(self, spec: Setting) -> list[str]:
        """The NAMEs whose table sets a per-name setting, in config.toml or the team's table (sorted)."""
        found: set[str] = set()
        layers = [(self.file, spec.table)]
        if spec.team and self.team:
            layers.append((self.teams.get(self.team, {}), spec.team_path[:-1]))
        for root, table in layers:
            star = table.index("*")
            present, tables = _dig(root, table[:star])
            if not present or not isinstance(tables, dict):
                continue
            for name, inner in tables.items():
                if _dig(inner, (*table[star + 1:], spec.name))[0]:
                    found.add(str(name))
        return sorted(found)

    def table(self, section: str) -> dict[str, Any]:
        """The config.toml table at ``section`` (``state.redis``) with the team's same table over it."""
        path = tuple(p for p in section.split(".") if p)
        found, table = _dig(self.file, path)
        merged = dict(table) if found and isinstance(table, dict) else {}
        if self.team:
            team_path = path[1:] if path[:1] == ("plugins",) else path
            found, team_table = _dig(self.teams, (self.team, *team_path))
            if found and isinstance(team_table, dict):
                merged.update(team_table)
        return merged

    def plugin_config(self, name: str) -> dict[str, Any]:
        """Plugin NAME's settings: ``[plugins.NAME]`` with ``[teams.T.NAME]`` over it, declared keys resolved."""
        merged = self.table(f"plugins.{name}")
        for spec in self._plugin_specs(name):
            if spec.section == f"plugins.{name}":
                value = self.get(spec.key)
                if value is not None:
                    merged[spec.name] = value
        return merged

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


def bad_value(spec: Setting, raw: Any, why: Exception, origin: str, source: str | None = None) -> ValidationError:
    """VALIDATION naming the setting, the plugin that declares it and where the value came from."""
    where = _described(spec, origin, source)
    shown = masked(raw) if spec.secret else raw  # a secret's error holds at most its last 4 characters
    return ValidationError(f"bad value for {spec.key} (plugin {spec.plugin}) from {where}: {shown!r} ({why})",
                           details={"key": spec.key, "plugin": spec.plugin, "origin": origin, "source": source})


def _where(spec: Setting) -> str:
    return f"[{'.'.join(spec.table)}] {spec.name}" if spec.section else spec.name


def _described(spec: Setting, origin: str, source: str | None) -> str:
    """An origin as a user finds it: the env var, or the config.toml key (a team's table in it)."""
    team_where = ".".join(("teams", str(source), *spec.team_path[:-1]))
    file = f"file (marker {source})" if source else f"file (config.toml {_where(spec)})"
    return {"env": f"env {source}", "team": f"team {source} (config.toml [{team_where}] {spec.name})",
            "file": file, "flag": f"flag {source}" if source else "flag",
            "default": "default"}[origin]
