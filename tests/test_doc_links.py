"""Pointers into the project's docs resolve: every ``doc.md#anchor`` and every Katib section number.

Code and docs cite Katib's behaviour as ``docs/katib-behaviour.md`` §3.6 (or §3.6 alone under a
header that names the page) and other docs by anchor (``docs/reports.md#bayesmark-score``). A
renamed anchor or a renumbered section would leave those pointing at nothing, so both are checked
against the documents themselves.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_ANCHOR_ID = re.compile(r'<a id="([a-z0-9-]+)"></a>')
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
# a doc path with an anchor, with or without the ``docs/`` folder (links from inside docs/ omit it)
_LINK = re.compile(r"(?<![\w/.-])(?:docs/)?([a-z][a-z0-9-]*\.md)#([a-z0-9-]+)")
_SECTION = re.compile(r"§(\d+(?:\.\d+)?)")


def _anchors(doc: Path) -> set[str]:
    text = doc.read_text()
    ids = set(_ANCHOR_ID.findall(text))
    # GitHub's heading slugs too, so links to plain headings keep working
    for heading in _HEADING.findall(text):
        heading = _ANCHOR_ID.sub("", heading).strip().lower()
        ids.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return ids


def _tracked_texts():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        path = ROOT / name
        if path.is_file() and path.suffix in (".py", ".md", ".yaml", ".yml", ".toml", ".txt", ""):
            try:
                yield name, path.read_text()
            except UnicodeDecodeError:
                continue


def katib_sections() -> set[str]:
    """The section numbers of docs/katib-behaviour.md: its headings, in-text §-marks, and chapters."""
    text = (DOCS / "katib-behaviour.md").read_text()
    numbers = set(re.findall(r"^## (\d+(?:\.\d+)?)[. ]", text, re.M))
    numbers |= set(re.findall(r"\*\*§(\d+(?:\.\d+)?)", text))
    numbers |= {n.split(".")[0] for n in numbers}
    return numbers


def test_every_doc_anchor_link_resolves():
    docs = {p.name: _anchors(p) for p in DOCS.glob("*.md")}
    broken = []
    for name, text in _tracked_texts():
        for number, line in enumerate(text.splitlines(), start=1):
            for doc, anchor in _LINK.findall(line):
                if doc in docs and anchor not in docs[doc]:
                    broken.append(f"{name}:{number}: {doc}#{anchor}")
    assert not broken, "\n".join(broken)


def test_every_cited_katib_section_exists():
    sections = katib_sections()
    assert {"1.2", "2.2", "3.6", "4.2", "6.2", "7.1", "9"} <= sections
    missing = []
    for name, text in _tracked_texts():
        for number, line in enumerate(text.splitlines(), start=1):
            for cited in _SECTION.findall(line):
                if cited not in sections:
                    missing.append(f"{name}:{number}: §{cited}")
    assert not missing, "\n".join(missing)


def test_the_link_check_sees_a_broken_anchor():
    broken = "see ``docs/reports.md" + "#no-such-anchor``"
    assert _LINK.findall(broken) == [("reports.md", "no-such-anchor")]
    assert "no-such-anchor" not in _anchors(DOCS / "reports.md")
    assert "bayesmark-score" in _anchors(DOCS / "reports.md")
    assert "99.9" not in katib_sections()
