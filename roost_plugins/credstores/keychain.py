"""The macOS keychain store, with Claude Code's own fallback rules (docs/platforms.md).

The item: generic password, service ``Claude Code-credentials-<8 hex>``
(sha256 of the profile's config-dir string, exactly what exec exports),
account ``$USER``. claude reads the keychain, else the file; writes the
keychain and, after a successful keychain write, deletes the file; if the
keychain write fails it writes the file and deletes the older keychain item.
roost does the same, with one difference: when the keychain does not answer
(locked, SSH, no GUI session) roost writes nothing at all, so there is never
a second live copy of a rotating refresh token; the refresh is skipped with
exit 9.

The profile keeps a marker (``.roost-keychain``, the service name only) so
discovery finds it once the file is gone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from roost_core.api import (ANY_TOKEN, KEYCHAIN_MARKER, KEYCHAIN_SERVICE, FileCredentialStore, StoredCredentials,
                            Unavailable, check_expected, config_dir_string, keychain_service, verify_written,
                            windows_retry)

from .security import KeychainUnavailable, KeychainWriteFailed, Security


class KeychainStore:
    name = "keychain"
    platforms = frozenset({"darwin"})
    priority = 20

    def __init__(self, security: Security, file_store: FileCredentialStore,
                 warn: Callable[[str], None] = lambda message: None):
        self.security = security
        self.file = file_store
        self.warn = warn

    def service(self, profile: Any) -> str:
        return keychain_service(config_dir_string(profile.directory))

    def _unavailable(self, profile: Any, why: str, doing: str) -> Unavailable:
        return Unavailable(f"the macOS keychain is unavailable ({why}); {doing} of {profile.name!r} skipped so "
                           "that no second copy of its login is written; unlock the keychain or run roost "
                           "from the GUI session", details={"profile": profile.name, "store": self.name,
                                                            "reason": "keychain_unavailable"})

    # -- read -----------------------------------------------------------------------
    def read(self, profile: Any) -> StoredCredentials:
        service = self.service(profile)
        try:
            data = self.security.find(service, secret=True)
        except KeychainUnavailable as exc:
            try:
                stored = self.file.read(profile)  # what claude itself falls back to
            except FileNotFoundError:
                raise self._unavailable(profile, str(exc), "reading the login") from None
            stored.notes.append(f"keychain unavailable ({exc}): read the file")
            return stored
        if data is None:
            return self.file.read(profile)  # FileNotFoundError: no login anywhere
        return StoredCredentials(data, self.name, service)

    def read_default(self) -> StoredCredentials | None:
        """claude's default item (``CLAUDE_CONFIG_DIR`` unset): what ``roost add`` imports on a Mac."""
        try:
            data = self.security.find(KEYCHAIN_SERVICE, secret=True)
        except KeychainUnavailable as exc:
            raise Unavailable(f"the macOS keychain is unavailable ({exc}); cannot import claude's login from it",
                              details={"store": self.name, "reason": "keychain_unavailable"}) from None
        return StoredCredentials(data, self.name, KEYCHAIN_SERVICE) if data is not None else None

    # -- write ----------------------------------------------------------------------
    def write(self, profile: Any, data: bytes, expected: Any = ANY_TOKEN) -> StoredCredentials:
        service = self.service(profile)
        try:
            current = self.read(profile)
        except FileNotFoundError:
            current = None
        if current is not None and current.notes:
            raise self._unavailable(profile, current.notes[0], "writing the login")
        check_expected(profile, current, expected)
        try:
            self.security.add(service, data)
        except KeychainUnavailable as exc:
            raise self._unavailable(profile, str(exc), "writing the login") from None
        except KeychainWriteFailed as exc:
            return self._fall_back_to_file(profile, service, data, str(exc))
        try:
            back = self.security.find(service, secret=True)
        except KeychainUnavailable as exc:
            raise self._unavailable(profile, str(exc), "verifying the login") from None
        verify_written(profile, data, back, f"keychain item {service!r}")
        self._mark(profile, service)
        if self.file.delete(profile):  # claude's rule: after a keychain write the file goes
            self.warn(f"{profile.name}: the login now lives in the keychain item {service!r}; "
                      "removed the plaintext .credentials.json (as claude does)")
        return StoredCredentials(data, self.name, service)

    def _fall_back_to_file(self, profile: Any, service: str, data: bytes, why: str) -> StoredCredentials:
        """claude's fallback: the file (0600), then the older keychain item goes (it would win reads)."""
        self.warn(f"{profile.name}: the keychain refused the login ({why}); wrote .credentials.json instead")
        written = self.file.write(profile, data)
        self._unmark(profile)
        try:
            self.security.delete(service)
        except KeychainUnavailable as exc:
            self.warn(f"{profile.name}: could not remove the older keychain item {service!r} ({exc}); "
                      "claude would read it first: run roost doctor")
        written.notes.append(f"keychain refused the item ({why})")
        return written

    def _mark(self, profile: Any, service: str) -> None:
        from roost_core.api import write_user_file

        marker = Path(profile.directory) / KEYCHAIN_MARKER
        try:
            write_user_file(marker, (service + "\n").encode("utf-8"), 0o600, force=True)
        except OSError as exc:
            self.warn(f"{profile.name}: could not write {marker} ({exc}); discovery may miss this profile")

    def _unmark(self, profile: Any) -> None:
        try:
            windows_retry(lambda: os.unlink(Path(profile.directory) / KEYCHAIN_MARKER))
        except FileNotFoundError:
            pass

    # -- the rest of the seam ---------------------------------------------------------
    def delete(self, profile: Any) -> list[str]:
        removed = []
        service = self.service(profile)
        try:
            if self.security.delete(service):
                removed.append(f"keychain:{service}")
        except KeychainUnavailable as exc:
            raise self._unavailable(profile, str(exc), "removing the login") from None
        removed += self.file.delete(profile)
        self._unmark(profile)
        return removed

    def relocate(self, old: Any, new: Any) -> None:
        """``roost rename``: the item is named after the directory, so the login moves to the new
        directory's item (written, read back, then the old one deleted) before the directory moves."""
        source, target = self.service(old), self.service(new)
        try:
            data = self.security.find(source, secret=True)
            if data is None:
                return  # the login is in the file, which moves with the directory
            self.security.add(target, data)
            verify_written(new, data, self.security.find(target, secret=True), f"keychain item {target!r}")
            self.security.delete(source)
        except KeychainUnavailable as exc:
            raise self._unavailable(old, str(exc), "renaming the profile") from None
        except KeychainWriteFailed as exc:
            raise Unavailable(f"the keychain refused the item {target!r} ({exc}); {old.name!r} was not renamed",
                              details={"profile": old.name, "store": self.name}) from None

    def lock_dir(self, profile: Any) -> Path:
        return Path(profile.directory)

    def inspect(self, profile: Any) -> dict[str, Any]:
        """Which store holds the live copy, and a stray second copy; attributes only (no -w, no prompt)."""
        service = self.service(profile)
        file_present = profile.credentials_path.is_file()
        report: dict[str, Any] = {"store": self.name, "keychain_item": service, "account": self.security.account,
                                  "file": str(profile.credentials_path), "file_present": file_present}
        try:
            item = self.security.find(service, secret=False) is not None
        except KeychainUnavailable as exc:
            report.update(keychain="unavailable", reason=str(exc), live="file" if file_present else None,
                          stray=None)
            return report
        report["keychain"] = "present" if item else "absent"
        report["live"] = "keychain" if item else ("file" if file_present else None)
        report["stray"] = "file" if item and file_present else None
        return report

    def ready_to_spend(self, profile: Any) -> None:
        """UNAVAILABLE (exit 9) before the POST when the new token could not be written back."""
        try:
            self.security.find(self.service(profile), secret=False)
        except KeychainUnavailable as exc:
            raise self._unavailable(profile, str(exc), "the refresh") from None
