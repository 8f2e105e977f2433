"""Before plugin-commands.json exists, the entry points alone name a command's plugin (command_index.declared)."""

from roost_core.cli import command_index
from roost_core.plugins import PluginHost, PluginEntry


def test_declared_owner_from_the_installed_entry_points():
    host = PluginHost()
    assert command_index.declared(host, "list") == "profiles"  # roost.commands: list = roost_plugins.profiles
    assert command_index.declared(host, "status") == "health"
    assert command_index.declared(host, "trace") == "trace"  # command.trace
    assert command_index.declared(host, "state") == "redis-state"  # roost-redis declares its group
    assert command_index.declared(host, "no-such-command") is None


def test_two_claims_load_every_command_plugin():
    host = PluginHost()
    rival = PluginEntry("command.list", "third_party.cmds", "command", "list", "x", "1", lambda: None)
    host._entries = host.entries + [rival]  # 'command.list' and the profiles declaration both claim 'list'
    assert command_index.declared(host, "list") is None


def test_the_launchers_one_metadata_pass_serves_the_command_index(monkeypatch):
    """roost pick / exec: the launcher reads roost.fast, roost.plugins and roost.commands in one pass
    over the installed metadata; the plugin host and command_index.declared reuse it."""
    from roost_core import entrypoints, launch

    passes: list[list[str]] = []
    real_read = entrypoints._read
    monkeypatch.setattr(entrypoints, "_read", lambda names: (names and passes.append(list(names))) or real_read(names))
    monkeypatch.setattr(entrypoints, "_PRELOADED", {})
    assert launch._fast_command("pick") is None  # not a fast command: the full CLI runs it
    host = PluginHost()
    assert host.entries and command_index.declared(host, "pick") == "dispatch"
    assert passes == [["roost.fast", "roost.plugins", "roost.commands"]]
