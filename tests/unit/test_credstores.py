"""The credential-store seam in process: claude's naming (hash vectors), the keychain store's rules
against the fake ``security``, and the Windows file rules with fakes for winerror 32 on replace and
PermissionError on a lock mkdir. docs/platforms.md."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from roost_core.credstore import (ANY, check_expected, config_dir_string, keychain_account, keychain_service,
                                  refresh_token_of)
from roost_core.errors import Conflict, Forbidden, Unavailable
from roost_core.filestore import FileCredentialStore
from roost_core.records import Profile
from roost_plugins.credstores.keychain import KeychainStore
from roost_plugins.credstores.security import MAX_LINE_BYTES, KeychainWriteFailed, Security, add_line

FAKE_SECURITY = Path(__file__).resolve().parents[1] / "fakes" / "security"


def login(refresh: str = "sk-ant-ort01-old", **extra) -> bytes:
    return json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "refreshToken": refresh,
                                         "expiresAt": 1, "scopes": ["user:inference"]}, **extra}).encode()


# -- claude's naming ------------------------------------------------------------------

@pytest.mark.parametrize("raw, digest", [("/Users/nanako/.claude-work", "7d296157"),
                                         ("/tmp/mclaude-research-fresh", "993f0726"),
                                         ("/Users/nanako/.claude-work/", "c8b0694b")])
def test_keychain_service_vectors(raw, digest):
    assert keychain_service(raw) == f"Claude Code-credentials-{digest}"


def test_the_default_item_has_no_suffix():
    assert keychain_service(None) == keychain_service("") == "Claude Code-credentials"


def test_config_dir_string_is_absolute_nfc_without_trailing_separator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    decomposed = "cafe\u0301"  # e + combining acute: NFD
    assert config_dir_string(decomposed + "/") == str(tmp_path / "caf\u00e9")
    assert config_dir_string("/Users/nanako/.claude-work/") == "/Users/nanako/.claude-work"
    assert keychain_service(config_dir_string("/Users/nanako/.claude-work/")).endswith("7d296157")


def test_an_nfd_directory_on_a_file_system_that_keeps_names_is_given_as_it_exists(tmp_path):
    """Linux and NTFS keep an NFD name as written: its NFC twin does not exist, and claude pointed at
    it would run logged out. The path that exists is given (claude hashes NFC of it all the same)."""
    decomposed = tmp_path / "cafe\u0301"
    decomposed.mkdir()
    assert not (tmp_path / "caf\u00e9").exists()  # this file system keeps names as written
    assert config_dir_string(decomposed) == str(decomposed)
    (tmp_path / "caf\u00e9").mkdir()  # an NFC twin that exists (macOS: always) is preferred
    assert config_dir_string(decomposed) == str(tmp_path / "caf\u00e9")


def test_account_is_user_else_os_name_else_fallback(monkeypatch):
    assert keychain_account({"USER": "nanako"}) == "nanako"
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "osname")
    assert keychain_account({}) == "osname"

    def nobody():
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", nobody)
    assert keychain_account({}) == "claude-code-user"


# -- compare-and-set ------------------------------------------------------------------

def test_compare_and_set_on_the_refresh_token_accepts_an_empty_stored_value():
    from roost_core.credstore import StoredCredentials

    profile = Profile("a", Path("/nowhere"))
    check_expected(profile, StoredCredentials(login("same"), "file", "x"), "same")
    check_expected(profile, StoredCredentials(login(""), "file", "x"), "old")  # wiped: claude accepts it
    check_expected(profile, None, "old")
    check_expected(profile, StoredCredentials(login("other"), "file", "x"), ANY)
    with pytest.raises(Conflict):
        check_expected(profile, StoredCredentials(login("other"), "file", "x"), "old")
    assert refresh_token_of(b"not json") is None


# -- the security line ------------------------------------------------------------------

def test_the_add_line_is_claudes_and_refuses_claudes_limit():
    secret = b'{"a":1}'
    line = add_line("Claude Code-credentials-7d296157", "nanako", secret)
    assert line == ('add-generic-password -U -a "nanako" -s "Claude Code-credentials-7d296157" '
                    f'-X "{secret.hex()}"\n')
    assert "-T" not in line
    budget = (MAX_LINE_BYTES - len(add_line("s", "u", b""))) // 2
    assert len(add_line("s", "u", b"x" * budget).encode()) <= MAX_LINE_BYTES
    with pytest.raises(KeychainWriteFailed):
        add_line("s", "u", b"x" * (budget + 1))
    with pytest.raises(KeychainWriteFailed):
        add_line("s", 'evil" -T "/bin/sh', b"{}")


# -- the keychain store against the fake ----------------------------------------------

class FakeKeychain:
    def __init__(self, root: Path, monkeypatch):
        self.db = root / "keychain.json"
        self.db.write_text(json.dumps({"mode": "ok", "items": {}}))
        monkeypatch.setenv("FAKE_SECURITY_DB", str(self.db))
        monkeypatch.setenv("FAKE_SECURITY_LOG", str(root / "security.log"))
        self.log = root / "security.log"

    def mode(self, mode: str) -> None:
        doc = json.loads(self.db.read_text())
        doc["mode"] = mode
        self.db.write_text(json.dumps(doc))

    def items(self) -> dict:
        return {k: bytes.fromhex(v) for k, v in json.loads(self.db.read_text())["items"].items()}


@pytest.fixture
def keychain(tmp_path, monkeypatch, request):
    fake = FakeKeychain(tmp_path, monkeypatch)
    warnings: list[str] = []
    hang = "hang" in request.node.name  # a hang is cut at the timeout; else a loaded CI box gets time
    security = Security(str(FAKE_SECURITY), "nanako", timeout=1.0 if hang else 15.0, env=dict(os.environ))
    store = KeychainStore(security, FileCredentialStore("darwin"), warnings.append)
    profile = Profile("a", tmp_path / "profiles" / "a")
    profile.directory.mkdir(parents=True)
    return fake, store, profile, warnings


def test_keychain_read_falls_back_to_the_file_and_a_write_moves_the_login(keychain):
    fake, store, profile, warnings = keychain
    profile.credentials_path.write_bytes(login())
    read = store.read(profile)
    assert read.source == "file" and read.data == login()
    written = store.write(profile, login("new"), expected="sk-ant-ort01-old")
    assert written.source == "keychain" and written.location == store.service(profile)
    assert fake.items() == {f"{store.service(profile)}|nanako": login("new")}
    assert not profile.credentials_path.exists()
    assert store.read(profile).source == "keychain"
    assert store.inspect(profile)["live"] == "keychain"
    with pytest.raises(Conflict):
        store.write(profile, login("newer"), expected="sk-ant-ort01-old")  # the stored token moved on


def test_keychain_write_refused_falls_back_to_the_file(keychain):
    fake, store, profile, warnings = keychain
    store.write(profile, login("one"))
    fake.mode("refuse")
    written = store.write(profile, login("two"), expected="one")
    assert written.source == "file" and json.loads(profile.credentials_path.read_bytes()) == json.loads(login("two"))
    assert stat.S_IMODE(profile.credentials_path.stat().st_mode) == 0o600
    fake.mode("ok")
    assert fake.items() == {}  # the older item is gone: it would win claude's reads
    assert any("refused" in w for w in warnings)


@pytest.mark.parametrize("mode", ["locked", "daemon", "hang"])
def test_an_unavailable_keychain_never_gets_a_second_copy(keychain, mode):
    fake, store, profile, _ = keychain
    profile.credentials_path.write_bytes(login())
    fake.mode(mode)
    stored = store.read(profile)  # claude reads the file then, and so does roost (for status)
    assert stored.source == "file" and stored.notes
    with pytest.raises(Unavailable):
        store.ready_to_spend(profile)
    with pytest.raises(Unavailable):
        store.write(profile, login("new"), expected="sk-ant-ort01-old")
    assert profile.credentials_path.read_bytes() == login()
    fake.mode("ok")
    assert fake.items() == {}


def test_unavailable_without_a_file_is_unavailable_not_missing(keychain):
    fake, store, profile, _ = keychain
    fake.mode("locked")
    with pytest.raises(Unavailable):
        store.read(profile)


def test_absent_is_told_only_when_the_keychain_answers(keychain):
    fake, store, profile, _ = keychain
    with pytest.raises(FileNotFoundError):
        store.read(profile)  # 44 and show-keychain-info answers: absent, and no file either
    assert store.read_default() is None


def test_a_write_is_read_back_and_verified(keychain, monkeypatch):
    fake, store, profile, _ = keychain
    monkeypatch.setattr(store.security, "find", lambda service, secret: b'{"other": 1}' if secret else b"")
    monkeypatch.setattr(store.security, "add", lambda service, data: None)
    from roost_core.errors import RoostError

    with pytest.raises(RoostError, match="did not read back the same"):
        store.write(profile, login("x"))


def test_the_store_never_puts_a_secret_in_argv(keychain):
    fake, store, profile, _ = keychain
    store.write(profile, login("secret-refresh-token-value"))
    store.read(profile)
    store.inspect(profile)
    calls = [json.loads(line) for line in fake.log.read_text().splitlines()]
    assert not any("violation" in c for c in calls), calls
    argvs = [" ".join(c["argv"]) for c in calls if "argv" in c]
    assert argvs and not any("secret-refresh" in a or login("x").hex()[:20] in a for a in argvs)
    assert all("-a" in c["argv"] for c in calls if "argv" in c and c["argv"][0] != "show-keychain-info")


# -- Windows: the same store with winerror 32 and PermissionError fakes --------------------

def _sharing_violation() -> PermissionError:
    exc = PermissionError(errno.EACCES, "The process cannot access the file because it is being used")
    exc.winerror = 32  # type: ignore[attr-defined]
    return exc


@pytest.fixture
def windows(monkeypatch):
    monkeypatch.setenv("CLAUDE_LB_PLATFORM", "win32")
    sleeps: list[float] = []
    import roost_core.winretry as winretry

    monkeypatch.setattr(winretry.time, "sleep", sleeps.append)
    return sleeps


def test_windows_replace_is_retried_on_a_sharing_violation(tmp_path, monkeypatch, windows):
    real_replace, failures = os.replace, [2]

    def flaky_replace(src, dst):
        if failures[0]:
            failures[0] -= 1
            raise _sharing_violation()
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    monkeypatch.setattr(os, "fchmod", lambda *a: pytest.fail("no chmod on Windows"))
    profile = Profile("a", tmp_path / "a")
    written = FileCredentialStore("win32").write(profile, login("new"))
    assert written.source == "file" and profile.credentials_path.read_bytes() == login("new")
    assert len(windows) == 2 and sum(windows) < 2  # short, bounded back-off


def test_windows_replace_gives_up_after_a_bounded_time(tmp_path, monkeypatch, windows):
    from roost_core.atomic import WriteFailed

    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(_sharing_violation()))
    profile = Profile("a", tmp_path / "a")
    with pytest.raises(WriteFailed):
        FileCredentialStore("win32").write(profile, login("new"))
    assert sum(windows) < 2
    assert [p.name for p in profile.directory.iterdir()] == []  # the temp file is gone


def test_windows_reads_are_retried_on_a_sharing_violation(tmp_path, monkeypatch, windows):
    import builtins

    profile = Profile("a", tmp_path / "a")
    profile.directory.mkdir()
    profile.credentials_path.write_bytes(login())
    real_open, failures = builtins.open, [1]

    def flaky_open(path, *args, **kwargs):
        if str(path) == str(profile.credentials_path) and failures[0]:
            failures[0] -= 1
            raise _sharing_violation()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", flaky_open)
    assert FileCredentialStore("win32").read(profile).data == login()
    assert windows


def test_windows_file_store_says_acls_protect_the_file(tmp_path):
    assert "ACLs" in FileCredentialStore("win32").protection()
    assert "0600" in FileCredentialStore("linux").protection()


def test_windows_config_dir_is_appdata_claude_lb(monkeypatch):
    from roost_core.paths import config_dir

    path = config_dir({"CLAUDE_LB_PLATFORM": "win32", "APPDATA": "/appdata/Roaming"})
    assert path == Path("/appdata/Roaming/claude-lb")


def test_windows_permission_error_on_a_lock_mkdir_is_busy(tmp_path, monkeypatch, windows):
    import time

    from roost_plugins.state_files import claudelock

    lock = tmp_path / ".oauth_refresh.lock"
    monkeypatch.setattr(os, "mkdir", lambda path, mode=0o777: (_ for _ in ()).throw(
        PermissionError(errno.EPERM, "Operation not permitted")))
    locks = claudelock.ClaudeLocks([lock], stale_s=60)
    with pytest.raises(Conflict):  # busy until the deadline, not "cannot write there"
        locks.acquire(time.monotonic() + 0.3)


def test_linux_permission_error_on_a_lock_mkdir_is_a_clear_validation_error(tmp_path, monkeypatch):
    import time

    from roost_core.errors import ValidationError
    from roost_plugins.state_files import claudelock

    monkeypatch.setenv("CLAUDE_LB_PLATFORM", "linux")
    monkeypatch.setattr(os, "mkdir", lambda path, mode=0o777: (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(ValidationError):
        claudelock.ClaudeLocks([tmp_path / ".oauth_refresh.lock"]).acquire(time.monotonic() + 0.3)


def test_files_backend_writes_through_the_store_under_all_three_locks(tmp_path, monkeypatch, windows):
    """The same backend path on Windows: a write after a read, replace failing twice with winerror 32."""
    from roost_plugins.state_files.backend import FilesBackend

    seen: list[list[str]] = []

    class Watching(FileCredentialStore):
        def write(self, profile, data, expected=ANY):
            seen.append(sorted(p.name for p in profile.directory.iterdir() if p.name.endswith(".lock")))
            return super().write(profile, data, expected)

    real_replace, failures = os.replace, [2]

    def flaky_replace(src, dst):
        if failures[0] and str(dst).endswith(".credentials.json"):
            failures[0] -= 1
            raise _sharing_violation()
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    profile = Profile("a", tmp_path / "tree" / "a")
    profile.directory.mkdir(parents=True)
    profile.credentials_path.write_bytes(login())
    backend = FilesBackend(tmp_path / "config", lambda m: None, profiles_tree=tmp_path / "tree",
                           store=lambda: Watching("win32"))
    backend.read_credentials(profile)
    backend.write_credentials(profile, login("new"))
    assert seen == [[".oauth_refresh.lock", ".storage-write.lock"]]
    assert os.path.isdir(os.path.realpath(profile.directory) + ".lock") is False  # released after
    assert profile.credentials_path.read_bytes() == login("new")
    profile.credentials_path.write_bytes(login("moved-on"))
    with pytest.raises(Conflict):
        backend.write_credentials(profile, login("stale"))


# -- ownership: never write another user's file; name an exposed one (like ssh) ------------------------

def _linked_login(tmp_path: Path) -> Profile:
    """A profile whose .credentials.json is a link to a file elsewhere (the shared-file pattern)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.json").write_bytes(login("old"))
    profile = Profile("a", tmp_path / "a")
    profile.directory.mkdir()
    os.symlink(elsewhere / "c.json", profile.credentials_path)
    return profile


def test_a_login_owned_by_another_user_is_never_written_and_is_named_on_read(tmp_path, monkeypatch):
    profile = _linked_login(tmp_path)
    before = (tmp_path / "elsewhere" / "c.json").read_bytes()
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(profile.credentials_path).st_uid + 1)  # we are someone else
    warnings: list[str] = []
    store = FileCredentialStore("linux", warnings.append)
    assert store.read(profile).data == before
    store.read(profile)
    assert len(warnings) == 1 and "owned by uid" in warnings[0] and "not yours" in warnings[0]
    with pytest.raises(Forbidden) as refused:
        store.ready_to_spend(profile)  # before a refresh POST: nothing is spent
    assert "nothing was spent" in refused.value.message
    with pytest.raises(Forbidden):
        store.write(profile, login("new"))
    assert (tmp_path / "elsewhere" / "c.json").read_bytes() == before and profile.credentials_path.is_symlink()


def test_a_link_into_another_users_directory_is_refused(tmp_path, monkeypatch):
    profile = _linked_login(tmp_path)
    me = os.stat(profile.credentials_path).st_uid
    real_stat = os.stat

    def stat_as_if_the_directory_were_anothers(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if str(path) == str(tmp_path / "elsewhere"):
            fields = list(result)
            fields[stat.ST_UID] = me + 1
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", stat_as_if_the_directory_were_anothers)
    with pytest.raises(Forbidden) as refused:
        FileCredentialStore("linux").ready_to_spend(profile)
    assert "in a directory owned by uid" in refused.value.message


def test_a_login_others_may_read_is_named_once(tmp_path):
    profile = Profile("a", tmp_path / "a")
    profile.directory.mkdir()
    profile.credentials_path.write_bytes(login("old"))
    os.chmod(profile.credentials_path, 0o644)
    warnings: list[str] = []
    store = FileCredentialStore("linux", warnings.append)
    store.read(profile)
    store.read(profile)
    assert warnings == [f"a: its credentials file is mode 0644, readable by others "
                        f"(chmod 600 {profile.credentials_path})"]
    store.ready_to_spend(profile)  # ours: a refresh may rewrite it (0600)
    windows: list[str] = []
    FileCredentialStore("win32", windows.append).read(profile)
    assert windows == []  # the ACLs protect it there; modes mean nothing
