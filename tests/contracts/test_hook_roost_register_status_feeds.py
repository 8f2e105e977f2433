"""roost_register_status_feeds: ``status_feed = NAME`` folds a third-party feed into ``status``."""

SOURCE = '''
from roost_core.api import PlatformStatus, hookimpl

class Internal:
    name = "internal"
    ttl_s = 60.0

    def fetch(self, ctx, timeout):
        return PlatformStatus(indicator="minor", description="Gateway degraded",
                              degraded_components=[{"name": "gateway", "status": "degraded_performance"}])

@hookimpl
def roost_register_status_feeds():
    return Internal()
'''


def test_third_party_status_feed(roost_sandbox, roost_run, roost_fake, third_party):
    third_party("roost-internal-feed", {"contract_feed": SOURCE}, {"feed.internal": "contract_feed"})
    roost_sandbox.make_profile("a")
    roost_sandbox.write_config('status_feed = "internal"\n')
    result = roost_run("status", "--json")
    assert result.returncode == 0, result.stderr
    platform = result.json["meta"]["platform_status"]
    assert (platform["indicator"], platform["description"]) == ("minor", "Gateway degraded")
    assert roost_fake.count("GET", "/api/v2/summary.json") == 0  # the built-in feed was not asked
    text = roost_run("status")
    assert "Gateway degraded" in text.stderr
