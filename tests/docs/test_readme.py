"""The README's install commands are the ones the Installation page shows and the tests run."""

from __future__ import annotations

from tests.docs._console import EXAMPLES, REPO, read_transcript


def readme_commands() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands: set[str] = set()
    for block in text.split("```console\n")[1:]:
        commands.update(line for line in block.split("```")[0].splitlines() if line.strip())
    return commands


def test_readme_install_commands_are_the_tested_ones() -> None:
    tested = {
        step.command
        for name in ("checkout", "wheels")
        for step in read_transcript(EXAMPLES / "install" / f"{name}.console")
    }
    assert tested <= readme_commands()


def test_readme_states_python_and_hatch_versions() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11 or newer" in text
    assert "hatch (1.16 or newer)" in text
