"""What a running claude reports, as the fake's recorded documents (passive health tests and demos).

Shapes as Claude Code sends them (docs/passive-health.md):

* ``statusline_document``: the JSON its ``statusLine`` command gets on stdin
  after each turn (``rate_limits`` percent floats, ``resets_at`` epoch
  seconds; absent before the session's first response);
* ``stop_failure_event``: the ``StopFailure`` hook event;
* ``rate_limit_event``: one ``claude -p --output-format stream-json`` line
  (``utilization`` a fraction, ``resetsAt`` epoch seconds), and
  ``stream_json``: a whole recorded stream around such events.
"""

from __future__ import annotations

import json
import time
from typing import Any


def statusline_document(five_hour: float | None = 37.5, seven_day: float | None = 62.0, *,
                        five_resets_in: float = 3 * 3600, seven_resets_in: float = 3 * 86400,
                        first_turn_done: bool = True, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    doc: dict[str, Any] = {
        "hook_event_name": "Status", "session_id": "5f0c9a3e-7d1b-4c55-9d0e-3a8b1f2c6d40",
        "transcript_path": "/home/u/.claude/projects/-home-u-src/5f0c9a3e.jsonl", "cwd": "/home/u/src",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/u/src", "project_dir": "/home/u/src"},
        "version": "2.1.332", "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 0.0123, "total_duration_ms": 45000, "total_api_duration_ms": 2300,
                 "total_lines_added": 12, "total_lines_removed": 3},
    }
    if first_turn_done:
        limits = {}
        if five_hour is not None:
            limits["five_hour"] = {"used_percentage": five_hour, "resets_at": int(now + five_resets_in)}
        if seven_day is not None:
            limits["seven_day"] = {"used_percentage": seven_day, "resets_at": int(now + seven_resets_in)}
        doc["rate_limits"] = limits
    return doc


def stop_failure_event(error: str = "rate_limit", *, rate_limit_type: str | None = None,
                       resets_in: float | None = None, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    event: dict[str, Any] = {"session_id": "5f0c9a3e-7d1b-4c55-9d0e-3a8b1f2c6d40",
                             "transcript_path": "/home/u/.claude/projects/-home-u-src/5f0c9a3e.jsonl",
                             "cwd": "/home/u/src", "hook_event_name": "StopFailure", "error": error}
    if rate_limit_type is not None or resets_in is not None:
        event["quotaLimits"] = {k: v for k, v in (("rateLimitType", rate_limit_type),
                                                   ("resetsAt", int(now + resets_in) if resets_in else None))
                                if v is not None}
    return event


def rate_limit_event(status: str = "allowed", rate_limit_type: str = "five_hour", utilization: float = 0.37, *,
                     resets_in: float = 3 * 3600, unified: dict[str, tuple[float, float]] | None = None,
                     now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    info: dict[str, Any] = {"status": status, "resetsAt": int(now + resets_in), "rateLimitType": rate_limit_type,
                            "utilization": utilization, "overageStatus": "allowed", "overageResetsAt": None,
                            "isUsingOverage": False, "surpassedThreshold": 0.9 if utilization >= 0.9 else None}
    if unified is not None:
        info["unifiedWindows"] = {name: {"utilization": u, "resetsAt": int(now + r)} for name, (u, r) in unified.items()}
    return {"type": "rate_limit_event", "rate_limit_info": info,
            "uuid": "0b8f6f5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "session_id": "5f0c9a3e-7d1b-4c55-9d0e-3a8b1f2c6d40"}


def stream_json(*events: dict[str, Any]) -> bytes:
    """A recorded ``stream-json`` output: init, the given events, an assistant turn, the result."""
    lines = [{"type": "system", "subtype": "init", "session_id": "5f0c9a3e", "model": "claude-opus-4-1",
              "tools": ["Bash", "Read"]},
             *events,
             {"type": "assistant", "message": {"role": "assistant",
                                               "content": [{"type": "text", "text": "héllo · rate_limit_event"}]}},
             {"type": "result", "subtype": "success", "is_error": False, "result": "done", "num_turns": 1}]
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)
