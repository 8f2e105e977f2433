"""Per-name settings (``profiles.*``) and marker files in the one settings resolver."""

from __future__ import annotations

import tomllib

from roost_core.config import Settings
from roost_core.setting import Setting
from roost_plugins.settings_views.tomlout import document

ISOLATED = Setting(False, name="isolated", type="bool", section="profiles.*", plugin="profiles")
FLAG = Setting(False, name="usage_log", type="bool", env="CLAUDE_LB_USAGE_LOG", marker="usage-log.enabled")


def test_an_instance_is_a_path_of_its_own_dots_and_all():
    assert ISOLATED.per_name and ISOLATED.key == "profiles.*.isolated"
    dotted = ISOLATED.named("a.b")
    assert not dotted.per_name and dotted.table == ("profiles", "a.b") and dotted.key == 'profiles."a.b".isolated'
    assert dotted.team_path == ("profiles", "a.b", "isolated")
    settings = Settings({"profiles": {"a.b": {"isolated": True}, "share": ["x"]},
                         "teams": {"ops": {"profiles": {"c": {"isolated": True}}}}}, team="ops")
    assert settings.resolve(dotted).value is True and settings.resolve(ISOLATED).origin == "default"
    assert settings.names(ISOLATED) == ["a.b", "c"]
    assert settings.resolve(ISOLATED.named("c")).describe() == "team ops"
    assert settings.resolve(ISOLATED.named("share")).value is False  # a key of [profiles], not a profile's table


def test_a_marker_is_the_file_layer_under_env_and_team(tmp_path):
    path = tmp_path / "config.toml"
    (tmp_path / "usage-log.enabled").write_text("")
    resolved = Settings({"usage_log": False}, {}, None, path).resolve(FLAG)
    assert (resolved.value, resolved.origin, resolved.source) == (True, "file", str(tmp_path / "usage-log.enabled"))
    assert resolved.describe() == f"file (marker {tmp_path / 'usage-log.enabled'})"
    assert Settings({}, {"CLAUDE_LB_USAGE_LOG": "0"}, None, path).resolve(FLAG).value is False
    team = Settings({"teams": {"t": {"usage_log": False}}}, {}, "t", path).resolve(FLAG)
    assert (team.value, team.origin) == (False, "team")
    assert Settings({}, {}, None, None).resolve(FLAG).origin == "default"  # no config dir known: no marker


def test_document_renders_per_name_rows_as_valid_toml():
    rows = [(("profiles",), "share", ["CLAUDE.md"], "file"), (("profiles", "*"), "isolated", False, "default"),
            (("profiles", "a.b"), "isolated", True, "file"), (None, "usage_log", True, "file (marker /x)")]
    text = document(rows, ["header"])
    assert "# [profiles.*] isolated = false  # default" in text and '[profiles."a.b"]' in text
    assert tomllib.loads(text) == {"usage_log": True, "profiles": {"share": ["CLAUDE.md"], "a.b": {"isolated": True}}}
