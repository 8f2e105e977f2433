"""docs/settings.md is generated from the declared settings and must not go stale."""

from __future__ import annotations

from pathlib import Path

from roost_core.config import SETTINGS
from settings_doc import settings_markdown  # tests/settings_doc.py

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_settings_page_is_current():
    assert DOC.read_text() == settings_markdown(), (
        "docs/settings.md is stale: run `python tests/settings_doc.py > docs/settings.md`")


def test_settings_page_lists_core_and_shipped_plugin_settings():
    page = settings_markdown()
    for name in SETTINGS:
        assert f"| `{name}` |" in page
    for key, plugin in [("endpoints.api_base", "anthropic"), ("endpoints.status_url", "status-page"),
                        ("usage_log", "usage-log"), ("plugins.weighted.weights", "weighted"),
                        ("state.redis.url", "redis"), ("state.redis.key_file", "redis")]:
        assert any(line.startswith(f"| `{key}` |") and f"| {plugin} |" in line for line in page.splitlines()), key
