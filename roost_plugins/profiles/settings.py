"""The profiles plugin's settings: the ``[profiles]`` table of config.toml (docs/profiles.md).

Declared through ``roost_register_settings`` like every plugin's, so they
resolve with the same precedence (``[teams.NAME.profiles]`` over the file),
are checked the same way (a bad value is exit 4 naming the key) and show in
``roost config`` with their origins. ``isolated`` is declared per profile
name (section ``profiles.*``): ``[profiles.NAME] isolated = true``.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import Setting, hookimpl

from .setup import DEFAULT_SHARE, as_base, as_share, as_strict_bool

BASE = Setting(None, as_base, name="base", type="str", section="profiles", plugin="profiles",
               doc="The base claude directory whose setup profiles share (absolute, or ~/...; unset: ~/.claude).")
SHARE = Setting(list(DEFAULT_SHARE), as_share, name="share", type="list", section="profiles", plugin="profiles",
                doc="Items of the base directory linked into every profile (names; never a per-profile item "
                    "such as .credentials.json or .claude.json).")
SHARE_HISTORY = Setting(False, as_strict_bool, name="share_history", type="bool", section="profiles",
                        plugin="profiles", doc="Also share projects/ (sessions) and history.jsonl.")
ISOLATED = Setting(False, as_strict_bool, name="isolated", type="bool", section="profiles.*", plugin="profiles",
                   doc="Per profile, in `[profiles.NAME]`: a bare profile, nothing shared (like `roost add "
                       "--isolated`, which is recorded in the profile itself).")


@hookimpl
def roost_register_settings() -> list[Any]:
    return [BASE, SHARE, SHARE_HISTORY, ISOLATED]
