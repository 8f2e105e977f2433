"""Profile-name validation (docs/design.md, "Paths, names, durations").

Names become directory names, so they are validated, never escaped: 1-64
characters of A-Z a-z 0-9 . _ -, not starting with "." or "-", and not ending
in ".lock" (claude's own lock directories live beside the profiles).
"""

from __future__ import annotations

import re

from .errors import ValidationError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")


def is_valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and not name.endswith(".lock")


def validate_name(name: str, what: str = "profile name") -> str:
    """Return ``name`` or raise VALIDATION naming what is wrong with it."""
    if not is_valid_name(name):
        shown = name.encode("unicode_escape").decode("ascii")[:80]
        raise ValidationError(
            f"invalid {what} {shown!r}: use 1-64 characters of A-Z a-z 0-9 . _ -, "
            "not starting with '.' or '-' and not ending in '.lock'",
            details={"name": shown},
        )
    return name
