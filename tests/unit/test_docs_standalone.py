"""The repository's code and docs stand alone: they cite no file outside the repository, and every
relative link in README.md and docs/ points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("roost_core", "roost_plugins", "plugins", "examples", "docs", "benchmarks", "tests", ".ci")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".sh"}
# Outside documents the code was written from, and ways of citing them.
OUTSIDE = re.compile(r"\.\./shared|shared/docs|contract (section|§)|contract §\s*\d|anthropic-api\.md"
                     r"|reliability\.md [FG]\d|reliability\.md section|\bthe seed\b|\bseed['’]s\b|\(seed:")
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def sources() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for tree in TREES:
        for path in (ROOT / tree).rglob("*"):
            if path.suffix in SUFFIXES and path.is_file() and not {"node_modules", "build", ".venv"} & set(path.parts):
                if ".egg-info" not in str(path):
                    found.append(path)
    return found


def test_no_citation_of_files_outside_the_repository():
    hits = []
    for path in sources():
        if path.resolve() == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "write the fact into docs/ and cite that instead:\n" + "\n".join(hits)


@pytest.mark.parametrize("page", sorted(p.relative_to(ROOT).as_posix() for p in [ROOT / "README.md",
                                                                                   *(ROOT / "docs").glob("*.md")]))
def test_relative_links_resolve(page):
    path = ROOT / page
    broken = [target for target, _ in LINK.findall(path.read_text(encoding="utf-8"))
              if "://" not in target and not target.startswith("mailto:") and not (path.parent / target).exists()]
    assert not broken, f"{page} links to missing files: {broken}"


def test_every_docs_page_named_in_code_or_docs_exists():
    named = re.compile(r"\bdocs/([A-Za-z0-9_.-]+\.md)")
    missing = sorted({f"{path.relative_to(ROOT)}: docs/{page}"
                      for path in sources() for page in named.findall(path.read_text(encoding="utf-8", errors="replace"))
                      if not (ROOT / "docs" / page).is_file()})
    assert not missing, "pages named but not written:\n" + "\n".join(missing)


def test_the_spec_index_lists_every_page():
    index = (ROOT / "docs" / "SPEC.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "SPEC.md" and f"]({p.name})" not in index]
    assert not missing, f"add these pages to the index in docs/SPEC.md: {missing}"
