"""picks.log's summary index (roost_plugins.picklog.index): a repeat reads only new lines, a rotated,
truncated or rewritten log is read again, and every answer equals a full read of the log."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest

from roost_core.audit import format_event, utc_now_iso
from roost_core.context import RoostContext
from roost_core.output import Output
from roost_core.records import AuditEvent
from roost_plugins.picklog import index
from roost_plugins.picklog.scan import LogScan
from roost_plugins.picklog.stats import aggregate

T0 = 1_777_896_000.0


def line(i: int, profile: str | None = None) -> str:
    is_exec = i % 2 == 1
    event = AuditEvent(ts=utc_now_iso(T0 + i * 7), event="exec" if is_exec else "pick",
                       profile=profile or f"p{i % 3}", strategy="least-used",
                       rc=(1 if i % 5 == 0 else 0) if is_exec else None,
                       duration_s=round(i / 9, 3) if is_exec else None, argv0="claude", pid=100 + i, note="")
    return format_event(event) + "\n"


def lines(start: int, stop: int) -> str:
    return "".join(line(i) for i in range(start, stop))


@pytest.fixture
def ctx(roost_env):
    roost_env.config.mkdir(parents=True)
    return RoostContext(env=roost_env.env(), out=Output(stdout=io.StringIO(), stderr=io.StringIO()))


@pytest.fixture
def seen(monkeypatch):
    """The text each run hands to the tally: what was actually read from the log."""
    texts: list[str] = []
    real = index._tally

    def spy(text, generation, scan):
        texts.append(text)
        real(text, generation, scan)

    monkeypatch.setattr(index, "_tally", spy)
    return texts


def both(ctx, profile=None):
    """(through the index, a full read of the log) for the same question."""
    indexed, full = LogScan(profile=profile), LogScan(profile=profile, since=float("-inf"))  # since: no index
    return (aggregate(ctx, indexed), indexed.skipped), (aggregate(ctx, full), full.skipped)


def test_first_read_builds_the_index_and_equals_a_full_read(ctx, roost_env):
    log = roost_env.config / "picks.log"
    log.write_text(lines(0, 300) + "not a line\n" + "\t".join(["x"] * 9) + "\n")
    via_index, full = both(ctx)
    assert via_index == full and full[1] == 2 and full[0]["events"] == 300
    stored = roost_env.config / "picks.log.index.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["generations"][0]["offset"] == log.stat().st_size
    for profile in ("p1", "nobody"):
        assert both(ctx, profile)[0] == both(ctx, profile)[1]


def test_a_repeat_reads_only_the_new_lines(ctx, roost_env, seen):
    log = roost_env.config / "picks.log"
    log.write_text(lines(0, 200))
    aggregate(ctx, LogScan())
    seen.clear()
    aggregate(ctx, LogScan())
    assert seen == []  # nothing new: nothing read
    with open(log, "a") as handle:
        handle.write(lines(200, 230))
    via_index, full = both(ctx)
    assert seen == [lines(200, 230)]
    assert via_index == full and full[0]["events"] == 230


def test_a_line_still_being_written_waits_for_its_newline(ctx, roost_env, seen):
    log = roost_env.config / "picks.log"
    whole = line(10)
    log.write_text(lines(0, 10) + whole[:20])
    assert both(ctx)[0] == both(ctx)[1] and both(ctx)[1][0]["events"] == 10
    with open(log, "a") as handle:
        handle.write(whole[20:])
    via_index, full = both(ctx)
    assert via_index == full and full[0]["events"] == 11


def test_a_rotated_log_continues_under_its_new_name(ctx, roost_env, seen):
    log = roost_env.config / "picks.log"
    log.write_text(lines(0, 100))
    aggregate(ctx, LogScan())
    os.replace(log, log.with_name("picks.log.1"))  # what the backend's rotation does
    log.write_text(lines(100, 120))
    seen.clear()
    via_index, full = both(ctx)
    assert seen == [lines(100, 120)]  # picks.log.1 was already read under its old name
    assert via_index == full and full[0]["events"] == 120
    # A second rotation drops the oldest generation from the answer (and from the index).
    os.replace(log, log.with_name("picks.log.1"))
    log.write_text(lines(120, 125))
    via_index, full = both(ctx)
    assert via_index == full and full[0]["events"] == 25
    assert len(json.loads((roost_env.config / "picks.log.index.json").read_text())["generations"]) == 2


def test_a_truncated_or_rewritten_log_is_read_again(ctx, roost_env, seen):
    log = roost_env.config / "picks.log"
    log.write_text(lines(0, 100))
    aggregate(ctx, LogScan())
    with open(log, "r+") as handle:  # same file (inode), shorter
        handle.truncate(0)
        handle.write(lines(500, 510))
    via_index, full = both(ctx)
    assert via_index == full and full[0]["events"] == 10
    # Same inode, longer than before, other first lines: rewritten, not appended to.
    with open(log, "r+") as handle:
        handle.truncate(0)
        handle.write("".join(line(i, "zed") for i in range(900, 1100)))
    seen.clear()
    via_index, full = both(ctx)
    assert seen and seen[0].startswith(line(900, "zed"))
    assert via_index == full and [p["profile"] for p in full[0]["profiles"]] == ["zed"]


def test_a_corrupt_or_foreign_index_is_rebuilt(ctx, roost_env):
    log = roost_env.config / "picks.log"
    log.write_text(lines(0, 50))
    stored = roost_env.config / "picks.log.index.json"
    for junk in ("{not json", json.dumps({"version": 99}), json.dumps({"version": 1, "generations": [{"dev": 1}]})):
        stored.write_text(junk)
        via_index, full = both(ctx)
        assert via_index == full and full[0]["events"] == 50
        assert json.loads(stored.read_text())["version"] == index.VERSION


def test_non_finite_durations_are_malformed_and_an_index_that_kept_them_is_read_again(ctx, roost_env):
    from array import array

    log = roost_env.config / "picks.log"
    damaged = [line(i).replace(f"\t{round(i / 9, 3)}\t", f"\t{bad}\t") for i, bad in ((1, "nan"), (3, "inf"))]
    assert all(bad in text for bad, text in zip(("nan", "inf"), damaged))
    log.write_text(damaged[0] + damaged[1] + lines(4, 40))
    via_index, full = both(ctx)
    assert via_index == full and full[1] == 2 and full[0]["events"] == 36
    assert full[0]["exec"]["p50_s"] == full[0]["exec"]["p50_s"]  # not NaN
    # An index written before NaN durations were malformed lines (version 2) holds them: not used.
    stored = roost_env.config / "picks.log.index.json"
    doc = json.loads(stored.read_text())
    doc["version"] = 2
    for tally in doc["generations"][0]["profiles"].values():
        tally["durations"] = index._packed(array("d", [float("nan")] * 40))
    stored.write_text(json.dumps(doc))
    assert both(ctx) == (full, full)


def test_carriage_returns_and_bad_bytes_read_as_the_text_reader_reads_them(ctx, roost_env):
    log = roost_env.config / "picks.log"
    log.write_bytes(lines(0, 5).encode() + b"\xff\xfe broken\r\n" + line(5).encode().replace(b"\n", b"\r")
                    + lines(6, 8).encode())
    via_index, full = both(ctx)
    assert via_index == full and full[0]["events"] == 8 and full[1] == 1


def test_percentiles_from_counts_equal_the_sorted_list():
    import random
    from array import array

    from roost_plugins.picklog.stats import percentile, percentiles

    rng = random.Random(7)
    for values in ([], [3.5], [round(rng.random() * 9, 1) for _ in range(20000)],  # few distinct: counted
                   [rng.random() for _ in range(20000)],  # all distinct: sorted
                   [0.0] * 5 + [2.5] * 3 + [float("inf")]):
        parts = [array("d", values[:7]), array("d", values[7:])]
        ordered = sorted(values)
        want = tuple(None if v is None else round(v, 3) for v in (percentile(ordered, 0.5), percentile(ordered, 0.95)))
        assert percentiles(parts) == want


def test_many_distinct_durations_are_ranked_not_sorted_with_the_same_answer(monkeypatch):
    """Over 65,536 mostly distinct durations (a busy 100 MB log: 1.1 M execs) the ranks are found
    by bucket counts, not a sorted list of a million floats (81 MB peak against 47 MB), exactly."""
    import random
    from array import array

    from roost_plugins.picklog import stats

    rng = random.Random(11)
    sorted_lists = []
    monkeypatch.setattr(stats, "chain", lambda *a: sorted_lists.append(1) or __import__("itertools").chain(*a))
    for values in ([round(rng.uniform(0, 300), 3) for _ in range(70000)],
                   [round(rng.expovariate(0.05), 6) for _ in range(70000)],
                   [round(rng.uniform(-1e9, 1e9), 3) for _ in range(70000)]):  # buckets widen
        parts = [array("d", values[:30000]), array("d", values[30000:])]
        ordered = sorted(values)
        want = tuple(round(stats.percentile(ordered, q), 3) for q in (0.5, 0.95))
        assert stats.percentiles(parts) == want
    assert sorted_lists == []  # never the sorted-list path
