"""roost report --plot through the real roost executable, over a usage log on disk."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from roost_core.audit import utc_now_iso

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z
SVG = "{http://www.w3.org/2000/svg}"


def record(t: float, profile: str, weekly: float | None, resets: float) -> dict:
    return {"ts": utc_now_iso(t), "profile": profile, "health": "ok", "session_pct": 5.0, "weekly_pct": weekly,
            "sonnet_pct": None, "opus_pct": None, "overage_pct": None, "session_resets_at": None,
            "weekly_resets_at": utc_now_iso(resets)}


@pytest.fixture
def logged(roost_env):
    """Two profiles' weekly_pct; account-a's window resets at 14:00 and starts again."""
    reset = T0 + 7200
    lines = [record(T0 + i * 600, "account-a", 40.0 + i * 3, reset) for i in range(12)]
    lines += [record(reset + 300 + i * 600, "account-a", 1.0 + i, reset + 7 * 86400) for i in range(6)]
    lines += [record(T0 + i * 900, "pro", None, T0 + 86400) for i in range(3)]
    lines += [record(T0 + i * 900, "team", 70.0, T0 + 86400) for i in range(8)]
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / "usage-log.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return roost_env


def test_plot_svg_keeps_the_report_on_stdout(logged, tmp_path):
    target = tmp_path / "usage.svg"
    rc, body = logged.run_json("report", "--plot", str(target))
    assert rc == 0 and [row["profile"] for row in body["data"]] == ["account-a", "pro", "team"]
    assert body["meta"]["plot"] == {"path": str(target), "format": "svg", "series": 2}
    root = ET.fromstring(target.read_bytes())
    groups = [g for g in root.iter(SVG + "g") if g.get("class") == "series"]
    assert [g.find(SVG + "title").text for g in groups] == ["account-a", "pro", "team"]
    assert len([e for e in groups[0].iter(SVG + "line") if e.get("class") == "reset"]) == 1
    assert b"CANARY" not in target.read_bytes()

    proc = logged.run("report", "--plot", str(target))
    assert proc.returncode == 0 and f"Plot written to {target}" in proc.stderr
    assert "Usage report" in proc.stderr and "Traceback" not in proc.stderr
    assert rc == 0 and proc.stdout == ""  # the table is for people, as without --plot


def test_plot_png_with_filters(logged, tmp_path):
    from PIL import Image  # the [test] extra: missing is a broken setup, not a skip
    target = tmp_path / "usage.PNG"
    rc, body = logged.run_json("report", "--plot", str(target), "--profile", "team", "--since", "1000w")
    assert rc == 0 and body["meta"]["plot"] == {"path": str(target), "format": "png", "series": 1}
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (960, 480)


def test_plot_refusals(logged, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = logged.run("report", "--plot", str(out / "usage.jpg"))
    assert proc.returncode == 4 and ".svg or .png" in proc.stderr and "Traceback" not in proc.stderr
    rc, body = logged.run_json("report", "--plot", str(out / "missing" / "usage.svg"))
    assert rc == 3 and body["error"]["code"] == "NOT_FOUND" and "does not exist" in body["error"]["message"]
    (out / "dir.svg").mkdir()
    assert logged.run("report", "--plot", str(out / "dir.svg")).returncode == 4
    assert list(out.iterdir()) == [out / "dir.svg"]


def test_plot_with_no_samples_writes_an_empty_chart_and_warns(roost_env, tmp_path):
    target = tmp_path / "empty.svg"
    rc, body = roost_env.run_json("report", "--plot", str(target))
    assert rc == 0 and body["data"] == [] and body["meta"]["plot"]["series"] == 0
    assert "no data" in target.read_text()
    proc = roost_env.run("report", "--plot", str(target))
    assert proc.returncode == 0 and "empty chart" in proc.stderr and "roost config usage-log on" in proc.stderr


def test_report_and_svg_plot_never_import_pillow(logged, tmp_path):
    for extra in ([], ["--plot", str(tmp_path / "u.svg")]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "roost_core", "report", "--json", *extra],
                              env=logged.env(), capture_output=True, text=True, timeout=60)
        modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert proc.returncode == 0 and json.loads(proc.stdout)["data"]
        assert not {m for m in modules if m.split(".")[0] == "PIL"}
