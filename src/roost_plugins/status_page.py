"""status.claude.com feed and doctor check (to be filled by the health work)."""
