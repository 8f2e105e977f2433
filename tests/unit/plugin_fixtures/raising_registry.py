"""A plugin whose registry hook raises (test fixture)."""

from roost_core import hookimpl


@hookimpl
def roost_register_strategies():
    raise RuntimeError("boom")
