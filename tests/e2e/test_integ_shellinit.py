"""``roost shellinit`` evaluated in real bash, zsh and fish (pwsh where installed).

A fake ``claude`` on PATH prints its argv and the profile variables as JSON.
Two roosts drive the wrapper: a stub that logs its argv and execs what
follows ``--`` (it isolates the wrapper's quoting), and the real roost with
``exec`` against the fake Anthropic (the whole path a user takes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from roostkit import ROOST, canary

# Arguments that break naive quoting: spaces, quotes, globs, variables, empty, newline, dashes.
TRICKY = ["a b", "it's", 'say "hi"', "", "$HOME", "*", "--flag", "tab\there", "new\nline", "ünï", "-n", "--"]

FAKE_CLAUDE = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    print(json.dumps({{"argv": args, "AXIOM_CLAUDE_PROFILE": os.environ.get("AXIOM_CLAUDE_PROFILE"),
                      "CLAUDE_CONFIG_DIR": os.environ.get("CLAUDE_CONFIG_DIR")}}))
    sys.exit(int(args[1]) if args[:1] == ["--exit"] else 0)
    """)

STUB_ROOST = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    with open({log!r}, "a") as log:
        log.write(json.dumps(args) + "\\n")
    rest = args[args.index("--") + 1:]
    os.execv(rest[0], rest)
    """)

RUNNERS = {
    "bash": ("eval \"$({init})\"\nclaude \"$@\"\n", ["bash"]),
    "zsh": ("eval \"$({init})\"\nclaude \"$@\"\n", ["zsh", "-f"]),
    "fish": ("{init} | source\nclaude $argv\n", ["fish", "--no-config"]),
}


def _need(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it where it can)")
    return path


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A directory holding the fake ``claude``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(FAKE_CLAUDE.format(python=sys.executable))
    claude.chmod(0o755)
    return bin_dir


@pytest.fixture
def stub_roost(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "roost-argv.log"
    stub = tmp_path / "stub roost"  # a space in the path: the wrapper must quote it
    stub.write_text(STUB_ROOST.format(python=sys.executable, log=str(log)))
    stub.chmod(0o755)
    return stub, log


def run_in_shell(shell: str, tmp_path: Path, init: str, args: list[str], env: dict[str, str]):
    body, argv = RUNNERS[shell]
    script = tmp_path / f"run.{shell}"
    script.write_text(body.format(init=init))
    return subprocess.run([*argv, str(script), *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


def _q(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'" if "'" in text or " " in text else text


def _fq(text: str) -> str:  # fish quoting
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_wrapper_passes_arguments_intact_and_never_recurses(shell, tmp_path, fake_bin, stub_roost, roost_env):
    _need(shell)
    stub, log = stub_roost
    quote = _fq if shell == "fish" else _q
    init = f"{quote(ROOST)} shellinit --shell {shell} --roost-path {quote(str(stub))}"
    env = roost_env.env(PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    proc = run_in_shell(shell, tmp_path, init, TRICKY, env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["argv"] == TRICKY
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [["exec", "--auto-refresh", "--", str(fake_bin / "claude"), *TRICKY]]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_wrapper_detects_its_shell_and_reports_missing_claude(shell, tmp_path, stub_roost, roost_env):
    _need(shell)
    stub, log = stub_roost
    quote = _fq if shell == "fish" else _q
    init = f"{quote(ROOST)} shellinit --roost-path {quote(str(stub))}"  # no --shell: the parent is the shell
    env = roost_env.env(PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                             if not (Path(p) / "claude").exists()), SHELL="/bin/sh")
    proc = run_in_shell(shell, tmp_path, init, ["x"], env)
    assert proc.returncode == 127, (proc.stdout, proc.stderr)
    assert "claude: command not found" in proc.stderr
    assert not log.exists()  # roost is never started without a claude to run


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_missing_claude_is_127_with_its_message_under_set_e(shell, tmp_path, stub_roost, roost_env):
    """The lookup's own failure must not end an errexit shell silently with 1."""
    _need(shell)
    stub, log = stub_roost
    env = roost_env.env(PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                             if not (Path(p) / "claude").exists()))
    script = tmp_path / f"errexit.{shell}"
    script.write_text(f"set -eu\neval \"$({_q(ROOST)} shellinit --shell {shell} --roost-path {_q(str(stub))})\"\n"
                      "claude x || echo \"status=$?\"\n")
    proc = subprocess.run([shell, *(["-f"] if shell == "zsh" else []), str(script)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "status=127", (proc.stdout, proc.stderr)
    assert "claude: command not found" in proc.stderr and not log.exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("args", [["auth", "login"], ["auth", "logout"], ["setup-token"], ["login"], ["logout"]])
def test_signing_in_and_out_bypasses_roost(shell, args, tmp_path, fake_bin, stub_roost, roost_env):
    """`CLAUDE_CONFIG_DIR=<tree>/NAME claude auth login`, as roost's hints say, signs in that profile:
    through roost exec it would act on whichever profile was picked (or not run at all)."""
    _need(shell)
    stub, log = stub_roost
    quote = _fq if shell == "fish" else _q
    init = f"{quote(ROOST)} shellinit --shell {shell} --roost-path {quote(str(stub))}"
    env = roost_env.env(PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}", CLAUDE_CONFIG_DIR="/chosen/profile")
    proc = run_in_shell(shell, tmp_path, init, args, env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["argv"] == args and out["CLAUDE_CONFIG_DIR"] == "/chosen/profile"
    assert not log.exists()  # roost never started
    proc = run_in_shell(shell, tmp_path, init, ["auth", "status"], env)  # anything else goes through roost
    assert proc.returncode == 0 and json.loads(log.read_text().splitlines()[0])[:2] == ["exec", "--auto-refresh"]


def test_shellinit_json_and_bad_shell(roost_env):
    rc, out = roost_env.run_json("shellinit", "--shell", "zsh")
    assert rc == 0 and out["data"]["shell"] == "zsh" and "whence -p claude" in out["data"]["script"]
    assert out["data"]["roost"] == ROOST
    proc = roost_env.run("shellinit", "--shell", "tcsh")
    assert proc.returncode == 4 and "tcsh" in proc.stderr
    proc = roost_env.run("shellinit", "--shell", "tcsh", SHELL="/bin/sh")
    assert proc.returncode == 4 and "tcsh" in proc.stderr and proc.stdout == ""


def test_shellinit_falls_back_to_bash_when_the_shell_is_unknown(roost_env):
    # The parent is pytest's python; $SHELL is sh, then unset (a test harness in a container).
    bash = roost_env.run("shellinit", "--shell", "bash").stdout
    for env in (roost_env.env(SHELL="/bin/sh"), {k: v for k, v in roost_env.env().items() if k != "SHELL"}):
        proc = roost_env.run("shellinit", env=env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == bash and "type -P claude" in proc.stdout  # stdout is only the script
        notes = proc.stderr.splitlines()
        assert len(notes) == 1 and notes[0].startswith("roost: note: could not detect your shell")
        assert "bash" in notes[0] and "--shell" in notes[0]
        rc, out = roost_env.run_json("shellinit", env=env)
        assert rc == 0 and out["data"]["shell"] == "bash"
        assert out["meta"]["fallback"] is True and out["meta"]["detected"] is False


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_wrapper_runs_claude_through_real_roost_exec(shell, tmp_path, fake_bin, world):
    from roost_plugins.fakeserver import Scenario

    _need(shell)
    world.make_profile("work")
    world.fake.add_account("work", access_token=canary("access", "work"), refresh_token=canary("refresh", "work"),
                           usage=Scenario.ok(session=10, weekly=20))
    quote = _fq if shell == "fish" else _q
    env = world.env(PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    proc = run_in_shell(shell, tmp_path, f"{quote(ROOST)} shellinit --shell {shell}", TRICKY, env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["argv"] == TRICKY
    assert out["AXIOM_CLAUDE_PROFILE"] == "work"
    assert out["CLAUDE_CONFIG_DIR"] == str(world.profiles / "work")
    if shell == "bash":  # the child's exit code comes back through roost and the function
        proc = run_in_shell(shell, tmp_path, f"{quote(ROOST)} shellinit --shell {shell}", ["--exit", "3"], env)
        assert proc.returncode == 3, proc.stderr


def test_pwsh_wrapper(tmp_path, fake_bin, stub_roost, roost_env):
    pwsh = _need("pwsh")
    stub, log = stub_roost
    script = tmp_path / "run.ps1"
    script.write_text(f"& '{ROOST}' shellinit --shell pwsh --roost-path '{stub}' | Out-String | Invoke-Expression\n"
                      "claude @args\nexit $LASTEXITCODE\n")
    args = ["a b", "it's", "*", "--flag"]
    env = roost_env.env(PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-File", str(script), *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["argv"] == args
