"""``roost state ...``: operate the shared store (redis backend).

* ``keygen PATH``  write a new Fernet key file (0600); copy it to every machine.
* ``init``         give an empty store its epoch (once per fleet).
* ``status``       reachability, epoch, persistence settings, journal, profiles.
* ``restore``      after the store lost its data: push this machine's mirrors
                   (highest version wins) and leases; run it on every machine.
* ``sync``         bring the local tree in line with the store now: create
                   every profile the store has (access-token-only files),
                   import new local logins, retire removed ones (every
                   command that lists profiles does this first).
* ``rekey``        re-seal every stored credential (and this machine's
                   mirrors) with the key file's first key, so an old key
                   line can be dropped (see rekey.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from roost_core.api import hookimpl
from roost_core.api import DURATION, json_option, pass_roost
from roost_core.api import ExitCode, RoostError, ValidationError


def _redis_backend(rctx: Any) -> Any:
    backend = rctx.state
    if getattr(backend, "name", None) != "redis":
        raise ValidationError(f"'roost state' manages the redis backend, and this machine uses "
                              f"{getattr(backend, 'name', '?')!r}; set [state] backend = \"redis\" in config.toml "
                              "(or CLAUDE_LB_STATE_BACKEND=redis)")
    return backend


@click.group("state")
def state_group() -> None:
    """The shared state store of a fleet (redis backend): keygen, init, status, restore, sync, rekey."""


@state_group.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_roost
def keygen_cmd(rctx: Any, path: Path) -> None:
    """Write a new encryption key file (0600) for [state.redis] key_file."""
    from .crypto import write_key_file

    path = path.expanduser()
    if not path.parent.is_dir():
        raise ValidationError(f"directory {path.parent} does not exist")
    write_key_file(path)
    rctx.out.emit({"path": str(path)}, {}, text=str(path))
    rctx.out.say(f"Key written to {path}. Copy it (0600) to every machine of the fleet; "
                 "losing it makes the stored credentials unreadable.")


@state_group.command("init")
@json_option
@pass_roost
def init_cmd(rctx: Any) -> None:
    """Give an empty store its epoch (once per fleet)."""
    from .restore import init_store

    backend = _redis_backend(rctx)
    seen = backend.local.seen_epoch()
    if backend.store_info() is None and seen:
        raise ValidationError("this store lost its data (this machine knows its old epoch); "
                              "use 'roost state restore' instead of init, so no newer token is lost")
    created, epoch = init_store(backend)
    rctx.out.emit({"epoch": epoch, "created": created}, {"url": backend.settings.display_url},
                  text=epoch)
    rctx.out.say(f"Store {backend.settings.display_url} {'initialised' if created else 'was already initialised'} "
                 f"(epoch {epoch}).")


@state_group.command("status")
@json_option
@pass_roost
def status_cmd(rctx: Any) -> None:
    """Reachability, epoch, persistence settings and pending journal of the store."""
    from .restore import store_status

    backend = _redis_backend(rctx)
    data = store_status(backend)
    warnings = []
    if data["appendonly"] not in (None, "yes") or data["appendfsync"] not in (None, "always"):
        warnings.append("persistence is not 'appendonly yes' + 'appendfsync always': an acknowledged rotation "
                        "can be lost in a crash, and with it the account")
    if not data["tls"] and not local_only(backend.settings):
        warnings.append("the connection is not TLS (rediss://)")
    if data["initialised"] and data["seen_epoch"] and data["seen_epoch"] != data["epoch"]:
        warnings.append("the store's epoch changed since this machine last saw it (restored elsewhere?)")
    warnings += replication_warnings(data)
    data["warnings"] = warnings
    lines = [f"store      {data['url']} (redis {data['server_version']}, {'TLS' if data['tls'] else 'no TLS'})",
             f"epoch      {data['epoch'] or 'none (not initialised, or reset)'}",
             f"persist    appendonly={data['appendonly'] or '?'} appendfsync={data['appendfsync'] or '?'}",
             f"profiles   {', '.join(data['profiles']) or 'none'}",
             f"journal    {data['pending_journal']} pending, {len(data['journal_conflicts'])} set aside",
             *replication_lines(data)]
    rctx.out.emit(data, {}, text="\n".join(lines))
    for warning in warnings:
        rctx.warn(warning)


@state_group.command("restore")
@json_option
@pass_roost
def restore_cmd(rctx: Any) -> None:
    """Rebuild a store that lost its data from this machine's mirrors (run on every machine)."""
    from .restore import restore

    backend = _redis_backend(rctx)
    report = restore(backend)
    lines = [f"pushed {name} v{v}" for name, v in sorted(report.pushed.items())]
    lines += [f"kept   {name} (store has v{v})" for name, v in sorted(report.kept.items())]
    rctx.out.emit(report.to_dict(), {"url": backend.settings.display_url}, text="\n".join(lines))
    for note in report.journal:
        rctx.warn(note)
    rctx.out.say(f"Restored into epoch {report.epoch}: {len(report.pushed)} pushed, {len(report.kept)} already "
                 f"newer in the store, {report.leases} lease(s). Refresh resumes after "
                 f"{backend.settings.restore_hold:g}s; run 'roost state restore' on the other machines now.")


@state_group.command("sync")
@json_option
@pass_roost
def sync_cmd(rctx: Any) -> None:
    """Bring this machine's profiles in line with the store now (every command also does it first)."""
    from roost_core.api import is_valid_name
    from roost_core.api import discover_profiles as discover
    from roost_core.api import Profile

    from .creds import store_profiles
    from .fleet import sync_tree

    backend = _redis_backend(rctx)
    backend.epoch.ensure()
    tree = rctx.paths.profiles_tree
    had = {p.name for p in discover(rctx.paths, fallback=False)}
    sync_tree(backend)  # what every command does first: create, import, retire
    synced = []
    for name in store_profiles(backend):
        if not is_valid_name(name):
            rctx.warn(f"the store names a profile {name!r} that is not a valid name here; skipped")
            continue
        created = name not in had
        try:
            backend.creds.read(Profile(name, tree / name))
        except RoostError as exc:
            if not exc.details.get("withheld"):
                raise
            rctx.warn(exc.message)  # a rotation not replicated yet: this machine's copy stays as it was
            continue
        synced.append({"name": name, "created": created, "version": backend.creds.reads[name].v})
    rctx.out.emit(synced, {"profiles_dir": str(rctx.paths.profiles_tree)},
                  text="\n".join(item["name"] for item in synced))


REKEY_TEXT = {"rekeyed": "re-sealed with the first key", "current": "already current",
              "skipped": "skipped", "failed": "FAILED", "absent": "no record"}


@state_group.command("rekey")
@click.option("--wait", type=DURATION, default="2s", show_default=True, metavar="DURATION",
              help="How long to wait for each profile's refresh lock before skipping it.")
@json_option
@pass_roost
def rekey_cmd(rctx: Any, wait: float) -> int:
    """Re-seal every stored credential with the key file's first key (then drop the old key line)."""
    from .rekey import reseal_mirrors, rekey_store

    backend = _redis_backend(rctx)
    results = rekey_store(backend, wait)
    mirrors = reseal_mirrors(backend)
    counts = {status: sum(r.status == status for r in results) for status in REKEY_TEXT}
    failed = [r.exit_code for r in results if r.status == "failed"]
    code = failed[0] if failed else int(ExitCode.CONFLICT) if counts["skipped"] else 0
    meta = {"url": backend.settings.display_url, "counts": counts, "mirrors_resealed": mirrors,
            "exit_code": code}
    rctx.out.emit([r.to_dict() for r in results], meta,
                  text="\n".join(f"{r.name}\t{r.status}\t{'-' if r.version is None else r.version}"
                                 for r in results))
    for result in results:
        if result.status in ("skipped", "failed", "absent"):
            rctx.warn(f"{result.name}: {REKEY_TEXT[result.status]}: {result.detail}")
    summary = (f"{counts['rekeyed']} re-sealed, {counts['current']} already current, "
               f"{counts['skipped']} skipped, {counts['failed']} failed; "
               f"{len(mirrors)} of this machine's sealed copies re-sealed.")
    if code:
        summary += " Run 'roost state rekey' again before dropping the old key line."
    else:
        summary += (" Once no machine has a pending journal ('roost state status'), the old key line can be "
                    "removed from every machine's key file.")
    rctx.out.say(summary)
    return code


def replication_lines(data: dict[str, Any]) -> list[str]:
    repl = data["replication"]
    lines = []
    if repl.get("primary"):
        lines.append(f"primary    {repl['primary']} (service {repl['service']}, Sentinels "
                     f"{', '.join(repl['sentinels'])})")
    if repl["replicas"] is None:
        lines.append("replicas   unknown (INFO is not granted)")
    else:
        shown = [f"{r['address']} {r['state']} lag {r['lag_s']}s, {r['behind_bytes']} bytes behind"
                 for r in repl["replicas"]]
        lines.append(f"replicas   {'; '.join(shown) or 'none'}")
    lines.append(f"durable    WAIT {repl['min_replicas']} replica(s), {repl['wait_timeout_s']:g}s"
                 + ("" if repl["min_replicas_setting"] is not None else " (min_replicas: default)"))
    pending = ", ".join(unreplicated_text(u) for u in data["unreplicated"])
    lines.append(f"unreplicated {pending or 'none'}")
    return lines


def unreplicated_text(item: dict[str, Any]) -> str:
    """'p v3 (rotated on host-a)': a rotation stored but not yet confirmed by a replica."""
    where = "this machine" if item.get("this_machine") else (item.get("host") or "another machine")
    return f"{item['profile']} v{item['version']} (rotated on {where})"


def replication_warnings(data: dict[str, Any]) -> list[str]:
    repl, warnings = data["replication"], []
    online = [r for r in repl["replicas"] or [] if r["state"] == "online"]
    if repl["replicas"] is not None and len(online) < repl["min_replicas"]:
        warnings.append(f"{len(online)} replica(s) online, rotations wait for {repl['min_replicas']}: refresh "
                        "fails closed until one is back")
    slow = [r for r in online if (r["lag_s"] or 0) > repl["wait_timeout_s"]]
    if slow:
        warnings.append("replica(s) lagging past wait_timeout: " + ", ".join(r["address"] for r in slow))
    if data["unreplicated"]:
        warnings.append("rotation(s) stored but not yet on a replica, withheld from every machine until one "
                        "confirms them (the machine that rotated keeps them in its journal and re-sends them on "
                        "each run): " + ", ".join(unreplicated_text(u) for u in data["unreplicated"]))
    return warnings


def local_only(settings: Any) -> bool:
    """Every address roost connects to is this machine's (no TLS needed)."""
    if settings.sentinels:
        return all(_loopback(f"redis://{host}:{port}") for host, port in settings.sentinels)
    return _loopback(settings.url)


def _loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.") or url.startswith("unix://")


@hookimpl
def roost_register_commands(cli: Any) -> None:
    cli.add_command(state_group)
