"""Token refresher: POST to the OAuth token endpoint (to be filled by the refresh work)."""
