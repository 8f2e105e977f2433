"""roost_register_state_backends: ``[state] backend = NAME`` puts every shared document, log and
credential write of a run through a third-party backend built on ``StateBackendBase``."""

SOURCE = '''
import contextlib, fcntl, json, os
from pathlib import Path
from roost_core.api import StateBackendBase, atomic_write, hookimpl

class Journal(StateBackendBase):
    """Documents and logs as files in $CONTRACT_STATE_DIR, every call journaled to calls.log."""

    name = "journal"

    def __init__(self, root):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _note(self, what):
        with open(self.root / "calls.log", "a") as handle:
            handle.write(what + "\\n")

    def read_doc(self, name):
        self._note(f"read_doc {name}")
        try:
            return json.loads((self.root / f"{name}.json").read_text())
        except (OSError, ValueError):
            return {}

    def update_doc(self, name, fn):
        self._note(f"update_doc {name}")
        with self.lock(f"doc:{name}", timeout=10):
            doc = self.read_doc(name)
            new = fn(doc)
            doc = doc if new is None else new
            atomic_write(self.root / f"{name}.json", json.dumps(doc).encode())
            return doc

    @contextlib.contextmanager
    def lock(self, name, timeout):
        with open(self.root / ("lock-" + name.replace("/", "_").replace(":", "_")[:80]), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def append_line(self, log, line, max_bytes=None):
        self._note(f"append_line {log}")
        with open(self.root / f"{log}.log", "a") as handle:
            handle.write(line if line.endswith("\\n") else line + "\\n")

    def iter_lines(self, log):
        try:
            yield from (self.root / f"{log}.log").read_text().splitlines()
        except OSError:
            return

    def read_credentials(self, profile):
        return profile.credentials_path.read_bytes()

    def write_credentials(self, profile, data):
        self._note(f"write_credentials {profile.name}")
        atomic_write(profile.credentials_path, data)

class Factory:
    name = "journal"

    def open(self, ctx):
        return Journal(Path(ctx.env["CONTRACT_STATE_DIR"]))

@hookimpl
def roost_register_state_backends():
    return Factory()
'''


def test_third_party_state_backend(roost_sandbox, roost_run, roost_fake, third_party, tmp_path):
    third_party("roost-journal-state", {"contract_state": SOURCE}, {"state.journal": "contract_state"})
    roost_sandbox.make_profile("a")
    roost_sandbox.make_profile("b", expires_in=-60)
    roost_sandbox.write_config('[state]\nbackend = "journal"\n')
    store = tmp_path / "store"

    def run(*args):
        result = roost_run(*args, CONTRACT_STATE_DIR=str(store))
        assert result.returncode == 0, result.stderr
        return result

    assert run("pick", "--json").json["data"]["name"] == "a"
    assert json_of(store / "last-pick.json")["name"] == "a"
    assert "a" in (store / "health.json").read_text()
    history = run("history", "--json").json["data"]
    assert [(row["event"], row["profile"]) for row in history] == [("pick", "a")]
    assert run("refresh", "b", "--json").json["data"]["status"] == "refreshed"
    calls = (store / "calls.log").read_text().splitlines()
    assert {"update_doc last-pick", "append_line picks.log", "write_credentials b"} <= set(calls)
    assert roost_fake.token_posts == 1
    # Nothing went to the files backend's own state.
    assert not (roost_sandbox.config / "last-pick.json").exists()


def json_of(path):
    import json

    return json.loads(path.read_text())
