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


OFF = {"is_enabled": False, "monthly_limit": 5000, "used_credits": 1250.0, "utilization": 100, "currency": "USD"}
ON = {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0, "utilization": 25, "currency": "USD"}


def test_disabled_overage_is_no_overage_data_for_max_cost_and_lowest_overage(world):
    """Overage switched off is "no overage data": overage_pct null (overage_enabled false kept),
    never gated by --max-cost, ranked as 0 (best) by lowest-overage; show prints the minor units
    as the amount (1250 -> 12.50) and never "None"."""
    _add(world, "off", Scenario.ok(extra=OFF))
    _add(world, "on", Scenario.ok(extra=ON))
    _add(world, "bare", Scenario.ok(extra={"is_enabled": False, "monthly_limit": None, "used_credits": None,
                                           "utilization": None}))
    rc, probed = world.run_json("probe")
    assert rc == 0
    rows = {r["name"]: r for r in probed["data"]}
    assert (rows["off"]["overage_pct"], rows["off"]["overage_enabled"]) == (None, False)
    assert rows["off"]["usage"] == {"extra": OFF}  # the block as sent
    assert (rows["on"]["overage_pct"], rows["on"]["overage_enabled"]) == (25, True)
    rc, out = world.run_json("pick", "--max-cost", "20", "--avoid", "bare", "--explain")
    assert rc == 0 and out["data"]["name"] == "off", out  # "on" (25 %) is gated, "off" never is
    reasons = {r["profile"]: r for r in out["data"]["explain"]}
    assert reasons["on"]["status"] == "excluded" and "--max-cost" in reasons["on"]["reason"]
    rc, out = world.run_json("pick", "--strategy", "lowest-overage", "--avoid", "bare", "--stickiness", "0")
    assert rc == 0 and out["data"]["name"] == "off", out
    proc = world.run("show", "off")
    assert proc.returncode == 0, proc.stderr
    assert "disabled" in proc.stderr and "spent 12.50 of 50.00 USD" in proc.stderr and "100%" not in proc.stderr
    proc = world.run("show", "on")
    assert "enabled  25%  spent 12.50 of 50.00 USD" in proc.stderr
    proc = world.run("show", "bare")
    assert proc.returncode == 0 and "None" not in proc.stderr and "disabled" in proc.stderr
