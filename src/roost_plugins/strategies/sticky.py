"""Pick strategy (to be filled by the pick work)."""
