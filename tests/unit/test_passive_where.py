"""Which roost profile a running claude belongs to (the passive plugin's stdlib resolver)."""

from __future__ import annotations

from roost_core import profiles
from roost_plugins.passive import where


def test_the_keychain_marker_is_the_cores():
    assert where.KEYCHAIN_MARKER == profiles.KEYCHAIN_MARKER


def test_a_profile_whose_login_is_in_the_keychain_counts(roost_env):
    directory = roost_env.profiles / "mac"
    directory.mkdir(parents=True)
    (directory / where.KEYCHAIN_MARKER).write_text("{}")
    env = roost_env.env()
    assert where.resolve_profile({**env, "AXIOM_CLAUDE_PROFILE": "mac"}) == ("mac", str(directory))
    assert where.resolve_profile({**env, "CLAUDE_CONFIG_DIR": str(directory) + "/"}) == ("mac", str(directory))


def test_a_directory_without_a_login_is_not_a_profile(roost_env):
    (roost_env.profiles / "empty").mkdir(parents=True)
    env = roost_env.env()
    assert where.resolve_profile({**env, "AXIOM_CLAUDE_PROFILE": "empty"}) is None
    assert where.resolve_profile({**env, "CLAUDE_CONFIG_DIR": str(roost_env.profiles / "empty")}) is None
