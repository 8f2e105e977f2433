"""roost report (to be filled by the observability work)."""
