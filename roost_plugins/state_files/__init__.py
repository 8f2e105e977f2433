"""The built-in ``files`` state backend (backend.py), with the two parts of the
refresh protocol that belong to a local profile tree: Claude Code's lock
directories (claudelock.py) and the pending-grant journal (journal.py)."""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl

from .backend import FilesBackend


class FilesBackendFactory:
    name = "files"

    def open(self, ctx: Any) -> FilesBackend:
        from roost_core.api import credential_store

        return FilesBackend(ctx.paths.config_dir, ctx.warn, lock_stale_s=ctx.settings.get("lock_stale"),
                            profiles_tree=ctx.paths.profiles_tree, store=lambda: credential_store(ctx))


@hookimpl
def roost_register_state_backends() -> FilesBackendFactory:
    return FilesBackendFactory()
