"""A StopFailure's rate-limit window from the session transcript: stdlib only, read-only, bounded.

Claude Code's ``StopFailure`` hook event names the failure (``error:
"rate_limit"``) but not which window ran out; the transcript row it wrote
for the failed turn carries ``quotaLimits: {rateLimitType, resetsAt}``. When
the event itself names neither, the hook reads the last rows of the event's
``transcript_path`` (its tail only) and lends the event that block. Anything
unexpected (no file, no such row, garbage) leaves the event as it was.
"""

import json
import os

TAIL_BYTES = 256 * 1024
LAST_ROWS = 3  # the failed turn's row is among the last ones written before the hook runs
QUOTA_KEYS = ("quotaLimits", "quota_limits")
MAX_DEPTH = 4


def with_transcript_quota(event):
    """``event`` with the transcript's ``quotaLimits`` when a rate_limit StopFailure names no window or reset."""
    if not isinstance(event, dict) or event.get("hook_event_name") != "StopFailure":
        return event
    if "rate_limit" not in (event.get("error"), event.get("error_type")) or any(k in event for k in QUOTA_KEYS):
        return event
    if any(event.get(k) is not None for k in ("rateLimitType", "rate_limit_type", "resetsAt", "resets_at")):
        return event
    path = event.get("transcript_path")
    quota = last_quota(path) if isinstance(path, str) and path else None
    return {**event, "quotaLimits": quota} if quota else event


def last_quota(path: str):
    """The ``quotaLimits`` block of one of the transcript's last rows, else None."""
    try:
        with open(os.path.expanduser(path), "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read(TAIL_BYTES)
    except (OSError, ValueError):
        return None
    rows = [line for line in tail.splitlines() if line.strip()][-LAST_ROWS:]
    for line in reversed(rows):
        try:
            row = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue
        quota = _find(row, 0)
        if quota is not None:
            return quota
    return None


def _find(value, depth: int):
    if depth > MAX_DEPTH or not isinstance(value, (dict, list)):
        return None
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, dict):
        for key in QUOTA_KEYS:
            block = value.get(key)
            if isinstance(block, dict) and (block.get("rateLimitType") or block.get("resetsAt")):
                return block
    for item in items:
        found = _find(item, depth + 1)
        if found is not None:
            return found
    return None
