"""The Getting started page works as written: its app answers exactly as its transcript says."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

from mintaka.introspect._cli import main as mintaka_routes
from testing.cli import run_main
from tests.docs._console import EXAMPLES, read_transcript, replay, serving

pytestmark = [pytest.mark.server, pytest.mark.once]

PAGE = EXAMPLES / "getting_started"


def needs_curl() -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the transcript is a curl session")


@pytest.mark.parametrize(
    ("module", "transcript"),
    [("main", "transcript.console"), ("plain", "plain_transcript.console")],
)
def test_the_transcript_is_what_the_app_answers(
    tmp_path: Path, module: str, transcript: str
) -> None:
    needs_curl()
    shutil.copy(PAGE / f"{module}.py", tmp_path / f"{module}.py")
    steps = read_transcript(PAGE / transcript)
    assert len(steps) >= 5
    with serving(sys.executable, tmp_path, f"{module}:app") as address:
        assert replay(steps, address) == steps
    assert (tmp_path / "notes.db").is_file()  # the engine URL of the page, relative to the app


def test_the_two_transcripts_send_the_same_requests_and_differ_after_the_returned_422() -> None:
    mintaka = read_transcript(PAGE / "transcript.console")
    plain = read_transcript(PAGE / "plain_transcript.console")

    assert [step.command for step in mintaka] == [step.command for step in plain]
    differing = [m.command for m, p in zip(mintaka, plain, strict=True) if m.output != p.output]
    assert differing == [
        "curl -s -w ' %{http_code}\\n' localhost:8000/notes",
        "curl -s -w ' %{http_code}\\n' localhost:8000/notes/announced",
    ]
    imported = next(step for step in mintaka if "/notes/import" in step.command)
    assert imported.output.endswith(" 422")


def test_the_audit_finds_nothing_in_the_app_and_names_a_route_without_the_router(
    tmp_path: Path,
) -> None:
    (audit,) = read_transcript(PAGE / "audit.console")
    shutil.copy(PAGE / "main.py", tmp_path / "main.py")
    clean = run_main(mintaka_routes, "--audit", "main:app", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.rstrip("\n").splitlines()[-1] == audit.output

    forgot = (PAGE / "main.py").read_text(encoding="utf-8") + (
        "\n\nfrom fastapi import APIRouter\n\nplain = APIRouter()\n\n\n"
        '@plain.get("/count")\n'
        "async def count_notes(session: Session) -> int:\n"
        "    return len((await session.scalars(select(NoteRow))).all())\n\n\n"
        "app.include_router(plain)\n"
    )
    (tmp_path / "forgot.py").write_text(forgot, encoding="utf-8")
    found = run_main(mintaka_routes, "--audit", "--strict", "forgot:app", cwd=tmp_path)
    assert found.returncode == 1
    assert "error: GET /count: no-response-scope" in found.stdout
    assert "error: GET /count: no-response-scope" in PAGE.parent.parent.joinpath(
        "getting-started.md"
    ).read_text(encoding="utf-8")


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
    (audit,) = read_transcript(PAGE / "audit.console")
    venv_bin = project / ".venv" / "bin"
    printed = subprocess.run(
        ["bash", "-c", audit.command],
        cwd=project,
        env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.rstrip("\n") == audit.output
