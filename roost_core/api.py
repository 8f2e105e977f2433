"""roost's public plugin API: every name a plugin (built-in or third-party) may import.

Import from here and nowhere else in ``roost_core``::

    from roost_core.api import hookimpl, Candidate, Ranking, RoostError

Names resolve lazily (PEP 562): importing this module costs nothing on the
hot path, and a name's home module is imported the first time it is used.
The same names are imported at the bottom under ``TYPE_CHECKING`` (never at
run time), so a plugin's mypy sees each one's real type, not ``Any``: a name
added to ``_EXPORTS`` is added there too (tests/unit/test_api_typed.py).
``roost_core.testing`` (a pytest plugin) is the one other public module.

Stability: a name listed here keeps its meaning across minor releases;
internals may move freely behind it.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # no typing import: plugins' fast commands (roost statusline) import this module
if TYPE_CHECKING:
    from typing import Any

# name -> "module:attribute" (module relative to roost_core).
_EXPORTS: dict[str, str] = {
    # markers and constants
    "__version__": ":__version__",
    "hookimpl": ":hookimpl",
    "PROJECT_NAME": ":PROJECT_NAME",
    "ENTRY_POINT_GROUP": ":ENTRY_POINT_GROUP",
    # the context handed to every run-time hook
    "RoostContext": ".context:RoostContext",
    "Setting": ".setting:Setting",
    "Settings": ".config:Settings",
    "TRUTHY": ".config:TRUTHY",
    "SETTINGS": ".config:SETTINGS",
    "load_config_file": ".config:load_config_file",
    "ANY_KIND": ".plugins:ANY_KIND",
    # records
    "Health": ".records:Health",
    "Profile": ".records:Profile",
    "Usage": ".records:Usage",
    "ProbeOutcome": ".records:ProbeOutcome",
    "Classification": ".records:Classification",
    "HealthRecord": ".records:HealthRecord",
    "Candidate": ".records:Candidate",
    "PickRequest": ".records:PickRequest",
    "Scored": ".records:Scored",
    "Ranking": ".records:Ranking",
    "PlatformStatus": ".records:PlatformStatus",
    "TokenGrant": ".records:TokenGrant",
    "CheckResult": ".records:CheckResult",
    # interfaces (Protocols)
    "Strategy": ".interfaces:Strategy",
    "ProbeSource": ".interfaces:ProbeSource",
    "TokenRefresher": ".interfaces:TokenRefresher",
    "StatusFeed": ".interfaces:StatusFeed",
    "Renderer": ".interfaces:Renderer",
    "DoctorCheck": ".interfaces:DoctorCheck",
    "PassiveSource": ".interfaces:PassiveSource",
    # state backends: capability interfaces and the base class with their defaults
    "StateBackend": ".interfaces:StateBackend",
    "StateBackendFactory": ".interfaces:StateBackendFactory",
    "Documents": ".interfaces:Documents",
    "Locks": ".interfaces:Locks",
    "Logs": ".interfaces:Logs",
    "CredentialStore": ".interfaces:CredentialStore",
    "FleetMembership": ".interfaces:FleetMembership",
    "PendingGrant": ".interfaces:PendingGrant",
    "StateBackendBase": ".backend:StateBackendBase",
    "RefreshGuard": ".backend:RefreshGuard",
    "JsonDocuments": ".docstore:JsonDocuments",
    # errors and exit codes
    "ExitCode": ".errors:ExitCode",
    "RoostError": ".errors:RoostError",
    "AuthRequired": ".errors:AuthRequired",
    "NotFound": ".errors:NotFound",
    "ValidationError": ".errors:ValidationError",
    "Forbidden": ".errors:Forbidden",
    "RateLimited": ".errors:RateLimited",
    "Conflict": ".errors:Conflict",
    "LeaseHeld": ".errors:LeaseHeld",
    "Timeout": ".errors:Timeout",
    "Unavailable": ".errors:Unavailable",
    "RefreshRejected": ".errors:RefreshRejected",
    "RefreshNotAttempted": ".errors:RefreshNotAttempted",
    "RefreshAmbiguous": ".errors:RefreshAmbiguous",
    # atomic, private file I/O
    "atomic_write": ".atomic:atomic_write",
    "ensure_private_dir": ".atomic:ensure_private_dir",
    "fsync_dir": ".atomic:fsync_dir",
    "append_line": ".linelog:append_line",
    "remove_stale_temps": ".atomic:remove_stale_temps",
    "write_user_file": ".atomic:write_user_file",
    # text from outside roost, made safe for a terminal
    "clean_line": ".textsafe:clean_line",
    "clean_text": ".textsafe:clean_text",
    "clean_tree": ".textsafe:clean_tree",
    # numbers from outside roost: finite and bounded
    "check_number": ".numbers:check_number",
    "epoch_seconds": ".numbers:epoch_seconds",
    "finite_number": ".numbers:finite",
    "number_setting": ".numbers:number_setting",
    "parse_number": ".numbers:parse_number",
    "server_duration": ".numbers:server_duration",
    # names, durations, time
    "is_valid_name": ".names:is_valid_name",
    "validate_name": ".names:validate_name",
    "format_duration": ".durations:format_duration",
    "parse_duration": ".durations:parse_duration",
    "utc_now_iso": ".audit:utc_now_iso",
    "parse_time": ".pick:parse_time",
    # this host's processes (lease holders, lock owners)
    "boot_id": ".leases:boot_id",
    "process_start": ".leases:process_start",
    "Lease": ".leases:Lease",
    "acquire_lease": ".leases:acquire",
    "release_lease": ".leases:release",
    "set_lease_child": ".leases:set_child",
    "filesystem_of": ".mounts:filesystem_of",
    "network_kind": ".mounts:network_kind",
    # picks.log, the audit trail
    "AUDIT_COLUMNS": ".audit:COLUMNS",
    "PICKS_LOG": ".audit:PICKS_LOG",
    "parse_audit_line": ".audit:parse_line",
    "append_audit": ".audit:append",
    "AuditEvent": ".records:AuditEvent",
    # passive health (readings from a running claude)
    "PassiveEvidence": ".passive:Evidence",
    "PASSIVE_DOC": ".passive_doc:DOC",
    "PASSIVE_DOC_VERSION": ".passive_doc:VERSION",
    "passive_profiles_of": ".passive_doc:profiles_of",
    "passive_readings_of": ".passive_doc:readings_of",
    "passive_summary": ".passive:summary",
    # profiles and credentials
    "CREDENTIALS_FILE": ".profiles:CREDENTIALS_FILE",
    "discover_profiles": ".profiles:discover",
    "OAUTH_KEY": ".credentials:OAUTH_KEY",
    "Credentials": ".credentials:Credentials",
    "CredentialsError": ".credentials:CredentialsError",
    "redact": ".credentials:redact",
    # profile management (the profiles plugin: list, add, snapshot, remove, rename, removed)
    "CLAUDE_JSON": ".identity:CLAUDE_JSON",
    "DEFAULT_PROFILE": ".profiles:DEFAULT_PROFILE",
    "IdentityAccount": ".identity:Account",
    "accounts_of": ".identity:accounts_of",
    "clear_last_pick": ".lastpick:clear_if",
    "default_add_source": ".paths:default_add_source",
    "claude_dir": ".paths:claude_dir",
    "drop_health": ".healthcache:drop",
    "ensure_not_leased": ".leases:ensure_not_leased",
    "holds_only_identity": ".identity:holds_only_identity",
    "identity_source_for": ".identity:source_for",
    "import_identity_block": ".identity:import_block",
    "profile_dir": ".profiles:profile_dir",
    "read_identity_block": ".identity:read_block",
    "refresh_lock": ".refresh:refresh_lock",
    "shared_accounts": ".identity:shared_accounts",
    # credential stores (where claude keeps a login: file, macOS keychain, a site's own)
    "ANY_TOKEN": ".credstore:ANY",
    "CredentialStoreFactory": ".credstore:CredentialStoreFactory",
    "ProfileCredentialStore": ".credstore:ProfileCredentialStore",
    "StoredCredentials": ".credstore:StoredCredentials",
    "check_expected": ".credstore:check_expected",
    "config_dir_string": ".credstore:config_dir_string",
    "credential_store": ".credstore:credential_store",
    "current_platform": ".credstore:current_platform",
    "env_platform": ".credstore:env_platform",
    "keychain_account": ".credstore:keychain_account",
    "keychain_service": ".credstore:keychain_service",
    "refresh_token_of": ".credstore:refresh_token_of",
    "verify_written": ".credstore:verify_written",
    "FileCredentialStore": ".filestore:FileCredentialStore",
    "KEYCHAIN_SERVICE": ".credstore:KEYCHAIN_SERVICE",
    "KEYCHAIN_MARKER": ".profiles:KEYCHAIN_MARKER",
    "windows_retry": ".winretry:windows_retry",
    # HTTP helpers (httpx is imported only when a request is made)
    "HttpResult": ".http:HttpResult",
    "request_sync": ".http:request_sync",
    "request_async": ".http:request_async",
    "check_endpoint": ".http:check_endpoint",
    # the engines' results, for views (top, trace, explain)
    "get_records": ".probe.cache:get_records",
    "needs_login": ".probe.local:needs_login",
    "is_logged_out": ".deadtoken:is_logged_out",
    "observe_probes": ".progress:observing",
    "read_local": ".probe.local:read_local",
    "probe_traced": ".probe.raw:probe_traced",
    "scrub": ".probe.scrub:scrub",  # the function, not the submodule of the same name
    "iso_time": ".probe.local:iso",
    "to_epoch": ".durations:to_epoch",
    "health_meta": ".summary:health_meta",
    "health_entries": ".healthcache:entries",
    "drop_all_health": ".healthcache:drop_all",
    "probe_many": ".probe.fanout:probe_many",
    "probe_raw_many": ".probe.raw:probe_raw_many",
    "probe_budget_meta": ".probe.cache:budget_meta",
    "plan_probe_run": ".probe.cache:plan_run",
    "passive_describe": ".passive:describe",
    "passive_forget": ".passive:forget",
    "configured_status_feed": ".platform:configured_feed",
    "find_renderer": ".render:find_renderer",
    "renderer_formats": ".render:formats_for",
    "summary_line": ".summary:summary_line",
    "explain_cell": ".pick:explain_cell",
    # the pick ladder and the refresh protocol, for the commands over them (pick, which, exec, refresh)
    "EXPORT_VAR": ".pick:EXPORT_VAR",
    "PickOptions": ".pick:PickOptions",
    "run_pick": ".pick:run_pick",
    "RefreshResult": ".refresh:RefreshResult",
    "ALREADY_FRESH": ".refresh:ALREADY_FRESH",
    "NOTHING_TO_REFRESH": ".refresh:NOTHING_TO_REFRESH",
    "REFRESHED": ".refresh:REFRESHED",
    "SKIPPED_LEASED": ".refresh:SKIPPED_LEASED",
    "SKIPPED_NOT_DUE": ".refresh:SKIPPED_NOT_DUE",
    "is_due": ".refresh:is_due",
    "read_credentials": ".refresh:read_credentials",
    "refresh_profile": ".refresh:refresh_profile",
    "signals_deferred": ".refresh:signals_deferred",
    "platform_status": ".platform:platform_status",
    "platform_header_line": ".platform:header_line",
    # CLI helpers for plugin commands
    "json_option": ".cli.common:json_option",
    "pass_roost": ".cli.common:pass_roost",
    "complete_profiles": ".cli.common:complete_profiles",
    "DURATION": ".cli.common:DURATION",
    "PERCENT": ".cli.common:PERCENT",
    "SettingType": ".cli.common:SettingType",
    "team_option": ".cli.common:team_option",
    "COMPLETE_VAR": ".cli.shell_complete:COMPLETE_VAR",
    "register_completion_shells": ".cli.shell_complete:register_shells",
    "render": ".render:render",
    "run_cli": ".launch:run_cli",
    "plain_table": ".render:plain_table",
}

# Spelled out (not sorted(_EXPORTS)) so type checkers see which names are public: a renamed
# import below ("summary as passive_summary") is exported only by being listed here.
__all__ = [
    "ALREADY_FRESH", "ANY_KIND", "ANY_TOKEN", "AUDIT_COLUMNS", "AuditEvent", "AuthRequired", "CLAUDE_JSON",
    "COMPLETE_VAR", "CREDENTIALS_FILE", "Candidate", "CheckResult", "Classification", "Conflict",
    "CredentialStore", "CredentialStoreFactory", "Credentials", "CredentialsError", "DEFAULT_PROFILE",
    "DURATION", "DoctorCheck", "Documents", "ENTRY_POINT_GROUP", "EXPORT_VAR", "ExitCode",
    "FileCredentialStore", "FleetMembership", "Forbidden", "Health", "HealthRecord", "HttpResult",
    "IdentityAccount", "JsonDocuments", "KEYCHAIN_MARKER", "KEYCHAIN_SERVICE", "Lease", "LeaseHeld", "Locks",
    "Logs", "NOTHING_TO_REFRESH", "NotFound", "OAUTH_KEY", "PASSIVE_DOC", "PASSIVE_DOC_VERSION", "PERCENT",
    "PICKS_LOG", "PROJECT_NAME", "PassiveEvidence", "PassiveSource", "PendingGrant", "PickOptions",
    "PickRequest", "PlatformStatus", "ProbeOutcome", "ProbeSource", "Profile", "ProfileCredentialStore",
    "REFRESHED", "Ranking", "RateLimited", "RefreshAmbiguous", "RefreshGuard", "RefreshNotAttempted",
    "RefreshRejected", "RefreshResult", "Renderer", "RoostContext", "RoostError", "SETTINGS", "SKIPPED_LEASED",
    "SKIPPED_NOT_DUE", "Scored", "Setting", "SettingType", "Settings", "StateBackend", "StateBackendBase",
    "StateBackendFactory", "StatusFeed", "StoredCredentials", "Strategy", "TRUTHY", "Timeout", "TokenGrant",
    "TokenRefresher", "Unavailable", "Usage", "ValidationError", "__version__", "accounts_of", "acquire_lease",
    "append_audit", "append_line", "atomic_write", "boot_id", "check_endpoint", "check_expected",
    "check_number", "claude_dir", "clean_line", "clean_text", "clean_tree", "clear_last_pick", "complete_profiles",
    "config_dir_string", "configured_status_feed", "credential_store", "current_platform", "default_add_source",
    "discover_profiles", "drop_all_health", "drop_health", "ensure_not_leased", "ensure_private_dir",
    "env_platform", "epoch_seconds", "explain_cell", "filesystem_of", "find_renderer", "format_duration",
    "finite_number", "fsync_dir", "get_records", "health_entries", "health_meta", "holds_only_identity", "hookimpl",
    "identity_source_for", "import_identity_block", "is_due", "is_logged_out", "is_valid_name", "iso_time", "json_option",
    "keychain_account", "keychain_service", "load_config_file", "needs_login", "network_kind", "number_setting",
    "observe_probes", "parse_audit_line", "parse_duration", "parse_number", "parse_time", "pass_roost",
    "passive_describe", "passive_forget", "passive_profiles_of", "passive_readings_of", "passive_summary",
    "plain_table", "plan_probe_run", "platform_header_line", "platform_status", "probe_budget_meta",
    "probe_many", "probe_raw_many", "probe_traced", "process_start", "profile_dir", "read_credentials",
    "read_identity_block", "read_local", "redact", "refresh_lock", "refresh_profile", "refresh_token_of",
    "register_completion_shells", "release_lease", "remove_stale_temps", "render", "renderer_formats",
    "request_async", "request_sync", "run_cli", "run_pick", "scrub", "server_duration", "set_lease_child",
    "shared_accounts", "signals_deferred", "summary_line", "team_option", "to_epoch", "utc_now_iso",
    "validate_name", "verify_written", "windows_retry", "write_user_file",
]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'roost_core.api' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name or ".", "roost_core")
    value = getattr(module, attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - each name typed for mypy and IDEs ("X as X": an explicit re-export)
    from . import (
        ENTRY_POINT_GROUP as ENTRY_POINT_GROUP, PROJECT_NAME as PROJECT_NAME, __version__ as __version__,
        hookimpl as hookimpl,
    )
    from .atomic import (
        atomic_write as atomic_write, ensure_private_dir as ensure_private_dir, fsync_dir as fsync_dir,
        remove_stale_temps as remove_stale_temps, write_user_file as write_user_file,
    )
    from .audit import (
        COLUMNS as AUDIT_COLUMNS, PICKS_LOG as PICKS_LOG, append as append_audit, parse_line as parse_audit_line,
        utc_now_iso as utc_now_iso,
    )
    from .backend import RefreshGuard as RefreshGuard, StateBackendBase as StateBackendBase
    from .cli.common import (
        DURATION as DURATION, PERCENT as PERCENT, SettingType as SettingType, complete_profiles as complete_profiles,
        json_option as json_option, pass_roost as pass_roost, team_option as team_option,
    )
    from .cli.shell_complete import COMPLETE_VAR as COMPLETE_VAR, register_shells as register_completion_shells
    from .config import (
        SETTINGS as SETTINGS, Settings as Settings, TRUTHY as TRUTHY, load_config_file as load_config_file,
    )
    from .context import RoostContext as RoostContext
    from .credentials import (
        Credentials as Credentials, CredentialsError as CredentialsError, OAUTH_KEY as OAUTH_KEY, redact as redact,
    )
    from .credstore import (
        ANY as ANY_TOKEN, CredentialStoreFactory as CredentialStoreFactory, KEYCHAIN_SERVICE as KEYCHAIN_SERVICE,
        ProfileCredentialStore as ProfileCredentialStore, StoredCredentials as StoredCredentials,
        check_expected as check_expected, config_dir_string as config_dir_string,
        credential_store as credential_store, current_platform as current_platform, env_platform as env_platform,
        keychain_account as keychain_account, keychain_service as keychain_service,
        refresh_token_of as refresh_token_of, verify_written as verify_written,
    )
    from .docstore import JsonDocuments as JsonDocuments
    from .durations import (
        format_duration as format_duration, parse_duration as parse_duration, to_epoch as to_epoch,
    )
    from .errors import (
        AuthRequired as AuthRequired, Conflict as Conflict, ExitCode as ExitCode, Forbidden as Forbidden,
        LeaseHeld as LeaseHeld, NotFound as NotFound, RateLimited as RateLimited,
        RefreshAmbiguous as RefreshAmbiguous, RefreshNotAttempted as RefreshNotAttempted,
        RefreshRejected as RefreshRejected, RoostError as RoostError, Timeout as Timeout,
        Unavailable as Unavailable, ValidationError as ValidationError,
    )
    from .filestore import FileCredentialStore as FileCredentialStore
    from .healthcache import drop as drop_health, drop_all as drop_all_health, entries as health_entries
    from .http import (
        HttpResult as HttpResult, check_endpoint as check_endpoint, request_async as request_async,
        request_sync as request_sync,
    )
    from .identity import (
        Account as IdentityAccount, CLAUDE_JSON as CLAUDE_JSON, accounts_of as accounts_of,
        holds_only_identity as holds_only_identity, import_block as import_identity_block,
        read_block as read_identity_block, shared_accounts as shared_accounts, source_for as identity_source_for,
    )
    from .interfaces import (
        CredentialStore as CredentialStore, DoctorCheck as DoctorCheck, Documents as Documents,
        FleetMembership as FleetMembership, Locks as Locks, Logs as Logs, PassiveSource as PassiveSource,
        PendingGrant as PendingGrant, ProbeSource as ProbeSource, Renderer as Renderer,
        StateBackend as StateBackend, StateBackendFactory as StateBackendFactory, StatusFeed as StatusFeed,
        Strategy as Strategy, TokenRefresher as TokenRefresher,
    )
    from .lastpick import clear_if as clear_last_pick
    from .launch import run_cli as run_cli
    from .leases import (
        Lease as Lease, acquire as acquire_lease, boot_id as boot_id, ensure_not_leased as ensure_not_leased,
        process_start as process_start, release as release_lease, set_child as set_lease_child,
    )
    from .linelog import append_line as append_line
    from .mounts import filesystem_of as filesystem_of, network_kind as network_kind
    from .names import is_valid_name as is_valid_name, validate_name as validate_name
    from .numbers import (
        check_number as check_number, epoch_seconds as epoch_seconds, finite as finite_number,
        number_setting as number_setting,
        parse_number as parse_number, server_duration as server_duration,
    )
    from .passive import (
        Evidence as PassiveEvidence, describe as passive_describe, forget as passive_forget,
        summary as passive_summary,
    )
    from .passive_doc import (
        DOC as PASSIVE_DOC, VERSION as PASSIVE_DOC_VERSION, profiles_of as passive_profiles_of,
        readings_of as passive_readings_of,
    )
    from .paths import claude_dir as claude_dir, default_add_source as default_add_source
    from .pick import (
        EXPORT_VAR as EXPORT_VAR, PickOptions as PickOptions, explain_cell as explain_cell,
        parse_time as parse_time, run_pick as run_pick,
    )
    from .platform import (
        configured_feed as configured_status_feed, header_line as platform_header_line,
        platform_status as platform_status,
    )
    from .plugins import ANY_KIND as ANY_KIND
    # From the modules, not the lazy package: its PEP 562 __getattr__ would type them Any.
    from .probe.cache import budget_meta as probe_budget_meta, get_records as get_records, plan_run as plan_probe_run
    from .probe.fanout import probe_many as probe_many
    from .probe.local import iso as iso_time, read_local as read_local
    from .probe.raw import probe_raw_many as probe_raw_many, probe_traced as probe_traced
    from .deadtoken import is_logged_out as is_logged_out
    from .probe.local import needs_login as needs_login
    from .probe.scrub import scrub as scrub
    from .profiles import (
        CREDENTIALS_FILE as CREDENTIALS_FILE, DEFAULT_PROFILE as DEFAULT_PROFILE,
        KEYCHAIN_MARKER as KEYCHAIN_MARKER, discover as discover_profiles, profile_dir as profile_dir,
    )
    from .progress import observing as observe_probes
    from .records import (
        AuditEvent as AuditEvent, Candidate as Candidate, CheckResult as CheckResult,
        Classification as Classification, Health as Health, HealthRecord as HealthRecord,
        PickRequest as PickRequest, PlatformStatus as PlatformStatus, ProbeOutcome as ProbeOutcome,
        Profile as Profile, Ranking as Ranking, Scored as Scored, TokenGrant as TokenGrant, Usage as Usage,
    )
    from .refresh import (
        ALREADY_FRESH as ALREADY_FRESH, NOTHING_TO_REFRESH as NOTHING_TO_REFRESH, REFRESHED as REFRESHED,
        RefreshResult as RefreshResult, SKIPPED_LEASED as SKIPPED_LEASED, SKIPPED_NOT_DUE as SKIPPED_NOT_DUE,
        is_due as is_due, read_credentials as read_credentials, refresh_lock as refresh_lock,
        refresh_profile as refresh_profile, signals_deferred as signals_deferred,
    )
    from .render import (
        find_renderer as find_renderer, formats_for as renderer_formats, plain_table as plain_table,
        render as render,
    )
    from .setting import Setting as Setting
    from .summary import health_meta as health_meta, summary_line as summary_line
    from .textsafe import clean_line as clean_line, clean_text as clean_text, clean_tree as clean_tree
    from .winretry import windows_retry as windows_retry
