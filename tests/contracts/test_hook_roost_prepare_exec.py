"""roost_prepare_exec: a third-party plugin readies the profile before exec's child starts; its
failure is a warning and the child still runs."""

import sys

SOURCE = '''
import os
from roost_core.api import hookimpl

@hookimpl
def roost_prepare_exec(profile, env, ctx):
    if ctx.env.get("CONTRACT_PREPARE") == "fail":
        raise RuntimeError("site setup broke")
    with open(os.path.join(profile.directory, "site-ready"), "w") as handle:
        handle.write(",".join(sorted(env)))
'''

CHILD = "import os,sys; print(open(os.path.join(os.environ['CLAUDE_CONFIG_DIR'], 'site-ready')).read())"


def test_third_party_prepares_the_exec_child(roost_sandbox, roost_run, third_party):
    third_party("roost-contract-prepare", {"contract_prepare": SOURCE}, {"exec.site-prepare": "contract_prepare"})
    roost_sandbox.make_profile("a")
    result = roost_run("exec", "--no-lease", "--", sys.executable, "-c", CHILD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["AXIOM_CLAUDE_PROFILE,CLAUDE_CONFIG_DIR,CLAUDE_SECURESTORAGE_CONFIG_DIR"]
    failed = roost_run("exec", "--no-lease", "--", sys.executable, "-c", "print('ran')", CONTRACT_PREPARE="fail")
    assert failed.returncode == 0 and failed.stdout.strip() == "ran"
    assert "site-prepare" in failed.stderr and "site setup broke" in failed.stderr


STOPPING = '''
from roost_core.api import Forbidden, hookimpl

@hookimpl
def roost_prepare_exec(profile, env, ctx):
    raise Forbidden(f"{profile.name} may not run here")
'''


def test_a_roost_error_stops_exec_with_its_exit_code(roost_sandbox, roost_run, third_party, tmp_path):
    third_party("roost-contract-stop", {"contract_stop": STOPPING}, {"exec.site-stop": "contract_stop"})
    roost_sandbox.make_profile("a")
    marker = tmp_path / "ran"
    result = roost_run("exec", "--no-lease", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert result.returncode == 5 and "a may not run here" in result.stderr
    assert not marker.exists()
