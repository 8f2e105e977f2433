"""Many concurrent picks, and the warm-cache hot path (no httpx, no rich, only the plugins needed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from roostkit import canary, modules_at_exit

from roost_core.audit import parse_line
from roost_plugins.fakeserver import Scenario

N = 100


def _fleet(world, count: int = 3) -> list[str]:
    names = [f"p{i}" for i in range(count)]
    for i, name in enumerate(names):
        world.make_profile(name)
        world.fake.add_account(name, access_token=canary("access", name), refresh_token=canary("refresh", name),
                               usage=Scenario.ok(weekly=10 * (i + 1)))
    return names


@pytest.mark.stress  # the default tier runs the same 100-pick race as reliability G2
def test_100_concurrent_picks_leave_intact_log_and_last_pick(world):
    names = _fleet(world)
    assert world.run("pick").returncode == 0  # warm the cache
    env = world.env()
    procs = [subprocess.Popen([sys.executable, "-m", "roost_core", "pick", "--strategy",
                               "round-robin" if i % 2 else "sticky"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(N)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    assert [r for r in results if r[0] != 0 or "Traceback" in r[2]] == []
    assert {r[1].strip() for r in results} <= set(names)
    lines = (world.config / "picks.log").read_text().splitlines()
    assert len(lines) == N + 1
    events = [parse_line(line) for line in lines]
    assert all(e is not None and e.event == "pick" and e.profile in names for e in events)
    doc = json.loads((world.config / "last-pick.json").read_text())
    assert doc["name"] in names and doc["strategy"] in ("round-robin", "sticky")
    assert world.fake.count("GET", "/api/oauth/usage") == len(names)  # the cache served every concurrent pick


def _imported(world, *args: str) -> set[str]:
    proc, modules = modules_at_exit([sys.executable, "-m", "roost_core", *args], world.env(), world.root)
    assert proc.returncode == 0, proc.stderr
    return modules


def test_warm_pick_imports_neither_httpx_nor_rich(world):
    _fleet(world)
    assert world.run("pick").returncode == 0
    for args in (["pick"], ["which", "--json"], ["pick", "--strategy", "least-used", "-n", "2"]):
        modules = _imported(world, *args)
        assert "roost_core.pick" in modules, args  # the log really is an import log
        heavy = {m for m in modules if m.split(".")[0] in ("httpx", "httpcore", "rich", "anyio")}
        assert not heavy, (args, sorted(heavy))
        # Only the strategy asked for (sticky needs least-used) and the state backend are loaded.
        plugins = {m for m in modules if m.startswith("roost_plugins.") and m.count(".") >= 1}
        assert not {m for m in plugins if "weighted" in m or "round_robin" in m or "taxonomy" in m
                    or "anthropic" in m or "rich_render" in m}, (args, sorted(plugins))
