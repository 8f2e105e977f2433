"""Live platform tests: the credential stores on a real Mac and on native Windows (opt-in).

``pytest -m macos`` on a Mac runs the real ``/usr/bin/security`` against the login
keychain, with throwaway items only (a temp profile directory, so a service name no
claude uses); it never reads or writes claude's own items. ``pytest -m windows`` on
native Windows exercises the file store on NTFS. Nothing here has been run by the
authors (docs/platforms.md, "What was tested where"): a contributor's run is the first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from roost_core.credstore import config_dir_string, keychain_account, keychain_service
from roost_core.filestore import FileCredentialStore
from roost_core.records import Profile

LOGIN = {"claudeAiOauth": {"accessToken": "sk-ant-oat01-roost-live-test-not-a-token",
                           "refreshToken": "sk-ant-ort01-roost-live-test-not-a-token",
                           "expiresAt": 1, "scopes": ["user:inference"]}, "roostLiveTest": True}


def _login(refresh: str = "sk-ant-ort01-roost-live-test-not-a-token") -> bytes:
    doc = json.loads(json.dumps(LOGIN))
    doc["claudeAiOauth"]["refreshToken"] = refresh
    return json.dumps(doc).encode()


# -- macOS ------------------------------------------------------------------------------

@pytest.fixture
def mac_store(tmp_path):
    if sys.platform != "darwin":
        pytest.fail("pytest -m macos runs on macOS only")
    from roost_plugins.credstores.keychain import KeychainStore
    from roost_plugins.credstores.security import Security

    security = Security("/usr/bin/security", keychain_account(os.environ), timeout=10.0)
    store = KeychainStore(security, FileCredentialStore("darwin"))
    profile = Profile("live", tmp_path / "roost-live-profile")
    profile.directory.mkdir()
    yield store, profile
    store.delete(profile)  # never leave a throwaway item behind


@pytest.mark.macos
def test_macos_keychain_round_trip_with_the_real_security(mac_store):
    store, profile = mac_store
    service = keychain_service(config_dir_string(profile.directory))
    assert store.read_default is not None and store.service(profile) == service
    profile.credentials_path.write_bytes(_login())
    os.chmod(profile.credentials_path, 0o600)
    written = store.write(profile, _login("sk-ant-ort01-roost-live-second"), expected=LOGIN["claudeAiOauth"]["refreshToken"])
    assert written.source == "keychain" and not profile.credentials_path.exists()
    assert store.read(profile).data == _login("sk-ant-ort01-roost-live-second")
    report = store.inspect(profile)
    assert report["live"] == "keychain" and report["stray"] is None
    probe = subprocess.run(["/usr/bin/security", "find-generic-password", "-a", store.security.account, "-s", service],
                           capture_output=True, timeout=10)
    assert probe.returncode == 0 and b"roost-live" not in probe.stdout  # attributes only, no secret
    assert store.delete(profile) == [f"keychain:{service}"]
    assert store.security.find(service, secret=False) is None


# -- Windows ------------------------------------------------------------------------------

@pytest.fixture
def windows_only():
    if sys.platform != "win32":
        pytest.fail("pytest -m windows runs on native Windows only")


@pytest.mark.windows
def test_windows_config_dir_is_under_appdata(windows_only):
    from roost_core.paths import config_dir

    assert config_dir(os.environ) == Path(os.environ["APPDATA"]) / "claude-lb"


@pytest.mark.windows
def test_windows_file_store_round_trip_and_a_held_file(windows_only, tmp_path):
    store = FileCredentialStore("win32")
    profile = Profile("live", tmp_path / "live")
    store.write(profile, _login())
    assert store.read(profile).data == _login()
    held = open(profile.credentials_path, "rb")  # Python opens without FILE_SHARE_DELETE: replace fails (32)
    threading.Timer(0.3, held.close).start()
    started = time.monotonic()
    store.write(profile, _login("sk-ant-ort01-roost-live-second"))  # retried until the handle closes
    assert time.monotonic() - started < 3
    assert store.read(profile).data == _login("sk-ant-ort01-roost-live-second")
    assert "ACLs" in store.inspect(profile)["protection"]
