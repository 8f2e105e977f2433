"""The parsed copy of a large JSON document (roost_core.docstore, docs/performance.md): the same data as
the JSON, always; stale, damaged or foreign copies are ignored; small documents never get one."""

from __future__ import annotations

import json
import os
import stat

import pytest

from roost_core import docstore
from roost_core.docstore import JsonDocuments


def big(tag: str) -> dict:
    return {"version": 1, "profiles": {f"p{i:04d}": {"tag": tag, "pct": i / 7, "reasons": ["x" * 200]}
                                       for i in range(1500)}}


def test_a_large_document_reads_the_same_through_its_parsed_copy(tmp_path):
    docs = JsonDocuments(tmp_path, warn=lambda msg: None)
    docs.update_doc("health", lambda _old: big("one"))
    copy = tmp_path / ".health.json.parsed"
    assert docs.read_doc("health") == big("one") and copy.exists()  # the first read leaves the copy
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert docs.read_doc("health") == big("one")  # served from it
    docs.update_doc("health", lambda old: {**old, "version": 2})  # a write renames a new file in
    assert docs.read_doc("health") == {**big("one"), "version": 2}
    docs.replace_doc("health", big("two"))
    assert docs.read_doc("health") == big("two")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(docstore.TEMP_SUFFIX)] == []


def test_a_damaged_or_foreign_copy_is_ignored(tmp_path):
    docs = JsonDocuments(tmp_path, warn=lambda msg: None)
    docs.replace_doc("health", big("one"))
    docs.read_doc("health")
    copy = tmp_path / ".health.json.parsed"
    for junk in (b"", b"garbage", copy.read_bytes()[:1000]):
        copy.write_bytes(junk)
        assert docs.read_doc("health") == big("one")
    # Rewritten behind roost's back with the same size: the identity (mtime, inode) differs.
    path = tmp_path / "health.json"
    text = path.read_text().replace('"one"', '"eno"')
    path.write_text(text)
    os.utime(path, ns=(1, 1))
    assert docs.read_doc("health") == big("eno")


def test_small_documents_get_no_copy(tmp_path):
    docs = JsonDocuments(tmp_path, warn=lambda msg: None)
    docs.replace_doc("last-pick", {"name": "a"})
    assert docs.read_doc("last-pick") == {"name": "a"}
    assert not (tmp_path / ".last-pick.json.parsed").exists()
    assert json.loads((tmp_path / "last-pick.json").read_text()) == {"name": "a"}


def test_a_lock_timeout_reads_as_seconds_people_would_write(tmp_path):
    """A deadline's leftover (0.999962 s) is said as 1s, not to the microsecond."""
    from filelock import FileLock

    from roost_core.docstore import JsonDocuments, lock_file_name
    from roost_core.errors import Conflict

    docs = JsonDocuments(tmp_path, warn=lambda message: None)
    with docs.lock("health", 1.0):
        holder = FileLock(str(tmp_path / "locks" / lock_file_name("health")))
    with holder:
        with pytest.raises(Conflict, match=r"\(waited 0\.05s\)"):
            with docs.lock("health", 0.049962):
                pass
