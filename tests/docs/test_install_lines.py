"""Every ``pip install`` on the site works on a fresh machine today, or waits for a release.

Nothing is on the package index yet, so a line such as ``pip install mintaka-router``
fails for a reader who copies it. Every ``pip install`` the built site shows, in a code
block or inline, on a page, in a file a page includes or in a docstring the reference
pages render, must be one of:

- **run by the suite**: a command of a transcript under ``docs/examples/install/`` or of
  the Getting started page's ``install.console``. The pages include those files
  (``--8<--``), and packaging tests run each command in a fresh virtual environment: the
  files below ``test_every_checkout_install_line_works_alone`` runs, and the others the
  test named in ``RUN_ELSEWHERE``;
- **marked "once released"**: the paragraph, list item or table cell that holds it says
  "once released", or, for a code block, the paragraph just above it or its section
  heading does.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from uv import find_uv_bin

from tests.docs._console import EXAMPLES, REPO, read_transcript
from tests.docs._site import built_site, pages

INSTALL = EXAMPLES / "install"
# Transcripts whose commands a test of their own runs (with what else the page says about
# them: the wheels they need, the failure next to them); every other one under
# docs/examples/install/ is run line by line below.
INSTALLATION_PAGE_TEST = REPO / "tests" / "packaging" / "test_installation_page.py"
RUN_ELSEWHERE = {
    INSTALL / "checkout.console": INSTALLATION_PAGE_TEST,
    INSTALL / "wheels.console": INSTALLATION_PAGE_TEST,
    INSTALL / "index.console": INSTALLATION_PAGE_TEST,
    EXAMPLES / "getting_started" / "install.console": REPO / "tests/docs/test_getting_started.py",
}
MARK = "once released"

# What each extra brings, to check that a line installed it.
EXTRA_IMPORTS = {
    "fastapi": "mintaka.core.fastapi",
    "opentelemetry": "opentelemetry.trace",
    "sqlalchemy": "mintaka.depends.sqlalchemy",
    "testing": "mintaka.depends.testing",
}
LOCAL = re.compile(r"^\./packages/(?P<folder>\w+)(?:\[(?P<extras>[\w,]+)\])?$")


def transcripts() -> list[Path]:
    """Every install transcript the pages include."""
    return sorted({*INSTALL.glob("*.console"), *RUN_ELSEWHERE})


def commands_the_suite_runs() -> set[str]:
    """The ``pip install`` commands the suite runs, as written in the transcripts."""
    return {
        step.command
        for path in transcripts()
        for step in read_transcript(path)
        if step.command.startswith("pip install ")
    }


@dataclass
class _Block:
    text: list[str] = field(default_factory=list)
    inline_code: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    """One ``pip install`` the site shows, and the text that could say it waits."""

    command: str
    context: str


class _InstallLines(HTMLParser):
    """The ``pip install`` lines of one page: in ``<pre>`` blocks and in inline ``<code>``."""

    BLOCKS = frozenset({"p", "li", "td", "th", "dd", "dt", "summary", "blockquote"})
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self._blocks: list[_Block] = []
        self._heading: list[str] | None = None
        self._section = ""  # the text of the last heading
        self._before = ""  # the text of the last block or heading that closed
        self._pre: list[str] | None = None
        self._code: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre = []
        elif self._pre is not None:
            return
        elif tag == "code":
            self._code = []
        elif tag in self.HEADINGS:
            self._heading = []
        elif tag in self.BLOCKS:
            self._blocks.append(_Block())

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self._pre.append(data)
            return
        if self._code is not None:
            self._code.append(data)
        if self._heading is not None:
            self._heading.append(data)
        for block in self._blocks:
            block.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre is not None:
            context = f"{self._before} {self._section}"
            for raw in "".join(self._pre).splitlines():
                line = raw.strip().removeprefix("$ ")
                if line.startswith("pip install "):
                    self.lines.append(Line(line, f"{line} {context}"))
            self._pre = None
        elif self._pre is not None:
            return
        elif tag == "code" and self._code is not None:
            text = " ".join("".join(self._code).split())
            if "pip install " in text:
                command = text[text.index("pip install ") :]
                if self._blocks:
                    self._blocks[-1].inline_code.append(command)
                else:
                    self.lines.append(Line(command, command))
            self._code = None
        elif tag in self.HEADINGS and self._heading is not None:
            self._section = self._before = "".join(self._heading)
            self._heading = None
        elif tag in self.BLOCKS and self._blocks:
            block = self._blocks.pop()
            text = "".join(block.text)
            self.lines += [Line(command, text) for command in block.inline_code]
            self._before = text


def install_lines(html: str) -> list[Line]:
    """Every ``pip install`` that ``html`` shows."""
    parser = _InstallLines()
    parser.feed(html)
    parser.close()
    return parser.lines


def untested(html: str, tested: set[str]) -> list[str]:
    """The install lines of ``html`` that neither run in the suite nor wait for a release."""
    found = []
    for line in install_lines(html):
        command = line.command.split(" #")[0].strip()
        if command not in tested and MARK not in line.context.lower():
            found.append(command)
    return found


def test_every_install_line_on_the_site_is_tested_or_marked_once_released() -> None:
    site = built_site()
    tested = commands_the_suite_runs()
    found = {
        (page or "index", command)
        for page in pages(site)
        for command in untested((site / page / "index.html").read_text(encoding="utf-8"), tested)
    }
    assert not found, (
        "install lines that fail on a fresh machine today: include a tested transcript "
        f"of docs/examples/install/, or say they work {MARK!r}:\n"
        + "\n".join(f"  {page}: {command}" for page, command in sorted(found))
    )


def test_the_checker_tells_tested_marked_and_untested_lines_apart() -> None:
    html = """
    <h2>From a checkout</h2>
    <pre><code>$ pip install ./packages/introspect
    $ pip install mintaka-introspect</code></pre>
    <p>Once released: <code>pip install 'mintaka-core[fastapi]'</code>.</p>
    <table><tr>
      <td>needs the extra</td><td><code>pip install 'mintaka-core[fastapi]'</code></td>
    </tr></table>
    <p>One <code>pip install</code> for all of them.</p>
    <h2>From the index (once released)</h2>
    <pre><code>pip install mintaka-router  # the router</code></pre>
    """
    assert untested(html, {"pip install ./packages/introspect"}) == [
        "pip install mintaka-introspect",
        "pip install 'mintaka-core[fastapi]'",
    ]


def test_every_transcript_run_elsewhere_is_read_by_its_test() -> None:
    for transcript, test in RUN_ELSEWHERE.items():
        assert transcript.is_file(), transcript
        assert f'"{transcript.stem}"' in test.read_text(encoding="utf-8") or (
            f'"{transcript.name}"' in test.read_text(encoding="utf-8")
        ), f"{test} does not read {transcript}"


def lines_run_here() -> list[pytest.ParameterSet]:
    params = []
    for path in transcripts():
        if path in RUN_ELSEWHERE:
            continue
        for number, step in enumerate(read_transcript(path), start=1):
            name = f"{path.name}:{number}"
            params.append(pytest.param(step.command, id=name))
    return params


def imports_of(arguments: list[str]) -> list[str]:
    """The modules that installing ``arguments`` (from the checkout's root) makes importable."""
    modules = []
    for argument in arguments:
        local = LOCAL.match(argument)
        if local is None:
            modules.append(argument.replace("-", "_"))
            continue
        modules.append(f"mintaka.{local['folder']}")
        modules += [EXTRA_IMPORTS[extra] for extra in (local["extras"] or "").split(",") if extra]
    return modules


@pytest.mark.packaging
@pytest.mark.parametrize("command", lines_run_here())
def test_every_checkout_install_line_works_alone(command: str, tmp_path: Path) -> None:
    """Each line in a fresh virtual environment, from the checkout's root, as the page says.

    ``pip install ARGS`` runs as ``uv pip install ARGS``: the same requirements, faster.
    """
    argv = shlex.split(command)
    assert argv[:2] == ["pip", "install"], f"only pip install lines run here: {command}"
    uv = find_uv_bin()
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), *argv[2:]],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    modules = imports_of(argv[2:])
    result = subprocess.run(
        [str(python), "-c", f"import {', '.join(modules)}"],
        cwd="/",  # outside the checkout, so the sources there cannot stand in
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
