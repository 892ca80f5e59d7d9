"""The project's docs stay inside the repository, and the ADR index lists every decision record.

- No Markdown link in README.md or under docs/ points outside the repository (`../shared/…`, an absolute
  path): the design docs live here, and the seed guide is named, never linked; and every such link reaches a
  file that exists.
- docs/adr/README.md links every record `docs/adr/NNNN-*.md` by its number, and no record is missing from it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADR_DIR = ROOT / "docs" / "adr"
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def local_targets(path: Path) -> list[str]:
    """The link targets of a Markdown file that are not web addresses or anchors."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)  # code blocks are not links
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I) and not t.startswith("#")]


def test_no_doc_links_outside_the_repository() -> None:
    outside: list[str] = []
    for path in markdown_files():
        for target in local_targets(path):
            file_part = target.split("#", 1)[0]
            resolved = (path.parent / file_part).resolve()
            if file_part.startswith("/") or not resolved.is_relative_to(ROOT):
                outside.append(f"{path.relative_to(ROOT)}: ({target})")
    assert not outside, "links that leave the repository (name the document instead):\n" + "\n".join(outside)


def test_every_doc_link_reaches_a_file_of_the_repository() -> None:
    dangling: list[str] = []
    for path in markdown_files():
        for target in local_targets(path):
            file_part = target.split("#", 1)[0]
            if file_part and not (path.parent / file_part).exists():
                dangling.append(f"{path.relative_to(ROOT)}: ({target})")
    assert not dangling, "links to files that do not exist:\n" + "\n".join(dangling)


def test_the_adr_index_links_every_record() -> None:
    index = ADR_DIR / "README.md"
    linked = {t.split("#", 1)[0] for t in local_targets(index)}
    records = sorted(p.name for p in ADR_DIR.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records, "no decision record found in docs/adr/"
    missing = [name for name in records if name not in linked]
    assert not missing, "docs/adr/README.md: link these records in the row of their number:\n" + "\n".join(
        f"    | {name[:4]} | [<title>]({name}) |" for name in missing
    )
    numbers = [name[:4] for name in records]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not duplicates, f"docs/adr/: two records share a number: {duplicates}"
