"""roost demo (to be filled by the integration work)."""
