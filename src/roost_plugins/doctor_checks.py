"""Built-in doctor checks (to be filled by the integration work)."""
