"""Contract tests: each hookspec, implemented by a THIRD-PARTY package (entry point in its own
dist-info on PYTHONPATH, never registered in-process), driven through the real ``roost``.

They use roost's own test kit (``roost_core.testing``: roost_sandbox, roost_run, roost_fake),
as a plugin author would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from roostkit import make_dist_on_path


@pytest.fixture
def third_party(roost_sandbox, tmp_path: Path):
    """``third_party(dist, {module: source}, {entry point: module})``: install a plugin package for roost."""

    def install(dist: str, modules: dict[str, str], entry_points: dict[str, str]) -> Path:
        site = make_dist_on_path(tmp_path / f"site-{dist}", dist, modules, entry_points)
        roost_sandbox.python_path.append(str(site))
        return site

    return install


@pytest.fixture
def plugin_row(roost_run):
    """``plugin_row(name)``: the ``roost plugins --json`` row of plugin ``name``."""

    def row(name: str) -> dict:
        result = roost_run("plugins", "--json")
        assert result.returncode == 0, result.stderr
        rows = {r["name"]: r for r in result.json["data"]}
        assert name in rows, f"plugin {name!r} not listed: {sorted(rows)}"
        return rows[name]

    return row
