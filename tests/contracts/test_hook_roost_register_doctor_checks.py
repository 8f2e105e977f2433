"""roost_register_doctor_checks: a third-party check runs in ``doctor`` and its FAIL sets the exit code."""

SOURCE = '''
import os
from roost_core.api import CheckResult, hookimpl

class Vpn:
    name = "site-vpn"
    needs_network = False

    def run(self, ctx):
        level = "fail" if ctx.env.get("CONTRACT_VPN") == "down" else "ok"
        return CheckResult("site-vpn", level, f"vpn is {ctx.env.get('CONTRACT_VPN', 'up')}")

@hookimpl
def roost_register_doctor_checks():
    return Vpn()
'''


def test_third_party_doctor_check(roost_sandbox, roost_run, third_party):
    third_party("roost-site-check", {"contract_check": SOURCE}, {"doctor.site": "contract_check"})
    roost_sandbox.make_profile("a")
    result = roost_run("doctor", "--skip-network", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in result.json["data"]}
    assert (rows["site-vpn"]["level"], rows["site-vpn"]["message"]) == ("ok", "vpn is up")
    failed = roost_run("doctor", "--skip-network", "--json", CONTRACT_VPN="down")
    assert failed.returncode == 9 and failed.json["error"]["details"]["failed"] == ["site-vpn"]
