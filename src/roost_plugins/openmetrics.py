"""OpenMetrics renderer for status (to be filled by the observability work)."""
