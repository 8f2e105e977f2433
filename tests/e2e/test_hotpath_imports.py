"""The import guard of the hot path (docs/performance.md): what a warm pick, exec, statusline and hook never import.

Each command runs as the real ``roost`` script against the fake Anthropic, with a
warm health cache; what counts is its ``sys.modules`` at exit (``-X importtime``
leaves out what ``importlib.import_module`` loads, as roost_core.api's lazy
names are). No timing is asserted:
what keeps the start-up figures is what these runs leave out.
"""

from __future__ import annotations

import json
import sys

import pytest
from roostkit import ROOST, modules_at_exit

from roost_plugins.fakeserver import Scenario
from roost_plugins.fakeserver.passive_docs import statusline_document, stop_failure_event

# filelock: a warm pick takes no lock; httpx/rich/asyncio: nothing is probed or drawn;
# the probe engine: the fan-out and raw probes load only when a probe runs; email (~9 ms, with
# socket and random): only a Retry-After given as an HTTP-date needs its date parser.
NEVER = ("filelock", "httpx", "httpcore", "rich", "asyncio", "email", "roost_core.probe.fanout",
         "roost_core.probe.raw")
# statusline and hook also stay off click, pluggy and the probe package altogether.
NEVER_PASSIVE = NEVER + ("click", "pluggy", "roost_core.probe", "roost_core.cli")


def _imports(world, *args: str, stdin: str = "", **env: str) -> set[str]:
    proc, modules = modules_at_exit([sys.executable, ROOST, *args], world.env(**env), world.root, stdin)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return modules


def _banned(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


@pytest.fixture
def warm(world):
    for name in ("a", "b", "c"):
        world.make_account(name, usage=Scenario.ok(weekly=10.0, session=5.0))
    # An expired login, as pools have: judged locally (the classifier plugins load), never probed.
    world.make_account("old", usage=Scenario.ok(), expires_in=-60)
    assert world.run("pick").returncode == 0  # probes all three: the cache is warm from here on
    world.probes = world.fake.count("GET", "/api/oauth/usage")
    return world


@pytest.mark.parametrize("args", [("pick",), ("pick", "--strategy", "round-robin"), ("exec", "--no-lease", "--", "true")])
def test_warm_pick_and_exec_import_no_lock_http_render_or_probe_engine(warm, args):
    modules = _imports(warm, *args)
    assert "roost_core.pick" in modules  # the log really lists the imports
    assert _banned(modules, NEVER) == []
    assert warm.fake.count("GET", "/api/oauth/usage") == warm.probes  # nothing was probed


def test_a_cold_pick_does_load_the_probe_engine(world):
    """The negative control: the same guard catches the engine when a probe really happens."""
    world.make_profile("a")
    oauth = world.credentials("a")["claudeAiOauth"]
    world.fake.add_account("a", access_token=oauth["accessToken"], refresh_token=oauth["refreshToken"],
                           usage=Scenario.ok())
    modules = _imports(world, "pick")
    assert {"roost_core.probe.fanout", "httpx", "asyncio"} <= modules
    # httpx's own command-line client (click, rich.syntax, pygments) is never loaded with it.
    assert _banned(modules, ("httpx._main", "pygments", "rich")) == []


@pytest.mark.parametrize("kind, document", [("statusline", statusline_document(37.5, 62.0)),
                                            ("hook", stop_failure_event("rate_limit"))])
def test_statusline_and_hook_stay_off_click_pluggy_and_the_engines(warm, kind, document):
    modules = _imports(warm, kind, stdin=json.dumps(document), AXIOM_CLAUDE_PROFILE="a")
    # The launcher hands the command to the passive plugin's roost.fast entry point, whose parsers
    # did the work; with click and pluggy absent that is the fast path.
    assert {"roost_core.launch", "roost_plugins.passive.parsers"} <= modules
    assert _banned(modules, NEVER_PASSIVE) == []
    recorded = json.loads((warm.config / "passive.json").read_text())
    assert kind in recorded["profiles"]["a"]  # and it did its job


# --help loads every command plugin to list it (the fake server's demo among them): none of them may
# pull in a server, an HTTP client or the renderer just by being listed.
NEVER_HELP = NEVER + ("http.server", "http.client", "socketserver", "email", "ssl", "roost_plugins.fakeserver.server",
                      "roost_plugins.fakeserver.scenarios")


def test_help_lists_every_plugin_command_without_their_heavy_imports(warm):
    modules = _imports(warm, "--help")
    assert {"roost_plugins.fakeserver.demo", "roost_plugins.dispatch.exec.command"} <= modules  # all listed
    assert _banned(modules, NEVER_HELP) == []
