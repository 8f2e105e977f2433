"""Overage surfaces as ``usage.extra`` on every probe record: the usage body's ``extra_usage`` block,
raw (minor units as Anthropic sends them); ``usage: null`` for an account without that surface."""

from __future__ import annotations

from test_wire_limits import account as _add  # a profile and its fake account

from roost_plugins.fakeserver import Scenario

EXTRA = {"is_enabled": True, "monthly_limit": 31000, "used_credits": 31280.0, "utilization": 100,
         "currency": "AUD"}


def test_usage_extra_on_probe_status_and_show(world):
    _add(world, "max", Scenario.ok(extra=EXTRA))
    _add(world, "pro", Scenario.ok(extra_fields={"extra_usage": None}))
    rc, probed = world.run_json("probe")
    assert rc == 0
    by_name = {r["name"]: r for r in probed["data"]}
    assert by_name["max"]["usage"] == {"extra": EXTRA} and by_name["max"]["overage_pct"] == 100
    assert by_name["pro"]["usage"] is None
    rc, status = world.run_json("status")  # from the cache now
    assert rc == 0 and {r["name"]: r["usage"] for r in status["data"]} == {"max": {"extra": EXTRA}, "pro": None}
    rc, shown = world.run_json("show", "max")
    assert rc == 0 and shown["data"]["usage"]["extra"]["currency"] == "AUD"
