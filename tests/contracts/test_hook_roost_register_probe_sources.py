"""roost_register_probe_sources: ``probe_source = NAME`` makes a third-party source probe every profile."""

SOURCE = '''
import json
from roost_core.api import ProbeOutcome, hookimpl

class Fixed:
    name = "fixed"

    async def probe(self, profile, access_token, client, ctx):
        body = {"five_hour": {"utilization": 42.0, "resets_at": None},
                "seven_day": {"utilization": 7.0, "resets_at": None}}
        return ProbeOutcome(source="fixed", url="fixed://" + profile.name, status=200,
                            body=json.dumps(body).encode())

@hookimpl
def roost_register_probe_sources():
    return Fixed()
'''


def test_third_party_probe_source(roost_sandbox, roost_run, roost_fake, third_party, plugin_row):
    third_party("roost-fixed-probe", {"contract_probe": SOURCE}, {"probe.fixed": "contract_probe"})
    roost_sandbox.make_profile("a")
    roost_sandbox.write_config('probe_source = "fixed"\n')
    result = roost_run("probe", "--json")
    assert result.returncode == 0, result.stderr
    [record] = result.json["data"]
    assert (record["name"], record["health"], record["session_pct"], record["weekly_pct"]) == ("a", "ok", 42.0, 7.0)
    assert roost_fake.count("GET", "/api/oauth/usage") == 0  # the built-in source was not asked
    assert plugin_row("fixed")["provides"] == {"probe": ["fixed"]}
