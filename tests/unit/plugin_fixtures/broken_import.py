"""A plugin whose import fails (test fixture)."""

import roost_no_such_dependency  # noqa: F401
