"""A plugin whose strategy name clashes with good_strategy's (test fixture)."""

from roost_core import hookimpl


class Clash:
    name = "alphabetical"
    summary = "clash"

    def rank(self, candidates, request):
        raise AssertionError("never called")


@hookimpl
def roost_register_strategies():
    return Clash()
