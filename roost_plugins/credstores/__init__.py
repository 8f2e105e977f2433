"""Built-in credential stores (docs/platforms.md): ``file`` (every platform) and
``keychain`` (macOS, Claude Code's own item naming and fallback rules)."""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl


class FileStoreFactory:
    name = "file"
    platforms = frozenset({"linux", "darwin", "win32"})
    priority = 10

    def open(self, ctx: Any) -> Any:
        from roost_core.api import FileCredentialStore, current_platform

        return FileCredentialStore(current_platform(ctx), ctx.warn)


class KeychainStoreFactory:
    name = "keychain"
    platforms = frozenset({"darwin"})
    priority = 20

    def open(self, ctx: Any) -> Any:
        from roost_core.api import FileCredentialStore, current_platform, keychain_account

        from .keychain import KeychainStore
        from .security import Security

        security = Security(str(ctx.settings.get("security_bin")), keychain_account(ctx.env),
                            float(ctx.settings.get("security_timeout")), ctx.env)
        return KeychainStore(security, FileCredentialStore(current_platform(ctx), ctx.warn), ctx.warn)


@hookimpl
def roost_register_credential_stores() -> list[Any]:
    return [FileStoreFactory(), KeychainStoreFactory()]
