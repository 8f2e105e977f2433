"""Passive health: the built-in passive sources (statusline, hook, stream).

``parsers`` holds the pure observation -> reading functions (stdlib only: the
``roost statusline`` / ``roost hook`` fast path imports it without pluggy);
``statusline``, ``hook`` and ``stream`` register them as passive sources;
``commands`` adds ``statusline``, ``hook`` and ``claude-setup`` to the CLI and
``checks`` the doctor check. docs/passive-health.md describes it all.
"""
