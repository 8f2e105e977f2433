"""roost_register_strategies: a third-party strategy is picked by name, listed and completed."""

SOURCE = '''
from roost_core.api import Ranking, Scored, hookimpl

class LastName:
    name = "last-name"
    summary = "The last profile name first (contract test)."

    def rank(self, candidates, request):
        ordered = sorted(candidates, key=lambda c: c.name, reverse=True)
        return Ranking([Scored(c, float(i), "reverse name order") for i, c in enumerate(ordered)],
                       "last-name: the last name first")

@hookimpl
def roost_register_strategies():
    return LastName()
'''


def test_third_party_strategy(roost_sandbox, roost_run, third_party, plugin_row):
    third_party("roost-strategy-last-name", {"contract_strategy": SOURCE}, {"strategy.last-name": "contract_strategy"})
    for name in ("a", "b", "c"):
        roost_sandbox.make_profile(name)
    result = roost_run("pick", "--strategy", "last-name", "--json")
    assert result.returncode == 0, result.stderr
    data = result.json["data"]
    assert (data["name"], data["strategy"], data["rationale"]) == ("c", "last-name", "last-name: the last name first")
    assert roost_run("which", "--strategy", "least-used", "--stickiness", "0").stdout == "a\n"
    assert "The last profile name first" in roost_run("pick", "--help").stdout
    row = plugin_row("last-name")
    assert row["dist"] == "roost-strategy-last-name" and row["provides"] == {"strategy": ["last-name"]}
