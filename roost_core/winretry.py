"""Windows sharing violations: retry a file operation briefly instead of failing.

On Windows an antivirus scanner or the search indexer holding a file open
makes ``os.replace`` and reads fail with winerror 5 (access denied), 32 (in
use by another process) or 33 (locked region); in a scanned directory that is
common. The operation is retried with a short, bounded back-off (about 1.5 s
in all); any other error, or the same one past the budget, is raised as is.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

SHARING_WINERRORS = frozenset({5, 32, 33})
BACKOFF_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.75)


def is_sharing_violation(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in SHARING_WINERRORS


def windows_retry(operation: Callable[[], T], sleep: Callable[[float], None] | None = None) -> T:
    """``operation()``, retried on a sharing violation (winerror 5/32/33) with bounded back-off."""
    sleep = sleep or time.sleep
    for pause in BACKOFF_S:
        try:
            return operation()
        except OSError as exc:
            if not is_sharing_violation(exc):
                raise
        sleep(pause)
    return operation()
