"""Which plugin provides which command: remembered, so ``roost stats`` imports one plugin, not all.

Finding a plugin command means loading every ``command.*`` plugin (the
doctor, the fake server's demo, report, trace, ...), which costs more than
the command itself. After such a full load the owner of each plugin command
(the plugin whose module defines it, i.e. the one that won) is written to
``<config>/plugin-commands.json`` with a key over the command entry points,
their distributions and versions and the disabled plugins; a later run whose
key matches loads only the owner of the command it runs. A key that does not
match, a command not in the map or an owner that no longer provides it
falls back to the full load, which rewrites the map. The file is a cache: a
missing, corrupt or unwritable one only costs the full load.

The root ``--help`` is remembered the same way: each command's help text and
the modification time of the file that defines it, so a later ``roost
--help`` lists the commands without loading a plugin. A changed key or file
(an upgrade, an edited editable install) and any warning during the full
load (a broken plugin warns every time) fall back to loading them all.

Before any map exists (a fresh install, a read-only config) the entry points
alone often name the owner: a ``command.<name>`` plugin, or a plugin that
declares its commands in the ``roost.commands`` group (``list =
"roost_plugins.profiles"``: command name = the module of its ``command.*``
entry point). When exactly one plugin claims the name, only it is loaded, so
``roost list`` on a files install never imports another plugin (roost-redis).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import COMMANDS_GROUP as GROUP  # command name = module of the command.* plugin providing it

if TYPE_CHECKING:
    from ..plugins import PluginHost

FILE = "plugin-commands.json"


def _key(host: "PluginHost") -> str:
    from .. import __version__
    from ..plugins import ANY_KIND

    rows = sorted(f"{e.entry_name}={e.value} {e.dist} {e.version}" for e in host.entries
                  if e.kind in ("command", ANY_KIND))
    rows += [f"roost {__version__}"] + sorted(f"-{name}" for name in host.disabled)
    return "\n".join(rows)  # compared as is: no hash library to import


def owner(host: "PluginHost", config_dir: Path, name: str) -> str | None:
    """The plugin that provided ``name`` last time, when nothing about the plugins changed."""
    try:
        doc = json.loads((config_dir / FILE).read_bytes())
        found = doc["commands"].get(name) if doc.get("key") == _key(host) else None
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None
    return found if isinstance(found, str) else None


def declared(host: "PluginHost", name: str) -> str | None:
    """The one command plugin the entry points say provides ``name`` (None: none or several)."""
    from ..entrypoints import entry_points

    commands = [e for e in host.entries if e.kind == "command"]
    by_value = {e.value: e.plugin for e in commands}
    claims = {by_value.get(ep.value) for ep in entry_points(GROUP) if ep.name == name}
    claims |= {e.plugin for e in commands if e.plugin == name}
    claims.discard(None)
    return claims.pop() if len(claims) == 1 else None


def remember(host: "PluginHost", config_dir: Path, commands: Mapping[str, Any]) -> None:
    """Record the owner of each plugin command after a full load (only into an existing config dir)."""
    if not config_dir.is_dir():
        return
    modules = sorted(((e.value.split(":")[0], e.plugin) for e in host.entries if e.kind == "command"),
                     key=lambda item: -len(item[0]))
    owners = {}
    for name, command in commands.items():
        module = getattr(getattr(command, "callback", None), "__module__", None) or ""
        plugin = next((p for m, p in modules if module == m or module.startswith(m + ".")), None)
        if plugin is not None:
            owners[name] = plugin
    doc = {"key": _key(host), "commands": dict(sorted(owners.items()))}
    old = _read(config_dir)
    if old.get("key") == doc["key"] and isinstance(old.get("listing"), dict):
        doc["listing"] = old["listing"]  # the root help of the same plugins
    _write(config_dir, old, doc)


def listing(host: "PluginHost", config_dir: Path) -> dict[str, dict[str, Any]] | None:
    """The root help's rows as the last full load saw them, if nothing they came from changed."""
    doc = _read(config_dir)
    rows = doc.get("listing") if doc.get("key") == _key(host) else None
    if not isinstance(rows, dict) or not rows:
        return None
    try:
        for row in rows.values():
            source = row.get("source")
            if source and os.stat(source[0]).st_mtime_ns != source[1]:
                return None
    except (OSError, AttributeError, TypeError, IndexError):
        return None
    return rows


def remember_listing(host: "PluginHost", config_dir: Path, commands: Mapping[str, Any]) -> None:
    """Record the root help's rows (after a full load that wrote this key's owner map)."""
    old = _read(config_dir)
    if old.get("key") != _key(host):
        return
    rows = {name: _row(command) for name, command in sorted(commands.items())}
    _write(config_dir, old, {**old, "listing": rows})


def _row(command: Any) -> dict[str, Any]:
    module = sys.modules.get(getattr(getattr(command, "callback", None), "__module__", None) or "")
    path = getattr(module, "__file__", None)
    try:
        source = [path, os.stat(path).st_mtime_ns] if path else None
    except OSError:
        source = None
    return {"help": command.help, "short_help": command.short_help, "hidden": bool(command.hidden),
            "deprecated": command.deprecated, "source": source}


def _read(config_dir: Path) -> dict[str, Any]:
    try:
        doc = json.loads((config_dir / FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write(config_dir: Path, old: dict[str, Any], doc: dict[str, Any]) -> None:
    from ..atomic import atomic_write

    if doc == old or not config_dir.is_dir():
        return
    try:
        atomic_write(config_dir / FILE, (json.dumps(doc, indent=1) + "\n").encode(), 0o600)
    except OSError:
        pass  # a cache: the next run loads every command plugin again


def add_commands_of(host: "PluginHost", cli: Any, plugin: str, warn: Callable[[str], None]) -> None:
    """Load command plugin ``plugin`` alone and let the loaded plugins add their commands
    (``PluginHost.add_commands`` without the load of every command plugin)."""
    host.load_kind("command", only=plugin)
    for impl in reversed(host.pm.hook.roost_register_commands.get_hookimpls()):
        try:
            impl.function(*[{"cli": cli}[arg] for arg in impl.argnames])
        except Exception as exc:  # as add_commands: a warning, not a crash
            warn(f"plugin {impl.plugin_name!r} failed in roost_register_commands: {type(exc).__name__}: {exc}")
