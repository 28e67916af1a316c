"""The Getting started page works as written: its app answers exactly as its transcript says."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

from tests.docs._console import EXAMPLES, read_transcript, replay, serving

pytestmark = [pytest.mark.server, pytest.mark.once]

PAGE = EXAMPLES / "getting_started"


def needs_curl() -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the transcript is a curl session")


def test_the_transcript_is_what_the_app_answers(tmp_path: Path) -> None:
    needs_curl()
    shutil.copy(PAGE / "main.py", tmp_path / "main.py")
    steps = read_transcript(PAGE / "transcript.console")
    assert len(steps) >= 5
    with serving(sys.executable, tmp_path) as address:
        assert replay(steps, address) == steps
    assert (tmp_path / "notes.db").is_file()  # the engine URL of the page, relative to the app


@pytest.mark.packaging
def test_a_newcomer_gets_a_working_app_from_the_page_alone(tmp_path: Path) -> None:
    """Follow the page in an empty folder beside a checkout: venv, install line, app, requests."""
    needs_curl()
    (tmp_path / "mintaka").symlink_to(Path(__file__).resolve().parents[2])
    project = tmp_path / "notes"
    project.mkdir()
    install = read_transcript(PAGE / "install.console")
    assert [step.command.split()[0] for step in install] == ["python", ".", "pip"]
    assert install[0].command == "python -m venv .venv"
    uv = find_uv_bin()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, ".venv"], cwd=project, check=True
    )
    # `pip install ARGS` from the page, with uv's pip for speed: the same requirements.
    pip_args = install[2].command.split(maxsplit=2)[2]
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", ".venv/bin/python", *shlex.split(pip_args)],
        cwd=project,
        check=True,
        capture_output=True,
    )
    shutil.copy(PAGE / "main.py", project / "main.py")
    steps = read_transcript(PAGE / "transcript.console")
    with serving(project / ".venv" / "bin" / "python", project) as address:
        assert replay(steps, address) == steps
