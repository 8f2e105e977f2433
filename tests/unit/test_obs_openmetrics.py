"""The OpenMetrics renderer, validated with prometheus_client's OpenMetrics parser."""

from __future__ import annotations

import io


from roost_core.records import Health, HealthRecord
from roost_plugins.openmetrics import OpenMetricsRenderer, escape_label, render_text

from prometheus_client.openmetrics import parser as openmetrics_parser  # noqa: E402  (the [test] extra)


def parse(text: str) -> dict:
    return {f.name: f for f in openmetrics_parser.text_string_to_metric_families(text)}


def samples(family) -> dict:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


def fleet() -> list[dict]:
    max_plan = HealthRecord("work", Health.OK, plan="max", session_pct=12.5, weekly_pct=91.0, sonnet_pct=4.0,
                            opus_pct=30.0, overage_pct=100.0, session_resets_at="2026-05-04T14:00:00+00:00",
                            weekly_resets_at="2026-05-07T12:00:00Z", expires_at="2026-05-04T20:00:00Z",
                            checked_at="2026-05-04T12:00:00Z",
                            model_limits=[{"model": "Opus", "percent": 30.0, "resets_at": None,
                                           "kind": "weekly_scoped"}])
    dead = HealthRecord("old-acct", Health.AUTH_DEAD, error="401 invalid credentials")
    limited = HealthRecord('we"ird\\name', Health.RATE_LIMITED, retry_after_s=60.0, stale=True)
    return [r.to_dict() for r in (max_plan, dead, limited)]


def test_output_parses_and_carries_every_figure():
    text = render_text({"profiles": fleet()}, {})
    assert text.endswith("# EOF\n")
    families = parse(text)
    health = samples(families["roost_profile_health"])
    assert health[(("health", "ok"), ("profile", "work"))] == 1.0
    assert health[(("health", "auth_dead"), ("profile", "work"))] == 0.0
    assert health[(("health", "auth_dead"), ("profile", "old-acct"))] == 1.0
    assert sum(v for k, v in health.items() if ("profile", "old-acct") in k) == 1.0
    assert len(health) == 3 * 8
    assert families["roost_profile_weekly_percent"].unit == "percent"
    assert samples(families["roost_profile_weekly_percent"]) == {(("profile", "work"),): 91.0}
    assert samples(families["roost_profile_session_percent"]) == {(("profile", "work"),): 12.5}
    assert samples(families["roost_profile_overage_percent"]) == {(("profile", "work"),): 100.0}
    assert samples(families["roost_profile_opus_percent"]) == {(("profile", "work"),): 30.0}
    assert samples(families["roost_profile_sonnet_percent"]) == {(("profile", "work"),): 4.0}
    model = samples(families["roost_profile_model_limit_percent"])
    assert model == {(("kind", "weekly_scoped"), ("model", "Opus"), ("profile", "work")): 30.0}
    resets = samples(families["roost_profile_weekly_resets_timestamp_seconds"])
    assert resets == {(("profile", "work"),): 1778155200.0}
    expires = samples(families["roost_profile_token_expires_timestamp_seconds"])
    assert expires == {(("profile", "work"),): 1777924800.0}


def test_label_escaping_round_trips():
    families = parse(render_text({"profiles": fleet()}, {}))
    retry = samples(families["roost_profile_retry_after_seconds"])
    assert retry == {(("profile", 'we"ird\\name'),): 60.0}
    stale = samples(families["roost_profile_stale"])
    assert stale[(("profile", 'we"ird\\name'),)] == 1.0 and stale[(("profile", "work"),)] == 0.0
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_empty_fleet_and_platform_status():
    text = render_text({"profiles": []}, {"platform_status": {"indicator": "minor"}})
    families = parse(text)
    assert samples(families["roost_platform_status"]) == {(("indicator", "minor"),): 1.0}
    assert samples(families["roost_profile_health"]) == {}


def test_renderer_writes_to_stdout():
    class Ctx:
        class out:
            stdout = io.StringIO()

    renderer = OpenMetricsRenderer()
    assert renderer.formats == {"openmetrics"} and renderer.views == {"status"}
    renderer.render("status", {"profiles": fleet()}, {}, Ctx)
    parse(Ctx.out.stdout.getvalue())
