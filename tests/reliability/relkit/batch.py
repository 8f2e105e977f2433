"""Run many cases through relkit/matrix.py, split over a few worker processes."""

from __future__ import annotations

import json
import subprocess
import sys

from relkit.world import HERE

MATRIX = HERE / "matrix.py"


def run_matrix(rel, cases: list[dict], workers: int = 2, *, tag: str = "",
               pythonpath: str | None = None) -> dict[str, dict]:
    """Each case's result by id. ``tag`` prefixes the job files (two suites in one tmp dir stay
    apart); ``pythonpath`` runs the cases against another checkout."""
    env = rel.env()
    env.update(HOME="{WORLD}/home", CLAUDE_LB_PROFILES_DIR="{WORLD}/profiles", XDG_CONFIG_HOME="{WORLD}/xdg",
               XDG_DATA_HOME="{WORLD}/xdg-data")
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    procs = []
    for w in range(workers):
        jobs = {"template": str(rel.root), "scratch": str(rel.root.parent / f"{tag}scratch{w}"), "env": env,
                "cases": cases[w::workers]}
        job_file = rel.root.parent / f"{tag}jobs{w}.json"
        job_file.write_text(json.dumps(jobs))
        out = rel.root.parent / f"{tag}results{w}.json"
        procs.append((subprocess.Popen([sys.executable, str(MATRIX), str(job_file), str(out)],
                                       env={**env, "HOME": str(rel.roost_env.home)}, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True), out))
    results = {}
    for proc, out in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        results.update({r["id"]: r for r in json.loads(out.read_text())})
    return results
