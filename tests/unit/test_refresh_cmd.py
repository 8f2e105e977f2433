"""refresh command helpers (the plugin reads the api, so the api is what is patched): the shared-filesystem warning and the multi-profile exit code."""

from __future__ import annotations

from pathlib import Path

from roost_core import api, mounts
from roost_plugins.refresh import command as refresh_cmd
from roost_core.context import RoostContext
from roost_core.errors import ExitCode
from roost_core.records import Profile


def test_profiles_on_a_network_filesystem_get_one_warning(roost_env, monkeypatch):
    ctx = RoostContext(env=roost_env.env())
    warnings: list[str] = []
    ctx.out.warn = warnings.append  # type: ignore[method-assign]
    monkeypatch.setattr(api, "filesystem_of", lambda path: mounts.Mount("/shared", "nfs4", "srv:/x"))
    refresh_cmd._warn_if_shared(ctx, [Profile("a", Path("/shared/a")), Profile("b", Path("/shared/b"))])
    assert len(warnings) == 1 and "nfs4" in warnings[0] and "one machine" in warnings[0]
    warnings.clear()
    monkeypatch.setattr(api, "filesystem_of", lambda path: mounts.Mount("/", "ext4", "/dev/sda"))
    refresh_cmd._warn_if_shared(ctx, [Profile("a", Path("/a"))])
    assert warnings == []


def test_severity_order_covers_every_failure_code():
    assert set(refresh_cmd.SEVERITY) == set(ExitCode) - {ExitCode.OK}
    assert refresh_cmd.SEVERITY.index(ExitCode.AUTH_REQUIRED) < refresh_cmd.SEVERITY.index(ExitCode.CONFLICT)
