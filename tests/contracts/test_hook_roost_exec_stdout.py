"""roost_exec_stdout: a third-party tap sees exec's child stdout after roost copied it unchanged; a tap
that raises is dropped and the copy goes on; no tap leaves stdout to the child."""

import sys

SOURCE = '''
from roost_core.api import hookimpl

class Tap:
    def __init__(self, path, explode):
        self.path, self.explode = path, explode

    def __call__(self, chunk):
        if self.explode:
            raise RuntimeError("tap broke")
        with open(self.path, "ab") as handle:
            handle.write(chunk if chunk else b"<end>")

@hookimpl
def roost_exec_stdout(profile, argv, ctx):
    if "CONTRACT_TAP" not in ctx.env:
        return None
    return Tap(ctx.env["CONTRACT_TAP"], ctx.env.get("CONTRACT_EXPLODE") == "1")
'''

CHILD = "import sys; [sys.stdout.write(f'line {i}\\n') for i in range(3000)]"


def test_third_party_tap_on_the_exec_child(roost_sandbox, roost_run, third_party, tmp_path):
    third_party("roost-contract-tap", {"contract_tap": SOURCE}, {"tap.site-tap": "contract_tap"})
    roost_sandbox.make_profile("a")
    expected = "".join(f"line {i}\n" for i in range(3000))
    seen = tmp_path / "seen"
    result = roost_run("exec", "--no-lease", "--", sys.executable, "-c", CHILD, CONTRACT_TAP=str(seen))
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert seen.read_bytes() == expected.encode() + b"<end>"
    broken = roost_run("exec", "--no-lease", "--", sys.executable, "-c", CHILD, CONTRACT_TAP=str(tmp_path / "x"),
                       CONTRACT_EXPLODE="1")
    assert broken.returncode == 0 and broken.stdout == expected
    untapped = roost_run("exec", "--no-lease", "--", sys.executable, "-c", CHILD)
    assert untapped.returncode == 0 and untapped.stdout == expected
