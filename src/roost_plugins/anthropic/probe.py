"""Probe source: GET /api/oauth/usage (to be filled by the health work)."""
