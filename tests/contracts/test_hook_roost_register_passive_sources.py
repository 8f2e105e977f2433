"""roost_register_passive_sources: a third-party passive source turns a hook event claude reports into
a reading that stands in for a probe (no request to the usage endpoint)."""

import json

SOURCE = '''
from roost_core.api import hookimpl

class Gateway:
    name = "gateway"
    kinds = frozenset({"hook"})

    def read(self, kind, observation, now):
        if not isinstance(observation, dict) or observation.get("gateway") != "throttled":
            return None
        return {"observed_at": now, "health": "rate_limited", "until": now + 600,
                "reason": "the gateway throttled this account"}

@hookimpl
def roost_register_passive_sources():
    return Gateway()
'''


def test_third_party_passive_source(roost_sandbox, roost_run, roost_fake, third_party, plugin_row):
    third_party("roost-gateway-passive", {"contract_passive": SOURCE}, {"passive.gateway": "contract_passive"})
    roost_sandbox.make_profile("a")
    event = json.dumps({"hook_event_name": "Notification", "gateway": "throttled"})
    hook = roost_run("hook", input=event, AXIOM_CLAUDE_PROFILE="a")
    assert (hook.returncode, hook.stdout) == (0, ""), hook.stderr
    result = roost_run("status", "--json")
    assert result.returncode == 0, result.stderr
    [record] = result.json["data"]
    assert (record["name"], record["health"]) == ("a", "rate_limited")
    assert roost_fake.count("GET", "/api/oauth/usage") == 0  # the reading stood in for a probe
    assert plugin_row("gateway")["provides"] == {"passive": ["gateway"]}
