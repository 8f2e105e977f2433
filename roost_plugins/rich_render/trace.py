"""``roost trace`` drawn on stderr: request, response, verdict (data already redacted)."""

from __future__ import annotations

import json
from typing import Any

from .console import health_style, stderr_console


def _headers(headers: dict[str, Any] | None) -> str:
    return "\n".join(f"  {k}: {v}" for k, v in (headers or {}).items()) or "  (none)"


def _body(response: dict[str, Any]) -> str:
    body = response.get("body")
    if response.get("json"):
        return json.dumps(body, indent=2, ensure_ascii=False)
    return body if isinstance(body, str) and body else "(empty)"


def render_trace(data: dict[str, Any], meta: dict[str, Any], ctx: Any) -> None:
    from rich.rule import Rule
    from rich.text import Text

    console = stderr_console(ctx)
    console.soft_wrap = True  # whole lines: a trace gets pasted into bug reports
    console.print(Rule(f"trace {data['profile']}", align="left"))
    request = data.get("request")
    console.print(Text("Request", style="bold"))
    if request:
        console.print(f"  {request.get('method')} {request.get('url')}", markup=False, highlight=False)
        console.print(_headers(request.get("headers")), markup=False)
    else:
        console.print(f"  {data.get('note') or 'no request was made'}", markup=False)
    response = data.get("response")
    if response:
        console.print(Text("Response", style="bold"))
        status = response.get("status")
        said = f"HTTP {status}" if status is not None else f"no answer: {response.get('error')}"
        detail = f" ({response['error_detail']})" if response.get("error_detail") else ""
        console.print(f"  {said}{detail} in {response.get('elapsed_s', 0):.3f}s", markup=False)
        console.print(_headers(response.get("headers")), markup=False)
        console.print(_body(response), markup=False, highlight=False)
    verdict = data["classification"]
    console.print(Text("Classifier", style="bold"))
    line = Text("  ")
    line.append(verdict["health"], style=health_style(verdict["health"]))
    ttl = verdict.get("ttl_s")
    line.append(f"  ttl {'until the file changes' if ttl is None else f'{ttl:.0f}s'}"
                f"  by {verdict.get('classifier') or '?'}")
    if verdict.get("error"):
        line.append(f"  error: {verdict['error']}")
    console.print(line)
    for key in ("session_resets_at", "weekly_resets_at", "retry_after_s"):
        if verdict.get(key) is not None:
            console.print(f"  {key}: {verdict[key]}", markup=False)
    for reason in verdict.get("reasons") or []:
        console.print(f"  - {reason}", markup=False)
    evidence = data.get("evidence")
    if isinstance(evidence, dict):
        console.print(Text("Evidence", style="bold"))
        console.print(f"  {evidence.get('why')}", markup=False, highlight=False)
        for source, reading in ((evidence.get("passive") or {}).get("readings") or {}).items():
            console.print(f"  - {source} at {reading.get('observed_at')}: {reading.get('health')} "
                          f"({reading.get('reason')})", markup=False, highlight=False)
