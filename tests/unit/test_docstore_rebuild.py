"""JsonDocuments: a corrupt document found by a read is rebuilt at once, never over a writer's good one."""

from __future__ import annotations

import json
import stat
import threading
import time

from roost_core.atomic import atomic_write
from roost_core.docstore import JsonDocuments

TORN = b'{"version": 1, "ent'


def docs(tmp_path, warnings, **kw):
    return JsonDocuments(tmp_path, warn=warnings.append, **kw)


def test_a_read_rebuilds_a_corrupt_document_once(tmp_path):
    warnings: list[str] = []
    path = tmp_path / "leases.json"
    path.write_bytes(TORN)
    d = docs(tmp_path, warnings)
    assert d.read_doc("leases") == {} and d.read_doc("leases") == {}
    assert warnings == ["leases.json is corrupt (not valid JSON: JSONDecodeError); read as empty, and "
                        "rebuilt as an empty document"]
    assert json.loads(path.read_text()) == {} and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".roost-tmp")] == []


def test_a_writer_holding_the_lock_keeps_its_document(tmp_path):
    """The rebuild waits for the writers' lock and re-checks: a good document written meanwhile stays."""
    warnings: list[str] = []
    path = tmp_path / "health.json"
    path.write_bytes(TORN)
    reader, writer = docs(tmp_path, warnings), docs(tmp_path, [])
    got: list[dict] = []
    with writer.lock("doc:health", timeout=5):
        thread = threading.Thread(target=lambda: got.append(reader.read_doc("health")))
        thread.start()
        time.sleep(0.3)  # the reader found the damage and waits on the lock
        atomic_write(path, b'{"version": 1, "profiles": {}}\n')
    thread.join(10)
    assert got == [{}]
    assert json.loads(path.read_text()) == {"version": 1, "profiles": {}}
    assert "rewritten meanwhile by another roost process" in warnings[0]


def test_a_read_inside_the_documents_own_write_does_not_wait_on_itself(tmp_path):
    warnings: list[str] = []
    (tmp_path / "passive.json").write_bytes(TORN)
    d = docs(tmp_path, warnings)
    started = time.monotonic()
    d.update_doc("passive", lambda doc: {"seen": d.read_doc("passive") == {}})
    assert time.monotonic() - started < 1.5
    assert json.loads((tmp_path / "passive.json").read_text()) == {"seen": True}


def test_a_symlink_and_a_kept_name_are_left_alone(tmp_path):
    warnings: list[str] = []
    theirs = tmp_path / "theirs.txt"
    theirs.write_bytes(TORN)
    (tmp_path / "last-pick.json").symlink_to(theirs)
    (tmp_path / "cred-abc.json").write_bytes(TORN)
    d = docs(tmp_path, warnings, rebuild=lambda name: not name.startswith("cred-"))
    assert d.read_doc("last-pick") == {} and d.read_doc("cred-abc") == {}
    assert theirs.read_bytes() == TORN and (tmp_path / "last-pick.json").is_symlink()
    assert (tmp_path / "cred-abc.json").read_bytes() == TORN
    assert len(warnings) == 2 and "left as it is" in warnings[0] and "next write" in warnings[1]


def test_a_rebuild_that_cannot_write_is_a_warning_not_an_error(tmp_path):
    """No lock to be had (here a file where the locks directory belongs): said, left to the next write."""
    warnings: list[str] = []
    (tmp_path / "health.json").write_bytes(TORN)
    (tmp_path / "locks").write_text("not a directory")
    assert docs(tmp_path, warnings).read_doc("health") == {}
    assert "rebuilt by the next write (not now:" in warnings[0]
    assert (tmp_path / "health.json").read_bytes() == TORN


def test_the_redis_mirror_rebuilds_documents_but_never_a_sealed_credentials_record(tmp_path):
    from roost_redis.keys import short_hash
    from roost_redis.localstate import LocalState

    warnings: list[str] = []
    local = LocalState(tmp_path, warnings.append)
    local.files.directory.mkdir(parents=True)
    doc = local.files.directory / f"doc-{short_hash('health')}.json"
    cred = local.files.directory / f"cred-{short_hash('p')}.json"
    doc.write_bytes(TORN)
    cred.write_bytes(TORN)
    assert local.mirrored_doc("health") == {} and local.mirrored_cred("p") == {}
    assert json.loads(doc.read_text()) == {} and cred.read_bytes() == TORN
