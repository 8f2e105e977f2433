"""The one settings resolver: declared settings (core and plugins), precedence, team plugin tables,
validation naming setting + plugin + source, NaN/inf refused, and the TOML ``roost config`` prints."""

from __future__ import annotations

import math
import tomllib

import pytest

from roost_core.config import Settings
from roost_core.errors import ValidationError
from roost_core.setting import Setting
from roost_plugins.settings_views.tomlout import document, value
from roost_plugins.strategies.weighted import DEFAULT_WEIGHTS, parse_weights, weighted_score

PLUGIN = [
    Setting(3600.0, name="horizon", type="duration", section="plugins.far", env="CLAUDE_LB_FAR_HORIZON",
            plugin="far", doc="How far."),
    Setting(dict(DEFAULT_WEIGHTS), parse_weights, name="weights", type="table", section="plugins.weighted",
            plugin="weighted"),
    Setting("https://api.anthropic.com", name="api_base", section="endpoints", env="CLAUDE_LB_API_BASE",
            plugin="anthropic"),
    Setting(None, name="url", section="state.redis", env="CLAUDE_LB_REDIS_URL", plugin="redis", secret=True),
    Setting(2, name="level", type="int", section="plugins.far", plugin="far", choices=(1, 2, 3)),
]


def load(tmp_path, toml: str, env: dict | None = None, team: str | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    settings = Settings.load(path, env or {}, team)
    settings.declared = lambda plugin=None: [s for s in PLUGIN if plugin is None or s.plugin == plugin]
    return settings


CONFIG = """
strategy = "least-used"
timeout = "3s"
[endpoints]
api_base = "https://file"
[plugins.far]
horizon = "2h"
extra = "raw"
[plugins.weighted]
weights = { weekly = 2.0 }
[teams.ops]
strategy = "weighted"
timeout = 9
[teams.ops.far]
horizon = "30m"
[teams.ops.weighted]
weights = { session = 3 }
[teams.ops.endpoints]
api_base = "https://team"
[teams.ops.state.redis]
url = "redis://team"
"""


def test_precedence_flag_env_team_file_default(tmp_path):
    plain = load(tmp_path, CONFIG)
    assert plain.resolve("strategy").origin == "file" and plain.get("strategy") == "least-used"
    assert plain.resolve("stickiness").origin == "default" and plain.get("stickiness") == 300.0
    assert plain.get("plugins.far.horizon") == 7200.0 and plain.resolve("plugins.far.horizon").origin == "file"
    ops = load(tmp_path, CONFIG, {"CLAUDE_LB_FAR_HORIZON": "90"}, team="ops")
    assert (ops.get("strategy"), ops.resolve("strategy").describe()) == ("weighted", "team ops")
    assert ops.get("timeout") == 9.0
    far = ops.resolve("plugins.far.horizon")
    assert (far.value, far.origin, far.source, far.describe()) == (90.0, "env", "CLAUDE_LB_FAR_HORIZON",
                                                                    "env CLAUDE_LB_FAR_HORIZON")
    flagged = ops.resolve("strategy", "first-healthy")
    assert (flagged.value, flagged.origin) == ("first-healthy", "flag")
    assert list(ops.get("avoid", ())) == [] and ops.resolve("avoid", ()).origin == "default"  # empty flag: none


def test_team_overrides_plugin_tables(tmp_path):
    ops = load(tmp_path, CONFIG, team="ops")
    assert ops.get("plugins.weighted.weights") == {"weekly": 1.0, "session": 3.0}  # the team's table wins whole
    assert ops.get("plugins.far.horizon") == 1800.0
    assert ops.get("api_base") == "https://team" and ops.origin("api_base") == "team ops"  # bare name: unique
    assert ops.get("state.redis.url") == "redis://team"
    assert ops.table("state.redis") == {"url": "redis://team"}
    config = ops.plugin_config("far")  # undeclared keys raw, declared ones resolved, team over file
    assert config == {"horizon": 1800.0, "extra": "raw", "level": 2}
    assert load(tmp_path, CONFIG).plugin_config("weighted") == {"weights": {"weekly": 2.0, "session": 1.0}}


@pytest.mark.parametrize("toml,env,team,origin,source", [
    ("[plugins.far]\nhorizon = \"soon\"\n", {}, None, "file", "file (config.toml [plugins.far] horizon)"),
    ("[teams.t.far]\nhorizon = \"soon\"\n", {}, "t", "team", "team t (config.toml [teams.t.far] horizon)"),
    ("", {"CLAUDE_LB_FAR_HORIZON": "soon"}, None, "env", "env CLAUDE_LB_FAR_HORIZON"),
])
def test_bad_value_names_setting_plugin_and_source(tmp_path, toml, env, team, origin, source):
    settings = load(tmp_path, toml + "[teams.t]\n", env, team)
    with pytest.raises(ValidationError) as info:
        settings.get("plugins.far.horizon")
    assert info.value.exit_code == 4
    assert info.value.message.startswith(f"bad value for plugins.far.horizon (plugin far) from {source}: 'soon'")
    assert info.value.details == {"key": "plugins.far.horizon", "plugin": "far", "origin": origin,
                                  "source": {"file": None, "team": "t", "env": "CLAUDE_LB_FAR_HORIZON"}[origin]}
    with pytest.raises(ValidationError, match=r"plugin far\) from flag"):
        settings.get("plugins.far.horizon", "later")


@pytest.mark.parametrize("toml", ["timeout = nan", "timeout = inf", "probe_budget = inf", "warn_at = nan",
                                  "max_cost = -inf", "stickiness = 1e400",
                                  "[plugins.weighted]\nweights = { weekly = nan }",
                                  "[plugins.weighted]\nweights = { session = inf }"])
def test_nan_and_infinity_are_refused_from_the_file(tmp_path, toml):
    settings = load(tmp_path, toml + "\n")
    key = {"[plugins.weighted]": "plugins.weighted.weights"}.get(toml.split("\n")[0], toml.split(" ")[0])
    with pytest.raises(ValidationError) as info:
        settings.get(key)
    assert info.value.details["origin"] == "file"


@pytest.mark.parametrize("var,key", [("CLAUDE_LB_TIMEOUT", "timeout"), ("CLAUDE_LB_PROBE_BUDGET", "probe_budget"),
                                     ("CLAUDE_LB_STICKINESS", "stickiness"),
                                     ("CLAUDE_LB_FAR_HORIZON", "plugins.far.horizon")])
@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "NaN"])
def test_nan_and_infinity_are_refused_from_the_environment(tmp_path, var, key, text):
    with pytest.raises(ValidationError) as info:
        load(tmp_path, "", {var: text}).get(key)
    assert info.value.details["source"] == var


def test_types_choices_and_bounds():
    level = PLUGIN[-1]
    assert level.parse("3") == 3
    for bad in ("4", "x", 2.5, True):
        with pytest.raises(ValueError):
            level.parse(bad)
    flag = Setting(False, name="on", type="bool")
    assert flag.parse("yes") is True and flag.parse("off") is False
    with pytest.raises(ValueError):
        flag.parse("maybe")
    bounded = Setting(1, name="n", type="int", minimum=1, maximum=5)
    with pytest.raises(ValueError, match="at most 5"):
        bounded.parse(6)
    assert Setting({}, name="t", type="table").parse('{"a": 1}') == {"a": 1}  # a table from the environment
    assert Setting(name="x", section="plugins.p.q").team_path == ("p", "q", "x")
    assert Setting(name="x", section="state.redis").key == "state.redis.x"


def test_unknown_key_is_validation_and_a_key_error(tmp_path):
    with pytest.raises(KeyError):
        load(tmp_path, "").get("no_such_setting")
    with pytest.raises(ValidationError, match="no loaded plugin declares the setting 'no_such_setting'") as info:
        load(tmp_path, "").get("no_such_setting")
    assert info.value.exit_code == 4


def test_settings_toml_round_trips():
    rows = [(None, "strategy", "sticky", "default"), (None, "warn_at", None, "default"),
            (None, "avoid", [], "file"), ("endpoints", "api_base", 'https://x/"q"\\\x7f\n', "env CLAUDE_LB_API_BASE"),
            ("plugins.weighted", "weights", {"weekly": 1.0, "odd key": 2}, "team ops"),
            ("plugins.far-sighted", "horizon", 1.5, "default (plugin far-sighted)"),
            (None, "require_ok", True, "default")]
    text = document(rows, ["header"])
    parsed = tomllib.loads(text)
    assert parsed["strategy"] == "sticky" and "warn_at" not in parsed and parsed["require_ok"] is True
    assert parsed["endpoints"]["api_base"] == 'https://x/"q"\\\x7f\n'
    assert parsed["plugins"]["weighted"]["weights"] == {"weekly": 1.0, "odd key": 2}
    assert parsed["plugins"]["far-sighted"]["horizon"] == 1.5
    assert "# warn_at = (unset)  # default" in text and "None" not in text and "()" not in text
    with pytest.raises(ValueError):
        value(math.nan)


def test_weighted_weights_scale_the_terms():
    from roost_core.records import Health, HealthRecord

    record = HealthRecord("a", Health.OK, session_pct=9.0, weekly_pct=50.0)
    assert weighted_score(record) == 5.0  # the plain formula: 50 / (9 + 1)
    assert weighted_score(record, parse_weights({"weekly": 2, "session": 0})) == 100.0
    for bad in ({"monthly": 1}, {"weekly": -1}, {"weekly": math.inf}, {"session": "x"}, [1]):
        with pytest.raises(ValueError):
            parse_weights(bad)


def test_settings_toml_holds_any_string():
    """Past the BMP (TOML has no surrogate pairs), control characters, quotes and backslashes, a lone
    surrogate (an undecodable byte of the environment) and odd comments: the text still parses."""
    odd = 'b\U0001f426 ünï "q" \\ \x00\x1f\x7f\u2028'
    rows = [(None, "strategy", odd, "team we\nird"), ("plugins.odd key", "x", [odd, {"k\U0001f426": odd}], "file"),
            (None, "user_agent", "bad\udcffbyte", "env CLAUDE_LB_USER_AGENT")]
    text = document(rows, ["config file: /tmp/a\nb/\U0001f426"])
    assert text.isascii()
    parsed = tomllib.loads(text)
    assert parsed["strategy"] == odd
    assert parsed["plugins"]["odd key"]["x"] == [odd, {"k\U0001f426": odd}]
    assert parsed["user_agent"] == "bad\ufffdbyte"


@pytest.mark.parametrize("toml,env", [('[state.redis]\nurl = ["rediss://u:hunter2secret@h/0"]\n', {}),
                                      ('[state.redis]\nurl = 12345678901234\n', {}),
                                      ("", {"CLAUDE_LB_REDIS_URL": "rediss://u:hunter2secret@h/0 \x00"})])
def test_a_bad_secret_is_not_echoed(tmp_path, toml, env):
    secret = Setting(None, lambda raw: raw if isinstance(raw, str) and "\x00" not in raw else int("x"), name="url",
                     section="state.redis", env="CLAUDE_LB_REDIS_URL", plugin="redis", secret=True)
    settings = load(tmp_path, toml, env)
    with pytest.raises(ValidationError) as info:
        settings.get(secret)
    message = info.value.message
    assert message.startswith("bad value for state.redis.url (plugin redis) from ")
    assert "hunter2secret" not in message and "12345678901234" not in message and "hunter2" not in str(info.value.details)


@pytest.mark.parametrize("toml,key", [("fallback = 1\n", "fallback"), ("strategy = true\n", "strategy"),
                                      ("[endpoints]\napi_base = 3.5\n", "endpoints.api_base"),
                                      ("probe_budget = [1]\n", "probe_budget")])
def test_a_value_of_the_wrong_toml_type_is_refused(tmp_path, toml, key):
    with pytest.raises(ValidationError, match=r"\((expected a string|expected a whole number|expected a number)"):
        load(tmp_path, toml).get(key)


def test_a_flag_typed_by_its_setting(tmp_path):
    """SettingType: a command's flag parsed by the declaration (the core's or a plugin's), a bad value
    refused naming setting, plugin and the flag."""
    import click
    from click.testing import CliRunner

    from roost_core.cli.common import SettingType
    from roost_core.context import RoostContext

    @click.command()
    @click.option("--horizon", type=SettingType("plugins.far.horizon"))
    @click.option("--stickiness", type=SettingType("stickiness"))
    def command(horizon, stickiness):
        click.echo(f"{horizon} {stickiness}")

    rctx = RoostContext(env={})
    rctx.__dict__["settings"] = load(tmp_path, "")
    assert CliRunner().invoke(command, ["--horizon", "2h", "--stickiness", "1m"], obj=rctx).output == "7200.0 60.0\n"
    for args, said in [(["--horizon", "soon"], "plugins.far.horizon (plugin far) from flag --horizon: 'soon'"),
                       (["--stickiness", "inf"], "stickiness (plugin core) from flag --stickiness: 'inf'")]:
        error = CliRunner().invoke(command, args, obj=rctx).exception
        assert isinstance(error, ValidationError) and error.message.startswith(f"bad value for {said}"), error
        assert error.details["origin"] == "flag" and error.details["source"] == args[0]


def test_the_probe_budget_says_the_window_the_engine_counts():
    from roost_core.config import SETTINGS
    from roost_core.healthcache import BUDGET_WINDOW_S

    assert BUDGET_WINDOW_S == 3600.0 and "per rolling hour" in SETTINGS["probe_budget"].doc
    assert SETTINGS["probe_budget"].minimum == 1  # no "0 disables": a budget is always kept


def test_a_config_file_with_a_utf8_bom_is_read(tmp_path):
    """Windows editors (Notepad) start a UTF-8 file with a BOM; tomllib alone calls it an invalid statement."""
    from roost_core.config import load_config_file

    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbfstrategy = "weighted"\n')
    assert load_config_file(path) == {"strategy": "weighted"}
    path.write_bytes(b'\xef\xbb\xbf\xef\xbb\xbfstrategy = "weighted"\n')  # a second one is text, not a BOM
    with pytest.raises(ValidationError, match="malformed config file"):
        load_config_file(path)
