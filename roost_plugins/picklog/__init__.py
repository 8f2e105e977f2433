"""picks.log readers as built-in plugins: ``roost history`` and ``roost stats``."""
