"""A plugin with a misspelt hook name (test fixture)."""

from roost_core import hookimpl


@hookimpl
def roost_register_strategie():
    return None
