"""roost core: the plugin host, records and plumbing every roost plugin needs.

Kept import-light on purpose: the CLI's hot path imports this package, so it
holds only the version literal and the hookimpl marker.
"""

import pluggy

__version__ = "0.5.0"

PROJECT_NAME = "roost"
ENTRY_POINT_GROUP = "roost.plugins"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for plugin hook implementations: ``@hookimpl def roost_...``."""

__all__ = ["__version__", "hookimpl", "PROJECT_NAME", "ENTRY_POINT_GROUP"]
