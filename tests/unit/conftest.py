"""Fixtures shared by the unit tests (the rest live in tests/conftest.py)."""

from __future__ import annotations

import pytest

from roost_plugins.state_files import FilesBackend


@pytest.fixture
def backend(tmp_path) -> FilesBackend:
    """A files backend in a temp config dir; ``.warnings`` collects what it warned."""
    warnings: list[str] = []
    files = FilesBackend(tmp_path / "config", warnings.append)
    files.warnings = warnings  # type: ignore[attr-defined]
    return files
