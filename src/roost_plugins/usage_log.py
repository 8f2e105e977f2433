"""Opt-in usage log (to be filled by the observability work)."""
