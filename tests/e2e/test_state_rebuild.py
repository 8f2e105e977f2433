"""A corrupt state document is rebuilt by the first command that reads it, even one that only reads.

Real roost processes against the fake Anthropic: each state document roost owns
(health, last-pick, leases, platform-status, passive) is torn in turn, then a
command that reads but does not write it runs. It exits as on the healthy world,
with no traceback and one warning; the file parses again (``{}``, 0600); a second
run says nothing.
"""

from __future__ import annotations

import json
import stat

import pytest

from roost_plugins.fakeserver import Scenario

TORN = '{"version": 1, "ent'

# (document, the read-only command that reads it): the pairs that once left the file corrupt
CASES = [
    ("health.json", ("doctor", "--skip-network")),
    ("last-pick.json", ("which",)),
    ("last-pick.json", ("doctor", "--skip-network")),
    ("leases.json", ("refresh", "a")),
    ("platform-status.json", ("doctor", "--skip-network")),
    ("passive.json", ("status", "--no-platform-status")),
    ("passive.json", ("which",)),
]


@pytest.fixture
def lived_in(world):
    """Two healthy profiles, a warm cache and a last pick: every document but passive.json exists."""
    for name in ("a", "b"):
        world.make_account(name, usage=Scenario.ok())
    for argv in (("status",), ("pick",), ("exec", "--", "true")):
        proc = world.run(*argv)
        assert proc.returncode == 0, proc.stderr
    return world


@pytest.mark.parametrize("doc,argv", CASES, ids=[f"{d}-{a[0]}" for d, a in CASES])
def test_a_corrupt_document_is_rebuilt_by_a_read_only_command(lived_in, doc, argv):
    world = lived_in
    path = world.config / doc
    healthy = world.run(*argv)
    assert "Traceback" not in healthy.stderr and "warning" not in healthy.stderr, healthy.stderr

    path.write_text(TORN)
    path.chmod(0o600)
    torn = world.run(*argv)
    assert torn.returncode == healthy.returncode, torn.stderr
    assert "Traceback" not in torn.stdout + torn.stderr
    assert torn.stderr.count(f"{doc} is corrupt") == 1, torn.stderr
    assert json.loads(path.read_text()) is not None  # it parses again ...
    assert isinstance(json.loads(path.read_text()), dict)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # ... with the mode every state file has
    assert not [p.name for p in world.config.iterdir() if p.name.endswith(".roost-tmp")]

    again = world.run(*argv)
    assert again.returncode == healthy.returncode, again.stderr
    assert "warning" not in again.stderr, again.stderr


def test_a_symlinked_document_is_never_rewritten_through_the_link(lived_in):
    """A link at a document's name points at something roost does not own: warned about, left alone."""
    world = lived_in
    theirs = world.home / "notes.txt"
    theirs.write_text(TORN)
    path = world.config / "last-pick.json"
    path.unlink()
    path.symlink_to(theirs)
    proc = world.run("which")
    assert "Traceback" not in proc.stderr and "last-pick.json is corrupt" in proc.stderr, proc.stderr
    assert path.is_symlink() and theirs.read_text() == TORN


def test_credentials_are_never_rebuilt(lived_in):
    """A torn credentials file is reported, never replaced by a state document's rebuild."""
    world = lived_in
    creds = world.profiles / "a" / ".credentials.json"
    creds.write_text(TORN)
    proc = world.run("which")
    assert "Traceback" not in proc.stderr
    assert creds.read_text() == TORN
