"""roost trace (to be filled by the health work)."""
