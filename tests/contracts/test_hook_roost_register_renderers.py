"""roost_register_renderers: ``status --format NAME`` hands the status data to a third-party renderer."""

SOURCE = '''
from roost_core.api import hookimpl

class Csv:
    name = "csv"
    formats = frozenset({"csv"})
    views = frozenset({"status"})

    def render(self, view, data, meta, ctx):
        for record in data["profiles"]:
            ctx.out.stdout.write(f"{record['name']},{record['health']},{record['weekly_pct']}\\n")

@hookimpl
def roost_register_renderers():
    return Csv()
'''


def test_third_party_renderer(roost_sandbox, roost_run, third_party):
    third_party("roost-csv-renderer", {"contract_renderer": SOURCE}, {"renderer.csv": "contract_renderer"})
    roost_sandbox.make_profile("a", usage={"weekly": 33.0})
    result = roost_run("status", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a,ok,33.0\n"
    unknown = roost_run("status", "--format", "nope")
    assert unknown.returncode == 4 and "csv" in unknown.stderr  # listed among the available formats
