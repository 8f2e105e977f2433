"""roost top in a real terminal: tmux starts it, reads the screen, presses Ctrl+C."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from roost_plugins.fakeserver import Scenario

ROOST = str(Path(sys.executable).parent / "roost")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

UPDATED = re.compile(r"updated (\d\d:\d\d:\d\d)Z")


class Tmux:
    """A private tmux server (its own socket) with one 120x40 session."""

    def __init__(self) -> None:
        self.socket = f"roost-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "top")

    def flag(self, name: str) -> str:
        return self("display-message", "-p", "-t", "top", f"#{{{name}}}").strip()

    def wait_for(self, predicate, what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")


@pytest.fixture
def tmux():
    server = Tmux()
    yield server
    server("kill-server")


def test_top_starts_redraws_and_exits_cleanly(world, tmux, tmp_path):
    for name, weekly in (("alpha", 12), ("beta", 64)):
        world.make_account(name, usage=Scenario.ok(session=5, weekly=weekly))
    env = {k: v for k, v in world.env().items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    script = tmp_path / "run-top.sh"
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
    # bash, not sh: on Ctrl+C bash waits for its child and carries on when the child exits
    # normally (dash would kill itself and the pane with it).
    script.write_text(f"#!/bin/bash\n{exports}\n{shlex.quote(ROOST)} top --interval 1 --no-platform-status\n"
                      'echo "EXIT=$?"\nexec sleep 120\n')
    os.chmod(script, 0o755)
    tmux("new-session", "-d", "-s", "top", "-x", "120", "-y", "40", str(script))
    tmux("set-option", "-t", "top", "remain-on-exit", "on")  # keep the screen if anything dies

    # The first frame comes from the cache at once; this waits for the probed rows.
    first = tmux.wait_for(lambda s: UPDATED.search(s) and "64%" in s, "the probed frame")
    assert "Profile" in first and "alpha" in first and "12%" in first and "64%" in first
    assert tmux.flag("alternate_on") == "1" and tmux.flag("cursor_flag") == "0"
    stamp = UPDATED.search(first).group(1)
    tmux.wait_for(lambda s: UPDATED.search(s) and UPDATED.search(s).group(1) != stamp, "a redraw")

    tmux("send-keys", "-t", "top", "C-c")
    after = tmux.wait_for(lambda s: "EXIT=" in s, "roost to exit")
    assert "EXIT=0" in after
    assert "Traceback" not in after and "interrupted" not in after
    assert tmux.flag("alternate_on") == "0", "the alternate screen was not left"
    assert tmux.flag("cursor_flag") == "1", "the cursor was left hidden"
    assert "roost top" not in after  # the live view went away with the alternate screen
