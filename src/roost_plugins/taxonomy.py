"""The eight-state classifier (to be filled by the health work)."""
