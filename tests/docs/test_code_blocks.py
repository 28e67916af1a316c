"""No Python code block on the site can silently rot.

Every fenced ``python`` block of every page under docs/ (and of every Markdown file a page
includes whole, such as the package READMEs) must be one of:

- **included** from a real file: its body is only ``--8<-- "path"`` lines (pymdownx.snippets;
  ``check_paths`` fails the build when the file is missing). The files live under
  docs/examples/ or examples/, and tests/docs/test_examples.py imports and exercises them;
- **a copy of an example file**, for Markdown that is shown where snippets cannot run (a
  package README on the package index): the line before the fence is
  ``<!-- example: docs/examples/PATH.py -->`` and the body equals that file;
- **marked as a fragment** on its fence, visibly: ```` ```python title="Fragment: WHY" ````
  (the title is shown above the block, so the reader knows it does not run as it is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PYTHON = {"python", "py", "python3", "py3", "pycon"}

# Pages other branches are rewriting right now. The lead empties this list when they are
# merged and converted; a page listed here that is already clean fails, so the list only
# shrinks.
PENDING: set[str] = set()

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
FRAGMENT_TITLE = re.compile(r'title="Fragment: [^"]+"')
EXAMPLE_COMMENT = re.compile(r"^\s*<!-- example: (?P<path>\S+) -->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    line: int
    language: str
    info: str
    body: str
    before: str  # the nearest non-blank line above the fence


def blocks(markdown: str) -> list[Block]:
    """Every fenced code block of ``markdown``, nested ones (in admonitions) included."""
    found = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        info = opening["info"].strip()
        body = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            body.append(lines[end].removeprefix(indent))
            end += 1
        before = next((line for line in reversed(lines[:index]) if line.strip()), "")
        language = info.split()[0].lstrip(".{").lower() if info else ""
        found.append(Block(index + 1, language, info, "\n".join(body) + "\n", before))
        index = end + 1
    return found


def problems(path: Path) -> list[str]:
    """Why each Python block of ``path`` is neither included, a checked copy nor a fragment."""
    found = []
    for block in blocks(path.read_text(encoding="utf-8")):
        if block.language not in PYTHON:
            continue
        lines = [line for line in block.body.splitlines() if line.strip()]
        if lines and all(INCLUDE.match(line) for line in lines):
            continue
        if FRAGMENT_TITLE.search(block.info):
            continue
        example = EXAMPLE_COMMENT.match(block.before)
        if example:
            source = REPO / example["path"]
            if not source.is_file():
                found.append(f"line {block.line}: {example['path']} does not exist")
            elif source.read_text(encoding="utf-8") != block.body:
                found.append(f"line {block.line}: differs from {example['path']}; copy it again")
            continue
        found.append(
            f"line {block.line}: a python block that is neither included (--8<--), a copy "
            'of an example file (<!-- example: PATH -->) nor marked title="Fragment: ..."'
        )
    return found


def pages() -> list[str]:
    """Every page of the site, and every Markdown file a page includes whole."""
    found = set()
    for page in DOCS.rglob("*.md"):
        if DOCS / "examples" in page.parents:
            continue
        found.add(page.relative_to(REPO).as_posix())
        for line in page.read_text(encoding="utf-8").splitlines():
            include = INCLUDE.match(line)
            if include and include["path"].endswith(".md"):
                found.add(include["path"].split(":")[0])
    return sorted(found)


@pytest.mark.parametrize("page", pages())
def test_every_python_block_is_a_real_file_or_marked_as_a_fragment(page: str) -> None:
    found = problems(REPO / page)
    if page in PENDING:
        if not found:
            pytest.fail(f"{page} is clean now: remove it from PENDING in {__file__}")
        pytest.xfail(f"{page} is pending conversion (PENDING): " + "; ".join(found))
    assert not found, f"{page}:\n" + "\n".join(found)


def test_the_checker_tells_each_kind_of_block_apart(tmp_path: Path) -> None:
    example = "docs/examples/home/app.py"
    copy = (REPO / example).read_text(encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        f'```python\n--8<-- "{example}"\n```\n\n'
        '```python title="Fragment: the endpoint only"\nasync def f(): ...\n```\n\n'
        '!!! note\n    ```python\n    --8<-- "x.py"\n    ```\n\n'
        f"<!-- example: {example} -->\n```python\n{copy}```\n\n"
        f"<!-- example: {example} -->\n```python\nprint('stale')\n```\n\n"
        "<!-- example: docs/examples/gone.py -->\n```python\nprint('gone')\n```\n\n"
        "```console\n$ anything\n```\n\n"
        "```python\nundefined_name()\n```\n"
    )
    found = problems(page)
    assert len(found) == 3, found
    assert "differs from docs/examples/home/app.py" in found[0]
    assert "docs/examples/gone.py does not exist" in found[1]
    assert "neither included" in found[2]
