"""roost top (to be filled by the observability work)."""
