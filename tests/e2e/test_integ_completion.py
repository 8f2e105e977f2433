"""Shell completion through the real executable: click's protocol as each shell drives it,
the scripts sourced in real bash and fish, and --install-completion into a temp HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from roostkit import ROOST, RoostEnv, make_dist_on_path

PROFILES = ("alpha", "beta", "gamma")


def _values(shell: str, stdout: str) -> list[str]:
    """The completion values out of each shell's wire format."""
    if shell == "bash":
        return [line.split(",", 1)[1] for line in stdout.splitlines() if line]
    if shell == "zsh":
        lines = stdout.split("\n")
        return [lines[i + 1] for i in range(0, len(lines) - 2, 3)]
    if shell == "fish":
        return [line.split(",", 1)[1].split("\t")[0] for line in stdout.splitlines() if line]
    return [line.split("\t")[1] for line in stdout.splitlines() if line]  # powershell


def complete(env, shell: str, line: str, **extra: str) -> list[str]:
    """Ask roost for completions of ``line`` (the text up to the cursor) the way ``shell`` does."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    if shell == "fish":
        wire = {"COMP_WORDS": line, "COMP_CWORD": words[-1]}
    elif shell == "powershell":
        wire = {"COMP_WORDS": line, "COMP_CWORD": words[-1]}
    else:
        wire = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    proc = env.run(_ROOST_COMPLETE=f"{shell}_complete", **wire, **extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", "completion must stay quiet"
    return _values(shell, proc.stdout)


@pytest.fixture
def fleet(roost_env):
    for name in PROFILES:
        roost_env.make_profile(name)
    return roost_env


@pytest.fixture(scope="module")
def commands(tmp_path_factory) -> set[str]:
    """Every command name of this build, asked the way bash asks (once per module)."""
    env = RoostEnv(tmp_path_factory.mktemp("commands"))
    return set(complete(env, "bash", "roost "))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_commands_flags_and_profiles_for_every_shell(fleet, shell):
    assert {"shellinit", "snapshot"} <= set(complete(fleet, shell, "roost s"))
    assert {"--skip-network", "--json", "--help"} <= set(complete(fleet, shell, "roost doctor --"))
    assert complete(fleet, shell, "roost remove ") == list(PROFILES)
    assert complete(fleet, shell, "roost rename b") == ["beta"]


@pytest.mark.parametrize("line,expected", [
    ("roost show ", PROFILES), ("roost probe g", ("gamma",)), ("roost refresh ", PROFILES),
    ("roost invalidate a", ("alpha",)), ("roost trace ", PROFILES), ("roost history --profile b", ("beta",)),
    ("roost pick --avoid ", PROFILES), ("roost pick --fallback g", ("gamma",)), ("roost which --avoid a", ("alpha",)),
    ("roost snapshot ", PROFILES), ("roost exec --avoid b", ("beta",)),
])
def test_profile_names_complete_where_a_profile_is_expected(fleet, commands, line, expected):
    command = line.split()[1]
    # Every one of these commands ships with roost: a missing one is a broken plugin, not a reason to skip.
    assert command in commands, f"`roost {command}` is missing from this build (a broken or disabled plugin?)"
    assert complete(fleet, "bash", line) == list(expected)


def test_strategy_values_include_third_party_strategies(fleet, tmp_path):
    source = ("from roost_core import hookimpl\n"
              "class Coin:\n    name = 'coin-flip'\n    summary = 'a test strategy'\n"
              "    def rank(self, candidates, request):\n        return candidates\n"
              "@hookimpl\ndef roost_register_strategies():\n    return Coin()\n")
    site = make_dist_on_path(tmp_path / "site", "roost-strategy-coin", {"roost_coin": source},
                             {"strategy.coin-flip": "roost_coin"})
    values = complete(fleet, "bash", "roost pick --strategy ", PYTHONPATH=str(site))
    assert {"sticky", "least-used", "round-robin", "weighted", "first-healthy", "lowest-overage"} <= set(values)
    assert "coin-flip" in values
    assert complete(fleet, "zsh", "roost pick --strategy co", PYTHONPATH=str(site)) == ["coin-flip"]


def _shell_env(env, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(Path(ROOST).parent), os.environ["PATH"]])
    return env.env(PATH=path, **extra)


def test_bash_script_sourced_in_real_bash(fleet):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = ('eval "$(roost --show-completion)"\n'
              "COMP_WORDS=(roost remove b); COMP_CWORD=2\n_roost_completion roost\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n'
              "COMP_WORDS=(roost snap); COMP_CWORD=1\nCOMPREPLY=()\n_roost_completion roost\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    proc = subprocess.run(["bash", "--norc", "-c", script], env=_shell_env(fleet), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["beta", "snapshot"]


def test_fish_script_sourced_in_real_fish(fleet):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed (.ci/run installs it where it can)")
    script = "roost --show-completion | source\ncomplete -C 'roost remove b'\ncomplete -C 'roost pick --av'\n"
    proc = subprocess.run(["fish", "--no-config", "-c", script], env=_shell_env(fleet), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    assert lines == ["beta", "--avoid"]


def test_install_completion_bash_is_idempotent_and_loads(fleet):
    env = _shell_env(fleet, SHELL="/bin/bash")
    rc_file = fleet.home / ".bashrc"
    rc_file.write_text("export KEEP=me\n")
    for _ in range(2):
        proc = subprocess.run([ROOST, "--install-completion"], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert "Installed bash completion" in proc.stderr and "already sourced" in proc.stderr
    text = rc_file.read_text()
    assert text.startswith("export KEEP=me\n") and text.count("completion.bash") == 2  # one guarded line
    assert (fleet.config / "completion.bash").is_file()
    if shutil.which("bash"):
        check = subprocess.run(["bash", "-c", f"source {rc_file}; complete -p roost"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert "_roost_completion roost" in check.stdout, check.stderr


def test_install_completion_fish_zsh_pwsh_json(fleet):
    env = _shell_env(fleet)
    fish = subprocess.run([ROOST, "--json", "--install-completion"], env={**env, "SHELL": "/usr/bin/fish"},
                          capture_output=True, text=True, timeout=60)
    import json

    data = json.loads(fish.stdout)["data"]
    target = Path(data["script_path"])
    assert target == fleet.root / "xdg" / "fish" / "completions" / "roost.fish" and data["rc_file"] is None
    if shutil.which("fish"):
        proc = subprocess.run(["fish", "-c", "complete -C 'roost remove a'"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.stdout.split("\t")[0].strip() == "alpha", proc.stderr
    zsh = subprocess.run([ROOST, "--install-completion"], env={**env, "SHELL": "/bin/zsh"}, capture_output=True,
                         text=True, timeout=60)
    assert zsh.returncode == 0 and "completion.zsh" in (fleet.home / ".zshrc").read_text()
    if shutil.which("zsh"):
        proc = subprocess.run(["zsh", "-i", "-c", "whence -w _roost_completion"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert "_roost_completion: function" in proc.stdout, proc.stderr
    pwsh = subprocess.run([ROOST, "--install-completion"], env={**env, "SHELL": "pwsh"}, capture_output=True,
                          text=True, timeout=60)
    profile = fleet.root / "xdg" / "powershell" / "Microsoft.PowerShell_profile.ps1"
    assert pwsh.returncode == 0 and "completion.ps1" in profile.read_text()
    assert "Register-ArgumentCompleter" in (fleet.config / "completion.ps1").read_text()


def test_show_completion_falls_back_to_bash_when_the_shell_is_unknown(roost_env):
    # The parent is pytest's python; $SHELL is sh, then unset (a test harness in a container).
    bash = roost_env.run("completion", "bash").stdout
    for env in (roost_env.env(SHELL="/bin/sh"), {k: v for k, v in roost_env.env().items() if k != "SHELL"}):
        for argv in (["--show-completion"], ["completion"]):
            proc = roost_env.run(*argv, env=env)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout == bash and "_roost_completion" in proc.stdout  # stdout is only the script
            notes = proc.stderr.splitlines()
            assert len(notes) == 1 and notes[0].startswith("roost: note: could not detect your shell")
            assert "bash" in notes[0] and "--shell" in notes[0]
    rc, out = roost_env.run_json("--show-completion", env=roost_env.env(SHELL="/bin/sh"))
    assert rc == 0 and out["data"]["shell"] == "bash"
    proc = roost_env.run("--show-completion", SHELL="/usr/bin/zsh")
    assert proc.returncode == 0 and "compdef _roost_completion roost" in proc.stdout and proc.stderr == ""
    proc = roost_env.run("completion", "tcsh", SHELL="/bin/sh")  # an explicit unsupported shell stays an error
    assert proc.returncode == 4 and "tcsh" in proc.stderr and proc.stdout == ""


def test_install_completion_refuses_to_guess_the_shell(roost_env):
    for argv in (["--install-completion"], ["completion", "--install"]):
        proc = roost_env.run(*argv, SHELL="/bin/sh")
        assert proc.returncode == 4 and "cannot detect your shell" in proc.stderr, proc.stderr
        assert "roost completion SHELL --install" in proc.stderr
    assert not (roost_env.home / ".bashrc").exists() and not list(roost_env.root.rglob("completion.*"))
