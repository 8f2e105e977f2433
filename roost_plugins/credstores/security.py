"""macOS ``security``, spoken exactly as Claude Code speaks it (docs/platforms.md).

* Always by absolute path (the ``security_bin`` setting, default
  ``/usr/bin/security``), always with ``-a ACCOUNT``, always with a timeout.
* Reads: ``find-generic-password -a A -s S -w``; doctor leaves ``-w`` off
  (attributes only: no secret, no access prompt).
* Writes: one stdin line to ``security -i``:
  ``add-generic-password -U -a "A" -s "S" -X "<hex of the JSON>"`` (no ``-T``,
  so the item's access list is not reset). A secret never goes in argv;
  a line over claude's 4,032-byte limit is refused (claude would fall back
  to argv; roost does not).
* Exit 44 means "absent" only when the keychain itself answers
  (``show-keychain-info``): from a daemon context security answers 44 for
  everything. Exit 36 (locked), a timeout, or no answer is "unavailable".
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Mapping

MAX_LINE_BYTES = 4032  # claude's own limit for one `security -i` line
EXIT_NOT_FOUND = 44
EXIT_LOCKED = 36


class KeychainUnavailable(Exception):
    """The keychain did not answer (locked, no GUI session, SSH, a hang)."""


class KeychainWriteFailed(Exception):
    """The keychain answered but refused the item (claude then falls back to the file)."""


def _quoted(value: str, what: str) -> str:
    if any(c in value for c in '"\\\n\r\0'):
        raise KeychainWriteFailed(f"the keychain {what} {value!r} cannot be quoted on a security -i line")
    return f'"{value}"'


def add_line(service: str, account: str, data: bytes) -> str:
    """The one stdin line claude writes; KeychainWriteFailed past 4,032 bytes."""
    line = (f"add-generic-password -U -a {_quoted(account, 'account')} -s {_quoted(service, 'service')} "
            f"-X \"{data.hex()}\"\n")
    if len(line.encode("utf-8")) > MAX_LINE_BYTES:
        raise KeychainWriteFailed(f"the login is too large for one security -i line "
                                  f"({len(line.encode('utf-8'))} > {MAX_LINE_BYTES} bytes)")
    return line


@dataclass
class Security:
    binary: str
    account: str
    timeout: float = 5.0
    env: Mapping[str, str] | None = None

    def _run(self, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([self.binary, *args], input=stdin, capture_output=True, timeout=self.timeout,
                                  env=dict(self.env) if self.env is not None else None,
                                  stdin=None if stdin is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise KeychainUnavailable(f"{self.binary} did not answer within {self.timeout:g}s") from None
        except OSError as exc:
            raise KeychainUnavailable(f"cannot run {self.binary}: {exc.strerror or exc}") from None

    def answers(self) -> bool:
        """The keychain itself answers (``show-keychain-info``)."""
        try:
            return self._run(["show-keychain-info"]).returncode == 0
        except KeychainUnavailable:
            return False

    def _unavailable(self, proc: subprocess.CompletedProcess) -> KeychainUnavailable:
        if proc.returncode == EXIT_LOCKED:
            return KeychainUnavailable("the login keychain is locked or not reachable from this session "
                                       "(security exit 36: SSH or no GUI session?)")
        return KeychainUnavailable(f"security exit {proc.returncode}")

    def find(self, service: str, *, secret: bool) -> bytes | None:
        """The item's secret (``secret``) or b"" (attributes only); None when absent."""
        args = ["find-generic-password", "-a", self.account, "-s", service] + (["-w"] if secret else [])
        proc = self._run(args)
        if proc.returncode == 0:
            return proc.stdout.rstrip(b"\n") if secret else b""
        if proc.returncode == EXIT_NOT_FOUND:
            if self.answers():
                return None
            raise KeychainUnavailable("security answers 44 (not found) but the keychain itself does not "
                                      "answer (a daemon or SSH context); absent cannot be told from unreachable")
        raise self._unavailable(proc)

    def add(self, service: str, data: bytes) -> None:
        line = add_line(service, self.account, data)
        proc = self._run(["-i"], stdin=line.encode("utf-8"))
        if proc.returncode == 0:
            return
        if proc.returncode == EXIT_LOCKED or not self.answers():
            raise self._unavailable(proc)
        raise KeychainWriteFailed(f"security refused the item (exit {proc.returncode})")

    def delete(self, service: str) -> bool:
        """Remove the item; True when one was removed, False when there was none."""
        proc = self._run(["delete-generic-password", "-a", self.account, "-s", service])
        if proc.returncode == 0:
            return True
        if proc.returncode == EXIT_NOT_FOUND and self.answers():
            return False
        raise self._unavailable(proc)
