"""The settings resolver's and the plugin host's own views, as built-in plugins.

``config`` (``command.config``: ``roost config``, the resolved settings as TOML)
and ``plugins`` (``command.plugins``: ``roost plugins``, what is loaded from
where) are two entry points of their own, so each command loads its module
alone. Plugins attach subcommands to ``config`` (``config usage-log``).
"""
