"""Shell detection, the shellinit wrapper text, and completion install plans (no shells run here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roost_core.cli import cli
from roost_core.cli.shell_complete import PowerShellComplete, register_shells
from roost_core.errors import ValidationError
from roost_plugins.shell.completion import RC_MARKER, _append_rc_line, completion_script, install_plan
from roost_plugins.shell.detect import detect_shell, normalize_shell, parent_process_name, shell_for_printing
from roost_plugins.shell.shellinit import wrapper_script


@pytest.mark.parametrize("name,expected", [
    ("bash", "bash"), ("-bash", "bash"), ("/usr/bin/zsh", "zsh"), ("-zsh", "zsh"), ("fish", "fish"),
    ("pwsh", "pwsh"), ("pwsh.exe", "pwsh"), ("powershell.exe", "pwsh"), ("PowerShell", "pwsh"),
    ("python3", None), ("sh", None), ("", None), (None, None),
])
def test_normalize_shell(name, expected):
    assert normalize_shell(name) == expected


def test_detect_prefers_parent_then_shell_variable():
    assert detect_shell({"SHELL": "/bin/zsh"}, parent="fish") == "fish"
    assert detect_shell({"SHELL": "/bin/zsh"}, parent="python3") == "zsh"
    assert detect_shell({"SHELL": "/usr/local/bin/fish"}, parent="") == "fish"
    assert detect_shell({}, parent="make") is None or os.name == "nt"


def test_printing_falls_back_to_bash_with_a_note():
    assert shell_for_printing({"SHELL": "/bin/zsh"}, parent="python3") == ("zsh", None)
    if os.name != "nt":  # Windows without $SHELL detects pwsh
        shell, note = shell_for_printing({}, parent="python3")
        assert shell == "bash" and "could not detect your shell" in note and "\n" not in note


def test_parent_process_name_reads_proc_comm(tmp_path):
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "comm").write_text("zsh\n")
    assert parent_process_name(4242, proc=tmp_path) == "zsh"
    assert parent_process_name(4243, proc=tmp_path) is None


@pytest.mark.parametrize("shell,lookup", [("bash", "type -P claude"), ("zsh", "whence -p claude")])
def test_posix_wrapper_resolves_a_file_never_the_function(shell, lookup):
    script = wrapper_script(shell, "/opt/my roost/bin/roost")
    assert "function claude {" in script and lookup in script
    assert "command '/opt/my roost/bin/roost' exec --auto-refresh -- \"$__roost_claude\" \"$@\"" in script
    assert "return 127" in script


def test_fish_and_pwsh_quote_the_roost_path():
    fish = wrapper_script("fish", "/tmp/it's/roost")
    assert r"command '/tmp/it\'s/roost' exec --auto-refresh -- $__roost_claude[1] $argv" in fish
    assert "command -s claude" in fish
    pwsh = wrapper_script("pwsh", "C:/it's/roost.exe")
    assert "$__roostExe = 'C:/it''s/roost.exe'" in pwsh
    assert "Get-Command -Name claude -CommandType Application" in pwsh and "@args" in pwsh
    bare = wrapper_script("pwsh", "roost")
    assert "Get-Command -Name 'roost' -CommandType Application" in bare


def test_wrapper_rejects_unknown_shell():
    with pytest.raises(ValidationError):
        wrapper_script("tcsh", "roost")


@pytest.mark.parametrize("shell,marker", [("bash", "complete -o nosort -F _roost_completion roost"),
                                          ("zsh", "compdef _roost_completion roost"),
                                          ("fish", "complete --no-files --command roost"),
                                          ("pwsh", "Register-ArgumentCompleter -Native -CommandName roost")])
def test_completion_scripts(shell, marker):
    script = completion_script(cli, shell)
    assert marker in script and "_ROOST_COMPLETE" in script


def test_powershell_protocol_splits_line_up_to_cursor(monkeypatch):
    register_shells()
    comp = PowerShellComplete(cli, {}, "roost", "_ROOST_COMPLETE")
    monkeypatch.setenv("COMP_WORDS", "roost pick --avoid a")
    assert comp.get_completion_args() == (["pick", "--avoid"], "a")
    monkeypatch.setenv("COMP_WORDS", "roost pick --avoid ")
    assert comp.get_completion_args() == (["pick", "--avoid"], "")
    monkeypatch.setenv("COMP_WORDS", "roost")
    assert comp.get_completion_args() == ([], "")
    from click.shell_completion import CompletionItem

    assert comp.format_completion(CompletionItem("show", help="Detail\nfor one")) == "plain\tshow\tDetail for one"


def test_install_plans(tmp_path):
    home, config = tmp_path / "home", tmp_path / "cfg"
    bash = install_plan("bash", {}, home, config)
    assert bash.rc_file == home / ".bashrc" and bash.script_path == config / "completion.bash"
    assert bash.rc_line == f"[ -f '{config}/completion.bash' ] && . '{config}/completion.bash'"
    zsh = install_plan("zsh", {"ZDOTDIR": str(tmp_path / "zd")}, home, config)
    assert zsh.rc_file == tmp_path / "zd" / ".zshrc" and "compinit" in zsh.rc_line
    fish = install_plan("fish", {"XDG_CONFIG_HOME": str(tmp_path / "x")}, home, config)
    assert fish.script_path == tmp_path / "x" / "fish" / "completions" / "roost.fish" and fish.rc_file is None
    pwsh = install_plan("pwsh", {}, home, config)
    assert pwsh.rc_file.name == "Microsoft.PowerShell_profile.ps1" and "Test-Path" in pwsh.rc_line


def test_rc_line_is_appended_once_and_keeps_existing_content(tmp_path):
    rc = tmp_path / ".bashrc"
    rc.write_text("alias ll='ls -l'")  # no trailing newline
    assert _append_rc_line(rc, ". /x/completion.bash") is True
    assert _append_rc_line(rc, ". /x/completion.bash") is False
    text = rc.read_text()
    assert text.startswith("alias ll='ls -l'\n") and text.count(". /x/completion.bash") == 1
    assert RC_MARKER in text
    fresh = tmp_path / "new" / ".zshrc"
    assert _append_rc_line(fresh, "source x") and fresh.read_text().count("source x") == 1


def test_parent_comm_of_this_process_is_readable():
    if not Path("/proc/self/comm").exists():
        pytest.skip("no /proc here")
    assert parent_process_name() is not None
