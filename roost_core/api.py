"""roost's public plugin API: every name a plugin (built-in or third-party) may import.

Import from here and nowhere else in ``roost_core``::

    from roost_core.api import hookimpl, Candidate, Ranking, RoostError

Names resolve lazily (PEP 562): importing this module costs nothing on the
hot path, and a name's home module is imported the first time it is used.
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
    "KEYCHAIN_MARKER": ".filestore:KEYCHAIN_MARKER",
    "windows_retry": ".winretry:windows_retry",
    # HTTP helpers (httpx is imported only when a request is made)
    "HttpResult": ".http:HttpResult",
    "request_sync": ".http:request_sync",
    "request_async": ".http:request_async",
    "check_endpoint": ".http:check_endpoint",
    # the engines' results, for views (top, trace, explain)
    "get_records": ".probe:get_records",
    "observe_probes": ".progress:observing",
    "read_local": ".probe:read_local",
    "probe_traced": ".probe:probe_traced",
    "scrub": ".probe.scrub:scrub",  # the function, not the submodule of the same name
    "iso_time": ".probe:iso",
    "to_epoch": ".durations:to_epoch",
    "health_meta": ".summary:health_meta",
    "health_entries": ".healthcache:entries",
    "drop_all_health": ".healthcache:drop_all",
    "probe_many": ".probe:probe_many",
    "probe_raw_many": ".probe:probe_raw_many",
    "probe_budget_meta": ".probe:budget_meta",
    "plan_probe_run": ".probe:plan_run",
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
    "team_option": ".cli.common:team_option",
    "COMPLETE_VAR": ".cli.shell_complete:COMPLETE_VAR",
    "register_completion_shells": ".cli.shell_complete:register_shells",
    "render": ".render:render",
    "run_cli": ".launch:run_cli",
    "plain_table": ".render:plain_table",
}

__all__ = sorted(_EXPORTS)


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


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import ENTRY_POINT_GROUP, PROJECT_NAME, __version__, hookimpl
