"""The README and docs/ as a newcomer meets them: a README short enough to read first, its quick
start the two commands CI runs, and every link in it and in docs/ leading somewhere (a file of the
repository, a heading of that file, or a well-formed web address: checked for form, never fetched).
"""

import re
import urllib.parse
from pathlib import Path

import pytest

from conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 200
PAGES = sorted([README, *DOCS.glob("*.md")])

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def prose(text: str) -> str:
    """Markdown without fenced code blocks and HTML comments: what renders as text and links."""
    return COMMENT.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    """The targets of the inline links [text](target) outside code."""
    return LINK.findall(CODE_SPAN.sub("", prose(text)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text (code spans' text, links' text), lower
    case, without punctuation but hyphens and underscores, each space a hyphen."""
    text = CODE_SPAN.sub(lambda span: span.group(2).strip(), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in `page`; a repeated one gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    for heading in HEADING.findall(prose(page.read_text(encoding="utf-8"))):
        base, n = slug(heading), 0
        while (anchor := base if n == 0 else f"{base}-{n}") in found:
            n += 1
        found.add(anchor)
    return found


def broken(page: Path, target: str) -> str | None:
    """Why the link `target` in `page` leads nowhere, or None."""
    parts = urllib.parse.urlsplit(target)
    if parts.scheme:
        ok = parts.scheme in ("http", "https") and parts.netloc and "." in parts.netloc
        return None if ok else f"not a well-formed http(s) address: {target}"
    path, _, anchor = target.partition("#")
    goal = (page.parent / urllib.parse.unquote(path)).resolve() if path else page
    if not goal.exists():
        return f"no file {goal.relative_to(ROOT) if goal.is_relative_to(ROOT) else goal}"
    if not goal.is_relative_to(ROOT):
        return f"outside the repository: {target}"
    if anchor and (goal.suffix != ".md" or anchor not in anchors(goal)):
        return f"no heading #{anchor} in {goal.relative_to(ROOT)}"
    return None


def quick_start_commands() -> list[str]:
    """The lines of the first code block under the README's "## Quick start"."""
    section = README.read_text(encoding="utf-8").split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = FENCE.search(section)
    assert block, "the quick start has no code block"
    return [line.strip() for line in block.group(0).splitlines()[1:-1] if line.strip()]


def test_the_readme_is_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move the detail into docs/"


def test_the_quick_start_is_the_two_make_commands_ci_runs():
    """One sets up and runs the pipeline on the default config, one sets up and runs the tests."""
    assert quick_start_commands() == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipes = dict(re.findall(r"^(run|test): setup\n\t(.+)$", makefile, flags=re.MULTILINE))
    assert recipes == {"run": "$(BIN)/snakemake --cores all", "test": "$(BIN)/python -m pytest"}
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_leads_somewhere(page):
    found = links(page.read_text(encoding="utf-8"))
    assert found or page != README, "the README links to no page"
    assert [why for target in found if (why := broken(page, target))] == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README.read_text(encoding="utf-8"))}
    assert [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked] == []


def test_anchors_are_computed_as_github_does():
    """The cases these pages use: code spans, apostrophes, colons, a repeated heading."""
    assert slug("A study in `mlflow ui`") == "a-study-in-mlflow-ui"
    assert slug("Copies, moves and a lost `.nndl/`") == "copies-moves-and-a-lost-nndl"
    assert slug("Studies: the chapter's exercises") == "studies-the-chapters-exercises"
    assert slug("What `portable` costs") == "what-portable-costs"
    assert slug("train_chunk and [Numbers](numbers.md)") == "train_chunk-and-numbers"


def test_a_broken_link_is_found():
    """The check itself: a missing file, a missing heading and a malformed address are each named."""
    page = DOCS / "studies.md"
    assert broken(page, "no-such-page.md") == "no file docs/no-such-page.md"
    assert broken(page, "record.md#no-such-heading") == "no heading #no-such-heading in docs/record.md"
    assert broken(page, "#writing-a-study") is None
    assert broken(page, "https://") is not None and broken(page, "ftp://example.org/x") is not None
    assert broken(page, "https://mlflow.org/docs/latest/") is None
