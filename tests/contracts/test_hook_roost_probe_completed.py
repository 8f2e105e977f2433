"""roost_probe_completed: a third-party observer sees every live probe (and not ``probe --raw``)."""

SOURCE = '''
from roost_core.api import hookimpl

@hookimpl
def roost_probe_completed(profile, outcome, record, ctx):
    with open(ctx.env["CONTRACT_OBSERVED"], "a") as handle:
        handle.write(f"{profile.name} {record.health.value} {outcome.status}\\n")
'''


def test_third_party_observer(roost_sandbox, roost_run, third_party, tmp_path):
    third_party("roost-contract-observer", {"contract_observer": SOURCE}, {"observer.contract": "contract_observer"})
    roost_sandbox.make_profile("a")
    roost_sandbox.make_profile("b", usage={"session": 100, "weekly": 50})
    observed = tmp_path / "observed.txt"
    result = roost_run("probe", "--json", CONTRACT_OBSERVED=str(observed))
    assert result.returncode == 0, result.stderr
    assert sorted(observed.read_text().splitlines()) == ["a ok 200", "b session_limit 200"]
    assert roost_run("probe", "--raw", "a", CONTRACT_OBSERVED=str(observed)).returncode == 0
    assert len(observed.read_text().splitlines()) == 2
