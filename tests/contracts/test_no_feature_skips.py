"""No test skips because a roost command, check or plugin is missing: that is a failure.

Skips are for missing external tools (bash, fish, pwsh, tmux, git, faketime,
redis-server, npm) and machine facts (root, /proc), always with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# A skip keyed on roost itself: importorskip (roost, or a [test] extra), a roost module's absence,
# or a command/check looked up in the output first.
FORBIDDEN = re.compile(r"importorskip\(|find_spec\(\s*[\"']roost|not part of this build|not built yet"
                       r"|skip\([^)]*(command|plugin|check)[^)]*(missing|not (installed|available|loaded))")


def test_no_skip_on_a_missing_roost_feature():
    me = Path(__file__).resolve()
    hits = [f"{path.relative_to(TESTS)}:{n}: {line.strip()}"
            for path in TESTS.rglob("*.py") if path.resolve() != me
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if FORBIDDEN.search(line)]
    assert not hits, "a missing roost feature must fail the test, not skip it:\n" + "\n".join(hits)
