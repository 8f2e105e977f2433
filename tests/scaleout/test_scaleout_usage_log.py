"""The usage log in redis mode: one stream for the fleet, counted and truncated through the backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.fixtures import fleet, key_file, machines, needs_redis, redis_server  # noqa: F401 (fixtures)
from fleetkit.machines import check
from fleetkit.redisserver import free_port
from roost_core.errors import Unavailable
from roost_plugins import usage_log

pytestmark = needs_redis


def test_one_machine_logs_every_machine_counts_and_truncates(fleet):
    a, b = fleet.a, fleet.b
    fleet.seed(a, "p", "q")
    check(a.run("config", "usage-log", "on"))
    check(a.run("probe"))

    rc, status = b.run_json("config", "usage-log", "status")
    data = status["data"]
    assert rc == 0 and data["enabled"] is False  # b's own switch is off; the log is the fleet's
    assert (data["records"], data["backend"], data["degraded"]) == (2, "redis", False)
    assert data["bytes"] is None and data["path"].endswith("(stream)") and data["path"].startswith("redis://")
    assert {"source", "marker", "environment", "config", "marker_path", "spooled"} <= set(data)
    rc, report = b.run_json("report")
    assert rc == 0 and sorted(row["profile"] for row in report["data"]) == ["p", "q"]
    assert report["meta"]["log"].endswith("(stream)") and "redis://" in report["meta"]["log"]
    assert not (b.config / usage_log.USAGE_LOG).exists() and not (a.config / usage_log.USAGE_LOG).exists()

    assert usage_log.truncate(a.context()) == 2  # entries dropped, for the whole fleet
    for machine in (a, b):
        rc, status = machine.run_json("config", "usage-log", "status")
        assert rc == 0 and status["data"]["records"] == 0
    rc, report = b.run_json("report")
    # Issue #18 (5) deliberately keeps a 'no samples' row per profile: the truncated log has no sample left.
    assert rc == 0 and sorted(row["profile"] for row in report["data"]) == ["p", "q"]
    assert all(row["samples"] == 0 and row["latest"] is None for row in report["data"])
    check(a.run("probe", "p"))
    assert b.run_json("config", "usage-log", "status")[1]["data"]["records"] == 1


def test_store_down_status_is_degraded_and_truncate_fails_closed(machines):
    down = machines.machine("down", url=f"redis://:secret-pw@127.0.0.1:{free_port()}/0")
    stats = down.log_stats(usage_log.USAGE_LOG)
    assert stats["records"] is None and stats["bytes"] is None and stats["degraded"] is True
    assert "unavailable" in stats["reason"] and "secret-pw" not in repr(stats)
    assert stats["location"].startswith("redis://:***@127.0.0.1:") and stats["location"].endswith("(stream)")
    down.append_line(usage_log.USAGE_LOG, '{"ts":"t","profile":"p"}')  # spooled locally
    assert down.log_stats(usage_log.USAGE_LOG)["spooled"] == 1
    with pytest.raises(Unavailable):
        down.truncate_log(usage_log.USAGE_LOG)
    assert down.log_stats(usage_log.USAGE_LOG)["spooled"] == 1  # nothing lost by the refusal


def test_truncate_includes_this_machines_spooled_lines(machines, redis_server):
    a = machines.machine("a")
    a.append_line(usage_log.USAGE_LOG, "one")
    cut = machines.machine("a", url=f"redis://127.0.0.1:{free_port()}/0")  # same machine, store unreachable
    cut.append_line(usage_log.USAGE_LOG, "two")  # spooled
    again = machines.machine("a")
    assert again.log_stats(usage_log.USAGE_LOG)["records"] == 2  # the spool is flushed first
    assert again.truncate_log(usage_log.USAGE_LOG) == 2
    assert list(again.iter_lines(usage_log.USAGE_LOG)) == []


def test_the_documented_acl_covers_usage_log_and_rekey(fleet, key_file):
    """The ACL line of docs/SCALE-OUT.md §5 runs usage-log status/truncate and state rekey."""
    from roost_redis.crypto import generate_key

    a = fleet.a
    fleet.seed(a, "p")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "SCALE-OUT.md").read_text()
    line = next(x.strip() for x in doc.splitlines() if x.strip().startswith("ACL SETUSER roost "))
    fleet.redis.client().execute_command(*line.replace(">PASSWORD", ">roost-pw").split())
    a.redis_url = f"redis://roost:roost-pw@127.0.0.1:{fleet.redis.port}/0"
    a.write_config()
    check(a.run("config", "usage-log", "on"))
    check(a.run("probe", "p"))
    rc, status = a.run_json("config", "usage-log", "status")
    assert rc == 0 and status["data"]["records"] == 1 and "roost-pw" not in status["data"]["path"]
    assert usage_log.truncate(a.context()) == 1
    key_file.write_bytes(generate_key() + b"\n" + key_file.read_bytes())
    rc, out = a.run_json("state", "rekey")
    assert rc == 0 and [r["status"] for r in out["data"]] == ["rekeyed"], out
