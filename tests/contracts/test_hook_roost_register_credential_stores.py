"""roost_register_credential_stores: ``credential_store = NAME`` keeps logins in a site's own store
(here a stand-in for a Linux secret service: one JSON file per profile in a vault directory)."""

SOURCE = '''
import json
import os
from pathlib import Path

from roost_core.api import (ANY_TOKEN, StoredCredentials, check_expected, config_dir_string, hookimpl,
                            verify_written)

VAULT = Path(os.environ.get("CONTRACT_VAULT", "/nonexistent-vault"))


class Vault:
    name = "vault"
    platforms = frozenset({"linux"})
    priority = 5  # below the file store: chosen only by the credential_store setting

    def _path(self, profile):
        return VAULT / (config_dir_string(profile.directory).replace("/", "_") + ".json")

    def read(self, profile):
        path = self._path(profile)
        if path.exists():
            return StoredCredentials(path.read_bytes(), self.name, str(path))
        return StoredCredentials(profile.credentials_path.read_bytes(), "file", str(profile.credentials_path))

    def write(self, profile, data, expected=ANY_TOKEN):
        try:
            current = self.read(profile)
        except FileNotFoundError:
            current = None
        check_expected(profile, current, expected)
        self._path(profile).write_bytes(data)
        verify_written(profile, data, self._path(profile).read_bytes(), "the vault")
        return StoredCredentials(data, self.name, str(self._path(profile)))

    def delete(self, profile):
        self._path(profile).unlink(missing_ok=True)
        return [str(self._path(profile))]

    def lock_dir(self, profile):
        return profile.directory

    def inspect(self, profile):
        held = self._path(profile).exists()
        return {"store": self.name, "live": "vault" if held else "file", "stray": None}

    def ready_to_spend(self, profile):
        return None


@hookimpl
def roost_register_credential_stores():
    return Vault()
'''


def test_third_party_credential_store(roost_sandbox, roost_run, roost_fake, third_party, plugin_row, tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    third_party("roost-vault-store", {"contract_vault": SOURCE}, {"credstore.vault": "contract_vault"})
    roost_sandbox.make_profile("a", expires_in=-60)
    before = roost_sandbox.credentials("a")
    roost_sandbox.write_config('credential_store = "vault"\n')
    result = roost_run("refresh", "a", "--json", CONTRACT_VAULT=str(vault))
    assert result.returncode == 0, result.stderr
    assert result.json["data"]["status"] == "refreshed"
    (stored,) = vault.iterdir()
    import json

    oauth = json.loads(stored.read_text())["claudeAiOauth"]
    assert oauth["refreshToken"] != before["claudeAiOauth"]["refreshToken"]
    assert roost_sandbox.credentials("a") == before  # the file was left alone: the vault holds the login
    assert roost_fake.token_posts == 1
    doctor = roost_run("doctor", "--skip-network", "--json", CONTRACT_VAULT=str(vault))
    check = {c["name"]: c for c in doctor.json["data"]}["credential-store:a"]
    assert check["details"]["live"] == "vault"
    assert plugin_row("vault")["provides"] == {"credstore": ["vault"]}
