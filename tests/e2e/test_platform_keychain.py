"""The macOS keychain store end to end: the real ``roost`` with CLAUDE_LB_PLATFORM=darwin and a fake
``security`` (tests/fakes/security: a JSON file as its keychain). docs/platforms.md."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from roost_core.credstore import config_dir_string, keychain_service

FAKE_SECURITY = Path(__file__).resolve().parents[1] / "fakes" / "security"
USER = "nanako"


class Keychain:
    """The fake's keychain file and call log, as a test sees them."""

    def __init__(self, root: Path):
        self.db = root / "keychain.json"
        self.log = root / "security.log"
        self.db.write_text(json.dumps({"mode": "ok", "items": {}}))

    def _load(self) -> dict:
        return json.loads(self.db.read_text())

    def set_mode(self, mode: str) -> None:
        doc = self._load()
        doc["mode"] = mode
        self.db.write_text(json.dumps(doc))

    def put(self, service: str, document: dict) -> None:
        doc = self._load()
        doc["items"][f"{service}|{USER}"] = json.dumps(document).encode().hex()
        self.db.write_text(json.dumps(doc))

    def get(self, service: str) -> dict | None:
        value = self._load()["items"].get(f"{service}|{USER}")
        return json.loads(bytes.fromhex(value)) if value else None

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def violations(self) -> list[dict]:
        return [c for c in self.calls() if "violation" in c]


@pytest.fixture
def mac(world, tmp_path):
    keychain = Keychain(tmp_path)
    world.extra.update({"CLAUDE_LB_PLATFORM": "darwin", "CLAUDE_LB_SECURITY_BIN": str(FAKE_SECURITY),
                        "CLAUDE_LB_SECURITY_TIMEOUT": "15", "FAKE_SECURITY_DB": str(keychain.db),
                        "FAKE_SECURITY_LOG": str(keychain.log), "USER": USER,
                        "FAKE_SECURITY_WATCH": str(world.profiles)})
    world.keychain = keychain
    yield world
    assert keychain.violations() == [], keychain.violations()
    for call in keychain.calls():
        argv = call.get("argv") or call.get("interactive") or []
        if argv and argv[0] != "show-keychain-info":
            assert "-a" in argv, call  # always -a: without it security matches any account
        assert not any(len(a) > 40 and all(c in "0123456789abcdef" for c in a) for a in call.get("argv", [])), call


def _account(world, name: str, **kwargs) -> dict:
    world.make_account(name, **kwargs)
    return world.credentials(name)["claudeAiOauth"]


def service_of(world, name: str) -> str:
    return keychain_service(config_dir_string(world.profiles / name))


def test_refresh_moves_the_login_into_the_keychain_under_claudes_three_locks(mac):
    _account(mac, "a", extra={"other": [1, 2]})
    rc, out = mac.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    item = mac.keychain.get(service_of(mac, "a"))
    assert item["claudeAiOauth"]["refreshToken"] == mac.fake.live_refresh_token("a")
    assert item["other"] == [1, 2] and item["mcpOAuth"] == {"keep": "me"}  # every key kept
    directory = mac.profiles / "a"
    assert not (directory / ".credentials.json").exists()  # claude's rule: the file goes after a keychain write
    assert (directory / ".roost-keychain").read_text().strip() == service_of(mac, "a")
    adds = [c for c in mac.keychain.calls() if c.get("interactive", [""])[0] == "add-generic-password"]
    assert len(adds) == 1 and "-T" not in adds[0]["interactive"] and "-U" in adds[0]["interactive"]
    assert adds[0]["locks"] == {".oauth_refresh.lock": True, "legacy": True, ".storage-write.lock": True}
    assert mac.fake.token_posts == 1
    rc, listed = mac.run_json("list")
    assert rc == 0 and listed["data"] == ["a"]  # still discovered without the file


def test_a_second_refresh_reads_and_rotates_the_keychain_copy(mac):
    _account(mac, "a")
    assert mac.run_json("refresh", "a")[0] == 0
    first = mac.keychain.get(service_of(mac, "a"))["claudeAiOauth"]["refreshToken"]
    rc, out = mac.run_json("refresh", "a", env=mac.env(CLAUDE_LB_REFRESH_MIN_INTERVAL="0"))
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    second = mac.keychain.get(service_of(mac, "a"))["claudeAiOauth"]["refreshToken"]
    assert second != first and second == mac.fake.live_refresh_token("a") and mac.fake.reuse_count == 0


def test_a_refused_keychain_write_falls_back_to_the_file_and_drops_the_older_item(mac):
    _account(mac, "a")
    mac.keychain.put(service_of(mac, "a"), mac.credentials("a"))  # claude's copy: the one it reads first
    mac.keychain.set_mode("refuse")  # the keychain answers, but refuses the new item
    rc, out = mac.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    assert mac.credentials("a")["claudeAiOauth"]["refreshToken"] == mac.fake.live_refresh_token("a")
    mac.keychain.set_mode("ok")
    assert mac.keychain.get(service_of(mac, "a")) is None  # the older item would win claude's reads
    assert not (mac.profiles / "a" / ".roost-keychain").exists()


def test_a_login_over_claudes_line_limit_is_never_sent_and_goes_to_the_file(mac):
    _account(mac, "a", extra={"bulk": "x" * 2500})  # hex doubles it: over 4,032 bytes
    rc, out = mac.run_json("refresh", "a")
    assert rc == 0 and out["data"]["status"] == "refreshed", out
    assert mac.credentials("a")["claudeAiOauth"]["refreshToken"] == mac.fake.live_refresh_token("a")
    assert mac.keychain.get(service_of(mac, "a")) is None
    assert not any(c.get("interactive") for c in mac.keychain.calls())  # refused before security saw it


@pytest.mark.parametrize("mode", ["locked", "daemon", "hang"])
def test_an_unavailable_keychain_skips_the_refresh_with_exit_9_and_writes_nothing(mac, mode):
    _account(mac, "a", expires_in=-60)
    before = (mac.profiles / "a" / ".credentials.json").read_bytes()
    mac.keychain.set_mode(mode)
    started = time.monotonic()
    # 15 s elsewhere: the fake security is a Python script, slow to start on a loaded machine.
    proc = mac.run("refresh", "a", CLAUDE_LB_SECURITY_TIMEOUT="2")
    assert proc.returncode == 9, proc.stderr
    assert "keychain is unavailable" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30
    assert mac.fake.token_posts == 0  # the token was never spent
    assert (mac.profiles / "a" / ".credentials.json").read_bytes() == before
    mac.keychain.set_mode("ok")
    assert mac.keychain.get(service_of(mac, "a")) is None  # no second copy anywhere


def test_a_locked_keychain_costs_only_the_profiles_that_live_in_it(mac):
    """status, pick and exec go on with every readable profile; the keychain-only one is unknown,
    with the reason; its refresh is still skipped with exit 9."""
    _account(mac, "file")
    _account(mac, "kc")
    assert mac.run_json("refresh", "kc")[0] == 0  # its login now lives in the keychain only
    assert not (mac.profiles / "kc" / ".credentials.json").exists()
    mac.keychain.set_mode("locked")
    rc, out = mac.run_json("status", "--no-cache")
    rows = {r["name"]: r for r in out["data"]}
    assert rc == 0 and rows["file"]["health"] == "ok", out
    assert rows["kc"]["health"] == "unknown" and "keychain is unavailable" in rows["kc"]["error"]
    rc, out = mac.run_json("pick")
    assert rc == 0 and out["data"]["name"] == "file", out
    proc = mac.run("exec", "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert mac.run("refresh", "kc").returncode == 9


def test_add_imports_claudes_default_keychain_item_when_the_file_is_missing(mac):
    login = {"claudeAiOauth": {"accessToken": "sk-ant-oat01-" + "a" * 40, "refreshToken": "sk-ant-ort01-" + "r" * 40,
                               "expiresAt": int((time.time() + 3600) * 1000), "scopes": ["user:inference",
                                                                                          "user:profile"],
                               "subscriptionType": "max"}}
    mac.keychain.put("Claude Code-credentials", login)
    rc, out = mac.run_json("add", "work", "--isolated")
    assert rc == 0, out
    assert out["data"]["source"] == "keychain item 'Claude Code-credentials'"
    assert mac.keychain.get(service_of(mac, "work")) == login
    assert not (mac.profiles / "work" / ".credentials.json").exists()
    rc, listed = mac.run_json("list")
    assert listed["data"] == ["work"]
    proc = mac.run("add", "again", "--isolated")
    assert proc.returncode == 0, proc.stderr


def test_add_with_neither_file_nor_default_item_is_not_found(mac):
    proc = mac.run("add", "work")
    assert proc.returncode == 3 and "no credentials file" in proc.stderr


def test_doctor_names_the_live_store_and_a_stray_second_copy_without_reading_secrets(mac):
    _account(mac, "a")
    _account(mac, "b")
    assert mac.run_json("refresh", "a")[0] == 0
    (mac.profiles / "a" / ".credentials.json").write_text(json.dumps(mac.keychain.get(service_of(mac, "a"))))
    before = len(mac.keychain.calls())
    rc, out = mac.run_json("doctor", "--skip-network")
    checks = {c["name"]: c for c in out["data"]}
    a, b = checks["credential-store:a"], checks["credential-store:b"]
    assert a["level"] == "warn" and "stray second copy" in a["message"]
    assert a["details"]["live"] == "keychain" and a["details"]["stray"] == "file"
    assert b["level"] == "ok" and b["details"]["live"] == "file" and b["details"]["keychain"] == "absent"
    doctor_calls = mac.keychain.calls()[before:]
    assert doctor_calls and not any("-w" in (c.get("argv") or []) for c in doctor_calls)


def test_doctor_says_when_the_keychain_is_unavailable(mac):
    _account(mac, "a")
    mac.keychain.set_mode("locked")
    rc, out = mac.run_json("doctor", "--skip-network")
    check = {c["name"]: c for c in out["data"]}["credential-store:a"]
    assert check["level"] == "warn" and "unavailable" in check["message"]


def test_exec_exports_one_exact_string_as_both_variables(mac, tmp_path):
    _account(mac, "a")
    trailing = str(mac.profiles) + os.sep  # the tree named with a trailing separator
    proc = mac.run("exec", "--no-lease", "--", "sh", "-c",
                   'printf "%s\\n%s\\n" "$CLAUDE_CONFIG_DIR" "$CLAUDE_SECURESTORAGE_CONFIG_DIR"',
                   env=mac.env(CLAUDE_LB_PROFILES_DIR=trailing))
    assert proc.returncode == 0, proc.stderr
    config_dir, store_dir = proc.stdout.splitlines()
    assert config_dir == store_dir == config_dir_string(mac.profiles / "a")
    assert not config_dir.endswith(os.sep)


def test_rename_moves_the_keychain_login_to_the_new_directorys_item(mac):
    _account(mac, "a")
    assert mac.run_json("refresh", "a")[0] == 0
    login = mac.keychain.get(service_of(mac, "a"))
    rc, out = mac.run_json("rename", "a", "b")
    assert rc == 0, out
    assert mac.keychain.get(service_of(mac, "b")) == login  # claude under the new directory finds it
    assert mac.keychain.get(service_of(mac, "a")) is None  # no second copy left behind
    rc, listed = mac.run_json("list")
    assert listed["data"] == ["b"]
    rc, out = mac.run_json("refresh", "b", env=mac.env(CLAUDE_LB_REFRESH_MIN_INTERVAL="0"))
    assert rc == 0 and out["data"]["status"] == "refreshed", out
