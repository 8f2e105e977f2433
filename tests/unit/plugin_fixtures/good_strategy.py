"""A well-formed third-party strategy plugin (test fixture)."""

from roost_core import hookimpl
from roost_core.records import Ranking, Scored


class Alphabetical:
    name = "alphabetical"
    summary = "Reverse name order (fixture)."

    def rank(self, candidates, request):
        order = sorted(candidates, key=lambda c: c.name, reverse=True)
        return Ranking([Scored(c) for c in order], "alphabetical: last name wins")


@hookimpl
def roost_register_strategies():
    return Alphabetical()
