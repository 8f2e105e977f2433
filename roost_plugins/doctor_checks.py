"""The built-in ``roost doctor`` checks (plugin ``core``, entry point ``doctor.core``).

Each check is a small object (``name``, ``needs_network``, ``level``,
``run(ctx)``) returning one or more CheckResults with level ok / warn /
fail / skip. A check never raises for a broken setup: finding it is its job.
Nothing here writes anything or spends a profile's probe budget; the
network checks send one unauthenticated request each.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from roost_core.api import __version__, hookimpl
from roost_core.api import CheckResult

STATE_DOCS = ("health.json", "last-pick.json", "leases.json", "platform-status.json")
STATE_LOGS = ("picks.log", "usage-log.ndjson")
MAX_STATE_BYTES = 16 * 1024 * 1024
NETWORK_DEADLINE_S = 3.0
USAGE_PATH = "/api/oauth/usage"
KEYCHAIN_PREFIX = "Claude Code-credentials-"


@dataclass(frozen=True)
class Check:
    """A doctor check built from a function; ``level`` is the worst it may report."""

    name: str
    func: Callable[[Any], "CheckResult | list[CheckResult]"]
    needs_network: bool = False
    level: str = "fail"

    def run(self, ctx: Any) -> "CheckResult | list[CheckResult]":
        return self.func(ctx)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _loose_mode(path: Path, details: dict[str, Any]) -> int | None:
    """``path``'s mode (recorded as details["mode"]) when group or others may reach it, else None.
    Windows: always None (the directory's ACLs protect it; mode bits mean nothing there)."""
    from roost_core.api import env_platform

    mode = _mode(path)
    details["mode"] = f"{mode:04o}"
    return mode if mode & 0o077 and env_platform() != "win32" else None


def _writable_dir(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def _settings(ctx: Any) -> Any:
    """The resolved settings, or env-only ones when config.toml is broken (config-file reports that)."""
    from roost_core.api import Settings
    from roost_core.api import RoostError

    try:
        return ctx.settings
    except RoostError:
        return Settings({}, ctx.env, None, ctx.paths.config_file)


def _ago(seconds: float) -> str:
    seconds = abs(int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d"


# -- environment, config -----------------------------------------------------


def check_environment(ctx: Any) -> CheckResult:
    details = {"version": __version__, "python": sys.version.split()[0], "platform": sys.platform,
               "executable": sys.executable, "config_dir": str(ctx.paths.config_dir),
               "profiles_dir": str(ctx.paths.profiles_tree)}
    return CheckResult("environment", "ok", f"roost {__version__} on Python {details['python']} ({sys.platform})",
                       details)


SECURE_STORAGE_VAR = "CLAUDE_SECURESTORAGE_CONFIG_DIR"


def check_secure_storage_env(ctx: Any) -> CheckResult:
    """Claude Code 2.1.220+ picks its credential store from this variable, independently of
    CLAUDE_CONFIG_DIR: set in the shell, a claude run outside roost exec uses that store."""
    value = (getattr(ctx, "env", None) or os.environ).get(SECURE_STORAGE_VAR)
    if value is None:
        return CheckResult("secure-storage-env", "ok", f"{SECURE_STORAGE_VAR} is not set")
    return CheckResult("secure-storage-env", "warn", (
        f"{SECURE_STORAGE_VAR} is set ({value or 'empty'}) in roost's environment: Claude Code 2.1.220+ "
        "reads credentials from the store it names whatever CLAUDE_CONFIG_DIR says, so a claude started "
        "outside 'roost exec' may run as another account; roost exec sets it to the picked profile's "
        "directory. Unset it in your shell profile unless you mean it"), {"value": value})


def check_config_dir(ctx: Any) -> CheckResult:
    path = ctx.paths.config_dir
    details = {"path": str(path)}
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is None or not _writable_dir(parent):
            return CheckResult("config-dir", "fail", f"{path} does not exist and cannot be created "
                               f"({parent} is not writable)", details)
        return CheckResult("config-dir", "ok", f"{path} does not exist yet; roost creates it (0700) on first use",
                           details)
    if not path.is_dir():
        return CheckResult("config-dir", "fail", f"{path} is not a directory", details)
    if not _writable_dir(path):
        return CheckResult("config-dir", "fail", f"{path} is not writable: roost cannot keep its cache, "
                           "picks.log or locks there", details)
    mode = _loose_mode(path, details)
    if mode is not None:
        return CheckResult("config-dir", "warn", f"{path} is mode {mode:04o}; roost keeps it private "
                           f"(chmod 700 {path})", details)
    return CheckResult("config-dir", "ok", f"{path} (0700, writable)", details)


def _known_config_keys(settings: Any) -> set[str]:
    """Top-level keys and tables that mean something: every declared setting's, plus plugins/teams/state."""
    specs = settings.specs()
    tables = {spec.section.split(".")[0] for spec in specs if spec.section}
    return {spec.name for spec in specs if not spec.section} | tables | {"plugins", "teams", "state"}


def _unknown_plugin_and_team_keys(data: dict[str, Any], settings: Any) -> list[str]:
    """Typos roost ignores at run time (a config may name a plugin that is not installed): keys of a
    ``[plugins.NAME]`` table whose plugin declares its settings there, and settings of a team table.
    A plugin that declares nothing in its table reads it raw: its keys are never judged."""
    specs = settings.specs()
    declared: dict[str, set[str]] = {}
    for spec in specs:
        if spec.section and spec.section.startswith("plugins."):
            declared.setdefault(spec.section[len("plugins."):], set()).add(spec.name)
    plugins = data.get("plugins")
    found = [f"plugins.{name}.{key}" for name, table in (plugins.items() if isinstance(plugins, dict) else ())
             if name in declared and isinstance(table, dict) for key in table if key not in declared[name]]
    top = {spec.name for spec in specs if not spec.section}
    for team, table in settings.teams.items():
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if key in declared and isinstance(value, dict):
                found += [f"teams.{team}.{key}.{k}" for k in value if k not in declared[key]]
            elif not isinstance(value, dict) and key not in top:  # a table may belong to any plugin
                found.append(f"teams.{team}.{key}")
    return found


def _unknown_strategies(ctx: Any, settings: Any, teams: list[str | None]) -> list[str]:
    """A strategy name is checked against the installed strategy plugins (the resolver cannot know
    them): `strategy = "bogus"` would otherwise pass here and fail every pick with exit 4."""
    from roost_core.api import RoostError

    try:
        installed = ctx.host.registry("strategy")
    except RoostError:
        return []  # a broken plugin setup is the plugins check's finding
    found = []
    for team in teams:
        scoped = settings if team == settings.team else replace(settings, team=team)
        try:
            name, where = scoped.get("strategy"), scoped.where("strategy")
        except RoostError:
            continue  # already reported by the resolver
        if name not in installed and not where.startswith("default"):
            found.append(f"unknown strategy {name!r} (set by {where}); available: {', '.join(sorted(installed))}")
    return found


def check_config_file(ctx: Any) -> CheckResult:
    from roost_core.api import RoostError, Settings, load_config_file

    path = ctx.paths.config_file
    details: dict[str, Any] = {"path": str(path)}
    if not path.exists():
        return CheckResult("config-file", "ok", f"no {path.name} (built-in defaults)", details)
    try:
        data = load_config_file(path)
        settings = Settings.load(path, ctx.env, getattr(ctx, "team", None))
    except RoostError as err:
        return CheckResult("config-file", "fail", err.message, details)
    bad: list[str] = []
    try:
        settings.disabled_plugins
    except RoostError as err:
        bad.append(err.message)
    teams = [settings.team, *sorted(team for team in settings.teams if team != settings.team)]
    for team in teams:  # every team's values, not only the one in use now
        scoped = settings if team == settings.team else replace(settings, team=team)
        for declared in settings.specs():  # the core's and every plugin's declared settings
            # a per-name setting ([profiles.NAME] isolated): each NAME's value too
            named = [declared.named(n) for n in scoped.names(declared)] if declared.per_name else []
            for spec in (declared, *named):
                try:
                    scoped.resolve(spec)
                except RoostError as err:
                    if err.message not in bad:
                        bad.append(err.message)
    bad += [msg for msg in _unknown_strategies(ctx, settings, teams) if msg not in bad]
    if bad:
        details["errors"] = bad
        return CheckResult("config-file", "fail", "; ".join(bad), details)
    unknown = sorted(set(data) - _known_config_keys(settings)) + _unknown_plugin_and_team_keys(data, settings)
    if unknown:
        details["unknown_keys"] = unknown
        return CheckResult("config-file", "warn", f"{path.name} parses, but these keys mean nothing to roost "
                           f"(typo?): {', '.join(unknown)}", details)
    return CheckResult("config-file", "ok", f"{path} parses", details)


# -- profiles ------------------------------------------------------------------


def check_profiles_dir(ctx: Any) -> CheckResult:

    tree = ctx.paths.profiles_tree
    profiles = ctx.profiles()
    details: dict[str, Any] = {"path": str(tree), "profiles": [p.name for p in profiles]}
    hint = "sign in with `claude login`, then `roost add NAME`"
    if tree.exists() and not tree.is_dir():
        return CheckResult("profiles-dir", "fail", f"{tree} is not a directory", details)
    if not profiles:
        return CheckResult("profiles-dir", "fail", f"no profiles under {tree}: {hint}", details)
    names = ", ".join(p.name for p in profiles)
    if tree.is_dir():
        mode = _loose_mode(tree, details)
        if mode is not None:
            return CheckResult("profiles-dir", "warn", f"{len(profiles)} profile(s) ({names}); {tree} is mode "
                               f"{mode:04o}, keep it private (chmod 700 {tree})", details)
    return CheckResult("profiles-dir", "ok", f"{len(profiles)} profile(s) in {tree}: {names}", details)


def _credential_findings(creds: Any, now: float, name: str,
                         fleet: bool = False) -> tuple[list[str], list[str], list[str]]:
    """(fail, warn, note) sentences about a parsed credentials file. ``fleet``: the file is this
    machine's copy of a shared store's login, which never holds the refresh token (the store does)."""
    fails: list[str] = []
    warns: list[str] = []
    notes: list[str] = []
    if not creds.oauth:
        fails.append("no claudeAiOauth login in the file")
        return fails, warns, notes
    if not creds.access_token and not creds.refresh_token and creds.oauth.get("expiresAt") == 0 \
            and not isinstance(creds.oauth.get("expiresAt"), bool):
        fails.append("logged out: run claude login (claude wiped the tokens after a failed refresh)")
        return fails, warns, notes
    if not creds.access_token:
        fails.append("no access token")
    creds.name_unit_mixup(name, warns.append)
    remaining = creds.seconds_to_expiry(now)
    refreshable = bool(creds.refresh_token) or fleet
    if remaining is None:
        warns.append("no expiresAt: roost cannot tell when the token expires")
    elif remaining <= 0 and not refreshable:
        fails.append(f"token expired {_ago(remaining)} ago and there is no refresh token: sign in again")
    elif remaining <= 0:
        warns.append(f"token expired {_ago(remaining)} ago; `roost refresh {name}` "
                     "(or pick/exec --auto-refresh) renews it")
    else:
        notes.append(f"token valid for {_ago(remaining)}")
        if not refreshable:
            warns.append("no refresh token: the login cannot be renewed and dies at expiry")
    if refreshable and (remaining is None or remaining > 0):
        notes.append("refreshable (the fleet store holds its refresh token)" if fleet and not creds.refresh_token
                     else "refreshable")
    scopes = creds.oauth.get("scopes")
    if isinstance(scopes, list) and scopes and "user:inference" not in scopes:
        warns.append("scopes lack user:inference: Claude Code treats this login as signed out")
    return fails, warns, notes


def check_one_profile(profile: Any, now: float, fleet: bool = False) -> CheckResult:
    from roost_core.api import Credentials, CredentialsError

    name = f"profile:{profile.name}"
    path = profile.credentials_path
    details: dict[str, Any] = {"path": str(path)}
    fails: list[str] = []
    warns: list[str] = []
    notes: list[str] = []
    from roost_core.api import KEYCHAIN_MARKER, env_platform

    if not path.exists() and (profile.directory / KEYCHAIN_MARKER).is_file():
        details["store"] = "keychain"
        return CheckResult(name, "ok", "the login lives in the macOS keychain (not read here: see the "
                           "credential-store check)", details)
    try:
        file_mode, dir_mode = _mode(path), _mode(profile.directory)
        data = path.read_bytes()
    except OSError as exc:
        return CheckResult(name, "fail", f"cannot read {path}: {exc.strerror}", details)
    details.update(mode=f"{file_mode:04o}", dir_mode=f"{dir_mode:04o}", symlink=path.is_symlink())
    if env_platform() == "win32":
        notes.append("protected by the directory's ACLs (Windows: no chmod)")
    elif file_mode & 0o077:
        warns.append(f"credentials file is mode {file_mode:04o}, readable by others (chmod 600 {path})")
    if dir_mode & 0o077 and env_platform() != "win32":
        warns.append(f"profile directory is mode {dir_mode:04o} (chmod 700 {profile.directory})")
    try:
        creds = Credentials.parse(data, str(path))
    except CredentialsError as err:
        return CheckResult(name, "fail", f"{err.message}; roost never rewrites a file it cannot parse "
                           f"(re-import with `roost add {profile.name} --force --from FILE`)", details)
    details.update(plan=creds.plan, expires_at=creds.expires_at_iso(), has_refresh_token=bool(creds.refresh_token),
                   expired=creds.is_expired(now))
    f, w, n = _credential_findings(creds, now, profile.name, fleet)
    fails += f
    warns += w
    notes += n
    level = "fail" if fails else "warn" if warns else "ok"
    plan = creds.plan or "unknown plan"
    message = "; ".join(fails + warns) if level != "ok" else f"{plan}, " + ", ".join(notes or ["parses"])
    return CheckResult(name, level, message, details)


def keychain_service(directory: Path) -> str:
    """Claude Code's macOS keychain item for ``CLAUDE_CONFIG_DIR=directory`` (exec's exact string)."""
    from roost_core.api import config_dir_string, keychain_service as service

    return service(config_dir_string(directory))


def keychain_has_item(service: str) -> bool:
    """Without a run's context nothing is asked: roost talks to ``security`` only through the
    keychain credential store (absolute path, ``-a``, a timeout); ``check_profiles`` passes that."""
    return False


def check_orphan_dir(directory: Path, platform: str = sys.platform,
                     keychain: Callable[[str], bool] = keychain_has_item) -> CheckResult:
    """A directory in the tree without ``.credentials.json``: explained, never "delete it"."""
    name = f"profile:{directory.name}"
    details: dict[str, Any] = {"path": str(directory), "credentials": "missing"}
    if platform == "darwin":
        service = keychain_service(directory)
        details["keychain_item"] = service
        if keychain(service):
            from roost_core.api import KEYCHAIN_MARKER

            marker = directory / KEYCHAIN_MARKER
            details["keychain"] = "present"
            return CheckResult(name, "warn", (
                f"{directory} has no .credentials.json, but the macOS keychain holds {service!r} for it: "
                "Claude Code moved this login into the keychain. roost reads a keychain login only for a "
                "profile it marked, so it skips this one; the login is safe, keep the directory. Mark it "
                f"and it is a profile again: `printf '%s\\n' '{service}' > {marker} && chmod 600 {marker}`."), details)
    return CheckResult(name, "warn", (
        f"{directory} has no .credentials.json, so roost skips it. To use it, sign in there with "
        f"`CLAUDE_CONFIG_DIR={directory} claude login` or import a file with "
        f"`roost add {directory.name} --force --from FILE`."), details)


def _orphan_dirs(tree: Path, known: set[str]) -> list[Path]:
    from roost_core.api import is_valid_name

    try:
        entries = sorted(tree.iterdir())
    except OSError:
        return []
    return [p for p in entries if p.is_dir() and is_valid_name(p.name) and p.name not in known
            and not (p / ".credentials.json").exists()]


def check_profiles(ctx: Any) -> list[CheckResult]:

    profiles = ctx.profiles()
    now = ctx.now()
    fleet = ctx.shared_state is not None
    results = [check_one_profile(p, now, fleet) for p in profiles]
    orphans = _orphan_dirs(ctx.paths.profiles_tree, {p.name for p in profiles})
    if orphans:
        from roost_core.api import current_platform

        platform = current_platform(ctx)
        results += [check_orphan_dir(d, platform, _keychain_lookup(ctx, d)) for d in orphans]
    return results or [CheckResult("profiles", "skip", "no profiles to check")]


def _keychain_lookup(ctx: Any, directory: Path) -> Callable[[str], bool]:
    """Whether the platform's credential store holds an item for ``directory`` (attributes only)."""
    def lookup(service: str) -> bool:
        from roost_core.api import Profile, credential_store

        try:
            return credential_store(ctx).inspect(Profile(directory.name, directory)).get("keychain") == "present"
        except Exception:  # a store that cannot tell: the plain explanation
            return False

    return lookup


# -- state, plugins, filesystem ------------------------------------------------


def _check_state_doc(ctx: Any, path: Path) -> CheckResult:
    name = f"state:{path.name}"
    details: dict[str, Any] = {"path": str(path)}
    if not path.exists():
        return CheckResult(name, "ok", "not created yet", details)
    if not (os.access(path, os.W_OK) and _writable_dir(path.parent)):
        return CheckResult(name, "fail", f"{path} is not writable: roost cannot update it", details)
    try:
        size = path.stat().st_size
        if size > MAX_STATE_BYTES:
            return _rebuilt_state_doc(ctx, path, f"{size} bytes, over the limit", details)
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return CheckResult(name, "warn", f"{path.name} is unreadable ({exc.strerror}); roost treats it as empty",
                           details)
    except ValueError as exc:
        return _rebuilt_state_doc(ctx, path, type(exc).__name__, details)
    if not isinstance(doc, dict):
        return _rebuilt_state_doc(ctx, path, "not a JSON object", details)
    return CheckResult(name, "ok", f"valid JSON, writable ({size} bytes)", details)


def _rebuilt_state_doc(ctx: Any, path: Path, problem: str, details: dict[str, Any]) -> CheckResult:
    """A corrupt document: the files backend's read warns and rebuilds it, as any command's would."""
    try:
        ctx.state.read_doc(path.name[: -len(".json")])
    except Exception:  # noqa: BLE001 - the check reports; the backend's own warning names the cause
        pass
    try:
        whole = isinstance(json.loads(path.read_bytes().decode("utf-8")), dict)
    except (OSError, ValueError):
        whole = False
    outcome = "rebuilt as an empty document" if whole else "read as empty until the next write rebuilds it"
    return CheckResult(f"state:{path.name}", "warn", f"{path.name} {'was' if whole else 'is'} corrupt ({problem}); "
                       f"{outcome}", details)


def _check_state_log(path: Path) -> CheckResult | None:
    if not path.exists():
        return None
    name = f"state:{path.name}"
    if not (os.access(path, os.W_OK) and _writable_dir(path.parent)):
        return CheckResult(name, "fail", f"{path} is not writable: roost cannot append to it", {"path": str(path)})
    return CheckResult(name, "ok", f"writable ({path.stat().st_size} bytes)", {"path": str(path)})


def check_state_files(ctx: Any) -> list[CheckResult]:
    backend = _settings(ctx).get("state_backend")
    if backend != "files":
        return [CheckResult("state-files", "skip", f"state lives in the {backend!r} backend, not in files")]
    directory = ctx.paths.config_dir
    results = [_check_state_doc(ctx, directory / doc) for doc in STATE_DOCS]
    results += [r for r in (_check_state_log(directory / log) for log in STATE_LOGS) if r is not None]
    return results


def check_plugins(ctx: Any) -> list[CheckResult]:
    from roost_core.api import RoostError
    from roost_core.api import ANY_KIND

    host = ctx.host
    try:
        infos = host.plugin_infos()  # imports every entry point and calls every registry hook
    except RoostError as err:
        return [CheckResult("plugins", "fail", err.message)]
    results = []
    for failure in host.failures:
        builtin = failure.dist == "roost"
        results.append(CheckResult(f"plugin:{failure.plugin}", "fail" if builtin else "warn", failure.message(),
                                   {"dist": failure.dist, "version": failure.version, "builtin": builtin}))
    for entry in host.entries:
        if entry.kind == ANY_KIND:
            results.append(CheckResult(f"plugin:{entry.plugin}", "warn", (
                f"entry point {entry.entry_name!r} has no <kind>. prefix, so it loads with every command; "
                "name it e.g. 'strategy.NAME'"), {"dist": entry.dist}))
    loaded = [i.name for i in infos if i.status == "loaded"]
    disabled = [i.name for i in infos if i.status == "disabled"]
    summary = f"{len(loaded)} plugin(s) loaded" + (f", disabled: {', '.join(disabled)}" if disabled else "")
    level = "fail" if any(r.level == "fail" for r in results) else "warn" if results else "ok"
    if level != "ok":
        summary += f"; {len(results)} problem(s)"
    return [CheckResult("plugins", level, summary, {"loaded": loaded, "disabled": disabled}), *results]


def check_filesystem(ctx: Any) -> list[CheckResult]:
    from roost_core.api import filesystem_of, network_kind

    results = []
    for label, path in (("profiles tree", ctx.paths.profiles_tree), ("config dir", ctx.paths.config_dir)):
        name = f"filesystem:{'profiles' if label == 'profiles tree' else 'config'}"
        mount = filesystem_of(path)
        if mount is None:
            results.append(CheckResult(name, "skip", "no mount table here (/proc/self/mountinfo)"))
            continue
        details = {"path": str(path), "fstype": mount.fstype, "mount_point": mount.mount_point,
                   "source": mount.source}
        kind = network_kind(mount.fstype)
        if kind is None:
            results.append(CheckResult(name, "ok", f"{label} is on a local filesystem ({mount.fstype})", details))
            continue
        results.append(CheckResult(name, "warn", (
            f"{label} {path} is on {mount.fstype} ({mount.source}), a {kind} filesystem: file locks do not "
            "reach other machines, and a refresh token works once. Let ONE machine refresh these "
            "credentials (no refresh cron or --auto-refresh elsewhere)."), details))
    return results


# -- network -------------------------------------------------------------------


def _reach(name: str, what: str, url: str, ctx: Any) -> CheckResult:
    from roost_core.api import RoostError
    from roost_core.api import check_endpoint, request_sync

    details: dict[str, Any] = {"url": url}
    try:
        check_endpoint(url, what)
    except RoostError as err:
        return CheckResult(name, "fail", err.message, details)
    headers = {"User-Agent": _settings(ctx).get("user_agent"), "Accept": "application/json"}
    result = request_sync("GET", url, headers=headers, deadline_s=NETWORK_DEADLINE_S, max_bytes=64 * 1024)
    details.update(status=result.status, error=result.error, elapsed_s=round(result.elapsed_s, 3))
    if result.error:
        why = f"{result.error}: {result.error_detail}" if result.error_detail else result.error
        return CheckResult(name, "fail", f"cannot reach {url} ({why})", details)
    if result.status is not None and result.status >= 500:
        return CheckResult(name, "warn", f"{url} is reachable but answers HTTP {result.status}", details)
    return CheckResult(name, "ok", f"{url} reachable (HTTP {result.status} without credentials, "
                       f"{result.elapsed_s * 1000:.0f} ms)", details)


def check_usage_endpoint(ctx: Any) -> CheckResult:
    base = str(_settings(ctx).get("api_base")).rstrip("/")
    return _reach("usage-endpoint", "usage endpoint", base + USAGE_PATH, ctx)


def check_token_endpoint(ctx: Any) -> CheckResult:
    return _reach("token-endpoint", "token endpoint", str(_settings(ctx).get("token_url")), ctx)


CHECKS: tuple[Check, ...] = (
    Check("environment", check_environment),
    Check("secure-storage-env", check_secure_storage_env, level="warn"),
    Check("config-dir", check_config_dir),
    Check("config-file", check_config_file),
    Check("profiles-dir", check_profiles_dir),
    Check("profiles", check_profiles),
    Check("state-files", check_state_files),
    Check("plugins", check_plugins),
    Check("filesystem", check_filesystem, level="warn"),
    Check("usage-endpoint", check_usage_endpoint, needs_network=True),
    Check("token-endpoint", check_token_endpoint, needs_network=True),
)


@hookimpl
def roost_register_doctor_checks():
    return list(CHECKS)
