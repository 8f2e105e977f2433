"""roost_register_token_refreshers: ``refresher = NAME`` trades the token; the core writes the file."""

SOURCE = '''
from roost_core.api import TokenGrant, hookimpl

class Stamp:
    name = "stamp"

    def refresh(self, refresh_token, ctx):
        return TokenGrant(access_token="sk-ant-oat01-stamped-access-" + "y" * 24,
                          refresh_token="sk-ant-ort01-stamped-refresh-" + "y" * 24, expires_in=3600.0)

@hookimpl
def roost_register_token_refreshers():
    return Stamp()
'''


def test_third_party_refresher(roost_sandbox, roost_run, roost_fake, third_party, plugin_row):
    third_party("roost-stamp-refresher", {"contract_refresher": SOURCE}, {"refresher.stamp": "contract_refresher"})
    roost_sandbox.make_profile("a", expires_in=-60)
    roost_sandbox.write_config('refresher = "stamp"\n')
    result = roost_run("refresh", "a", "--json")
    assert result.returncode == 0, result.stderr
    assert result.json["data"]["status"] == "refreshed"
    oauth = roost_sandbox.credentials("a")["claudeAiOauth"]
    assert oauth["accessToken"].startswith("sk-ant-oat01-stamped-access-")
    assert oauth["refreshToken"].startswith("sk-ant-ort01-stamped-refresh-")
    assert roost_fake.token_posts == 0  # the built-in refresher never ran
    assert "stamped" not in result.stdout + result.stderr  # the core never prints a token
    assert plugin_row("stamp")["provides"] == {"refresher": ["stamp"]}
