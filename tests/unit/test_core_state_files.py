"""The files state backend: documents, locks, logs, credentials."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from roost_core.errors import Conflict
from roost_core.records import Profile
from roost_plugins.state_files import FilesBackend




def test_doc_round_trip_is_atomic_and_private(backend):
    backend.update_doc("health", lambda d: {"version": 1, "profiles": {"a": {}}})
    path = backend.config_dir / "health.json"
    assert json.loads(path.read_text())["profiles"] == {"a": {}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backend.config_dir.stat().st_mode) == 0o700
    assert [p.name for p in backend.config_dir.iterdir() if p.name.endswith(".roost-tmp")] == []


@pytest.mark.parametrize("content", [b"", b"{", b"[1]", b"\x00\xff", b'{"a": NaN}', b"[" * 100000])
def test_corrupt_doc_warns_and_rebuilds(backend, content):
    backend.config_dir.mkdir(parents=True)
    (backend.config_dir / "leases.json").write_bytes(content)
    assert backend.read_doc("leases") == {}
    assert backend.warnings and "leases.json" in backend.warnings[0]
    backend.update_doc("leases", lambda d: {"leases": {}})
    assert json.loads((backend.config_dir / "leases.json").read_text()) == {"leases": {}}


def _bump(config_dir: str, n: int) -> None:
    b = FilesBackend(__import__("pathlib").Path(config_dir), lambda m: None)
    for _ in range(n):
        b.update_doc("counter", lambda d: {"n": d.get("n", 0) + 1})


def test_update_doc_is_serialised_across_processes(backend):
    procs = [multiprocessing.Process(target=_bump, args=(str(backend.config_dir), 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert backend.read_doc("counter") == {"n": 100}


def test_lock_times_out_with_conflict(backend):
    with backend.lock("refresh:a", timeout=1):
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()

        def try_lock():
            b = FilesBackend(backend.config_dir, lambda m: None)
            try:
                with b.lock("refresh:a", timeout=0.2):
                    q.put("got")
            except Conflict:
                q.put("conflict")

        p = ctx.Process(target=try_lock)
        p.start()
        p.join(10)
        assert q.get(timeout=5) == "conflict"


def test_append_line_repairs_torn_tail_and_rotates(backend):
    backend.append_line("picks.log", "one")
    with open(backend.config_dir / "picks.log", "ab") as handle:
        handle.write(b"torn-without-newline")
    backend.append_line("picks.log", "two")
    lines = (backend.config_dir / "picks.log").read_text().splitlines()
    assert lines == ["one", "torn-without-newline", "two"]
    backend.append_line("picks.log", "x" * 100, max_bytes=20)
    assert (backend.config_dir / "picks.log.1").exists()
    assert [line.strip() for line in backend.iter_lines("picks.log")][-1] == "x" * 100
    assert stat.S_IMODE((backend.config_dir / "picks.log").stat().st_mode) == 0o600


def test_credentials_write_is_atomic_0600_and_follows_symlinks(backend, tmp_path):
    shared = tmp_path / "shared.json"
    shared.write_text("{}")
    directory = tmp_path / "profiles" / "a"
    directory.mkdir(parents=True)
    os.symlink(shared, directory / ".credentials.json")
    profile = Profile("a", directory)
    backend.write_credentials(profile, b'{"new": 1}')
    assert (directory / ".credentials.json").is_symlink()
    assert json.loads(shared.read_text()) == {"new": 1}
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
