"""roost core: the plugin host, records and plumbing every roost plugin needs.

Kept import-light on purpose: the CLI's hot path imports this package, so it
holds only the version literal; the hookimpl marker (pluggy) is built on first
use (PEP 562), so ``roost statusline`` and ``roost hook`` never import pluggy.
"""

__version__ = "0.5.0"

PROJECT_NAME = "roost"
ENTRY_POINT_GROUP = "roost.plugins"
COMMANDS_GROUP = "roost.commands"  # command name = the module of the command.* plugin that provides it

__all__ = ["__version__", "hookimpl", "PROJECT_NAME", "ENTRY_POINT_GROUP"]

TYPE_CHECKING = False  # no typing import: it costs the hot path ~5 ms
if TYPE_CHECKING:  # the marker's type, for a plugin's mypy (else @hookimpl is an untyped decorator)
    import pluggy

    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> object:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker(PROJECT_NAME)
        globals()["hookimpl"] = marker  # later lookups skip __getattr__
        return marker
    raise AttributeError(f"module 'roost_core' has no attribute {name!r}")
