"""roost's plugin API: every hook a plugin may implement.

Built-in features (the six strategies, the Anthropic probe, the taxonomy,
the status page, the usage log, trace, ...) are plugins using exactly these
hooks. Conventions:

* Registry hooks (``roost_register_*``) return one object or a list of them;
  the core calls each plugin's impl separately so a failing plugin is named
  and skipped instead of breaking the call.
* Hooks are called with keyword arguments; an impl may accept any subset of
  them (pluggy's opt-in arguments), so arguments are added, never renamed.
* Run-time hooks receive ``ctx`` (a RoostContext): resolved settings, paths,
  the clock, the state backend and the output streams.

Added in 0.5.0 unless noted. docs/PLUGINS.md documents each with an example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import pluggy

from . import PROJECT_NAME

if TYPE_CHECKING:
    import click

    from .context import RoostContext
    from .interfaces import (DoctorCheck, PassiveSource, ProbeSource, Renderer, StateBackend, StatusFeed,
                             Strategy, TokenRefresher)
    from .records import Classification, HealthRecord, ProbeOutcome, Profile
    from .setting import Setting

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def roost_register_strategies() -> "Strategy | list[Strategy]":
    """Return pick strategies (objects with ``name``, ``summary``, ``rank``).

    Called when a command needs a strategy: by name for ``--strategy NAME``,
    all of them for ``--help``, completion and the unknown-name error.
    All results are collected; a name provided twice is an error naming both
    plugins.
    """


@hookspec
def roost_register_probe_sources() -> "ProbeSource | list[ProbeSource]":
    """Return probe sources (``name`` and ``async probe(profile, access_token, client, ctx)``).

    The configured ``probe_source`` (default ``anthropic``) probes every
    profile. ``client`` is a shared ``httpx.AsyncClient``. All results collected.
    """


@hookspec
def roost_register_token_refreshers() -> "TokenRefresher | list[TokenRefresher]":
    """Return token refreshers (``name`` and ``refresh(refresh_token, ctx) -> TokenGrant``).

    The core holds every lock and does every file write; a refresher only
    talks to the token endpoint. All results collected.
    """


@hookspec(firstresult=True)
def roost_classify(profile: "Profile", outcome: "ProbeOutcome", now: float,
                   ctx: "RoostContext") -> "Classification | None":
    """Map a probe outcome to one of the eight health states.

    firstresult: the first non-None answer wins. The built-in taxonomy is
    ``trylast``, so a site plugin can claim outcomes it understands (an
    internal gateway's 403, say) and return None for everything else.
    ``now`` is epoch seconds.
    """


@hookspec
def roost_probe_completed(profile: "Profile", outcome: "ProbeOutcome",
                          record: "HealthRecord", ctx: "RoostContext") -> None:
    """Observe a finished live probe (after classification and caching).

    Called for each impl separately; an exception becomes a warning. The
    usage log is built on this hook. Not called for ``probe --raw``.
    """


@hookspec
def roost_register_renderers() -> "Renderer | list[Renderer]":
    """Return renderers: how views are drawn for people (rich tables) or other formats.

    The JSON envelope stays in the core; renderers never write JSON.
    """


@hookspec
def roost_register_status_feeds() -> "StatusFeed | list[StatusFeed]":
    """Return platform status feeds (status.claude.com is the built-in one)."""


@hookspec
def roost_register_doctor_checks() -> "DoctorCheck | list[DoctorCheck]":
    """Return doctor checks (``name``, ``needs_network``, ``run(ctx)``)."""


@hookspec
def roost_register_state_backends() -> "StateBackend | list[StateBackend] | Any":
    """Return state backends, or factories ``f(ctx) -> StateBackend`` with a ``name``.

    ``[state] backend = "NAME"`` in config.toml chooses one; ``files`` is the
    built-in default.
    """


@hookspec
def roost_register_commands(cli: "click.Group") -> None:
    """Add click commands or groups to the root ``cli`` (or to its ``config`` group).

    Called only when the CLI needs commands that are not core ones (an
    unknown name, ``--help``, completion).
    """


@hookspec
def roost_register_settings() -> "Setting | list[Setting]":
    """Return the plugin's settings (``roost_core.api.Setting`` records).

    Each names its key, ``type``, ``default``, environment variable, one-line
    ``doc``, allowed ``choices`` and config.toml ``section`` (conventionally
    ``plugins.<plugin>``); the owning plugin is filled in by the host. They
    join the one resolver: flag > environment > ``[teams.NAME]`` (the section
    inside the team table, without ``plugins.``) > config.toml > default,
    with the same validation (a bad value is VALIDATION naming the setting,
    the plugin and the source) and ``roost config`` lists them. Register the
    hook through a ``settings.<plugin>`` entry point pointing at a small
    module: it is imported only when one of its keys is read or every
    setting is listed. Added in 0.6.0.
    """


@hookspec
def roost_register_credential_stores() -> "Any":
    """Return credential stores (``roost_core.api.ProfileCredentialStore``) or factories with ``open(ctx)``.

    A store is where claude keeps a profile's login: ``name``, ``platforms``
    (a set of ``linux``, ``darwin``, ``win32``), ``priority``, and ``read``,
    ``write`` (compare-and-set on the refresh token, read back and verified),
    ``delete``, ``lock_dir``, ``inspect``, ``ready_to_spend``. The
    ``credential_store`` setting names one; unset, the highest-priority store
    of the ``platform`` setting is used (built-in: ``file`` everywhere,
    ``keychain`` on darwin). The state backend holds claude's three locks
    around every write. docs/platforms.md. Added in 0.6.0.
    """


@hookspec
def roost_register_passive_sources() -> "PassiveSource | list[PassiveSource]":
    """Return passive sources: ``name``, ``kinds`` and ``read(kind, observation, now)``.

    A passive source turns something a running claude reported into a reading
    (a dict: ``source``, ``observed_at``, ``health``, ``windows``, ``until``,
    ``reason``; docs/passive-health.md) or None. ``kind`` is ``statusline``
    or ``hook`` (``observation`` is the parsed JSON document), ``stream`` (one
    stdout line, bytes) or a kind a site defines (a proxy's headers, say).
    No I/O: the core records the reading. All results collected. Added in 0.6.0.
    """


@hookspec
def roost_prepare_exec(profile: "Profile", env: "Mapping[str, str]", ctx: "RoostContext") -> None:
    """Prepare ``profile`` for ``roost exec``'s child, right before the lease is taken and it starts.

    ``env`` holds the variables exec sets for this profile (the profile's
    name under ``--var-name``; ``CLAUDE_CONFIG_DIR`` and the credential-store
    selector unless ``--no-config-dir``); read-only. Called for each impl:
    a ``RoostError`` stops exec with its exit code before anything started,
    any other exception becomes a warning and the child still starts. The built-in
    ``profiles`` plugin links the user's shared claude setup here. ``roost
    claude-setup`` calls it too, with the same ``env`` and no child, so that it
    writes into the settings.json claude will read: an impl must be safe to run
    without a child following. Register the module under an ``exec.<plugin>``
    entry point. Added in 0.6.0.
    """


@hookspec
def roost_exec_stdout(profile: "Profile", argv: "list[str]", ctx: "RoostContext") -> "Callable[[bytes], None] | None":
    """Return a tap on ``roost exec``'s child stdout, or None (the usual answer).

    Called once before the child starts. When a plugin returns a tap, the
    child's stdout goes through a pipe: roost copies every byte to its own
    stdout unchanged, then hands each chunk to each tap on the copying thread,
    and ``b""`` once at the end. A tap that raises is dropped (the copy goes
    on); a tap must not block (write from a thread of its own). Register the
    module under a ``tap.<plugin>`` entry point. The built-in passive plugin
    reads stream-json ``rate_limit_event`` lines here. Added in 0.6.0.
    """
