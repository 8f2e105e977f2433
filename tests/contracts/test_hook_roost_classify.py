"""roost_classify: a third-party classifier claims the outcomes it understands, the taxonomy the rest."""

SOURCE = '''
from roost_core.api import Classification, Health, hookimpl

@hookimpl
def roost_classify(profile, outcome, now, ctx):
    if profile.name != "gateway":
        return None
    return Classification(Health.SESSION_LIMIT, 60.0, reasons=["the gateway said so"], classifier="gateway")
'''


def test_third_party_classifier(roost_sandbox, roost_run, third_party, plugin_row):
    third_party("roost-gateway-classifier", {"contract_classifier": SOURCE},
                {"classifier.gateway": "contract_classifier"})
    roost_sandbox.make_profile("gateway")
    roost_sandbox.make_profile("plain")
    result = roost_run("status", "--json")
    assert result.returncode == 0, result.stderr
    assert {r["name"]: r["health"] for r in result.json["data"]} == {"gateway": "session_limit", "plain": "ok"}
    shown = roost_run("show", "gateway", "--json")
    assert shown.returncode == 0, shown.stderr
    assert shown.json["data"]["classifier"] == "gateway"
    assert "the gateway said so" in shown.json["data"]["reasons"]
    assert plugin_row("gateway")["status"] == "loaded"
