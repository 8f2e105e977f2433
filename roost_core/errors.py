"""Exit codes and the exception hierarchy that maps onto them.

Every user-facing failure is a RoostError: the CLI turns it into one stderr
line (or the JSON error envelope) and its exit code, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1
    AUTH_REQUIRED = 2
    NOT_FOUND = 3
    VALIDATION = 4
    FORBIDDEN = 5
    RATE_LIMITED = 6
    CONFLICT = 7
    TIMEOUT = 8
    UNAVAILABLE = 9


class RoostError(Exception):
    """A failure with a semantic exit code and a message fit for people."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    code_name: str | None = None  # overrides exit_code.name in the envelope

    def __init__(self, message: str, *, details: dict[str, Any] | None = None,
                 code_name: str | None = None, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code_name:
            self.code_name = code_name
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def code(self) -> str:
        return self.code_name or self.exit_code.name


class AuthRequired(RoostError):
    exit_code = ExitCode.AUTH_REQUIRED


class NotFound(RoostError):
    exit_code = ExitCode.NOT_FOUND


class ValidationError(RoostError):
    exit_code = ExitCode.VALIDATION


class Forbidden(RoostError):
    exit_code = ExitCode.FORBIDDEN


class RateLimited(RoostError):
    exit_code = ExitCode.RATE_LIMITED


class Conflict(RoostError):
    exit_code = ExitCode.CONFLICT


class LeaseHeld(Conflict):
    code_name = "LEASE_HELD"


class Timeout(RoostError):
    exit_code = ExitCode.TIMEOUT


class Unavailable(RoostError):
    exit_code = ExitCode.UNAVAILABLE


# -- token refresh outcomes (raised by TokenRefresher plugins, mapped by roost_core.refresh) --

class RefreshRejected(AuthRequired):
    """The token endpoint refused the grant (400 invalid_grant): spent, revoked or expired."""


class RefreshNotAttempted(Unavailable):
    """Nothing was consumed: a 429, a request-format 400, a connect failure. Safe to retry later.

    ``details["reason"]`` says which ("rate_limited", "request_rejected", "connect", ...);
    ``details["retry_after_s"]`` is set for a 429.
    """


class RefreshAmbiguous(Timeout):
    """The request went out but no usable answer came back: the grant may have been spent."""
