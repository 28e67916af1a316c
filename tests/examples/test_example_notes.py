"""The README's main job, ``hatch run example``, works as written: on SQLite and PostgreSQL.

`--serve` says where to look and keeps its notes across restarts; a taken port or a bad
or unreachable database is one line on stderr that names the fix, never a traceback.

The demo and `--serve` run as child processes, as the README runs them. The startup
errors and `--help` come from the same `main`, run in this process (`testing.cli`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from examples.notes.__main__ import main
from testing.cli import Completed, run_main

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.server, pytest.mark.once]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m examples.notes`` from the repository root, as the hatch script does."""
    return subprocess.run(
        [sys.executable, "-m", "examples.notes", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_every_promise_held(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    statuses = [line.split("->")[1].split()[0] for line in lines if "->" in line]
    assert statuses == ["201", "200", "409", "200", "204", "404"]
    assert all(line.startswith("ok ") for line in lines if "->" in line)
    assert lines[-1] == "notes demo: every promise held"


def test_notes_demo_commits_before_201_and_refuses_a_duplicate_on_sqlite() -> None:
    assert_every_promise_held(run_demo())


def test_notes_demo_runs_on_postgresql() -> None:
    url = os.environ.get("MINTAKA_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MINTAKA_TEST_POSTGRES_URL is not set; .ci/run sets it")
    assert_every_promise_held(run_demo("--database-url", url))


def free_port() -> int:
    """A port that was free a moment ago (racy, but the kernel rarely hands it out again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(folder: Path, port: int) -> Iterator[list[str]]:
    """`python -m examples.notes --serve` run from `folder`; yields the lines it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.notes", "--serve", "--port", str(port)],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
        else:
            pytest.fail(f"--serve stopped before serving: {lines}")
        wait_until_serving(port)
        yield lines
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0


def wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/notes", timeout=5)
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return
    pytest.fail(f"nothing answers on port {port}")


def test_serve_prints_its_urls_and_keeps_notes_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(tmp_path, port) as printed:
        note = {"slug": "kept", "text": "survives a restart"}
        assert httpx.post(f"{base}/notes", json=note).status_code == 201
    assert any(line.startswith(f"  interactive docs: {base}/docs (") for line in printed)
    assert f"  OpenAPI document: {base}/openapi.json" in printed
    assert (tmp_path / "notes.db").is_file()
    with serving(tmp_path, port):
        assert httpx.get(f"{base}/notes/kept").json() == note


def run_in(folder: Path, *args: str) -> Completed:
    """`python -m examples.notes` with `args`, run in this process from `folder`."""
    return run_main(main, *args, cwd=folder)


def assert_one_line_error(result: Completed, *naming: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in naming:
        assert text in lines[0]


def test_a_taken_port_is_one_line_that_names_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_in(tmp_path, "--serve", "--port", port)
    assert_one_line_error(result, f"port {port}", "--port")


@pytest.mark.parametrize(
    ("args", "naming"),
    [
        (["--database-url", "not a url"], "--database-url 'not a url'"),
        (["--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/test"], "127.0.0.1:1"),
        (["--database-url", "sqlite+aiosqlite:////no/such/folder/notes.db"], "/no/such/folder"),
        (["--database-url", "mysql+nosuchdriver://db"], "'mysql+nosuchdriver://db'"),
        (["--serve", "--database-url", "postgresql+asyncpg://u@127.0.0.1:1/x"], "127.0.0.1:1"),
    ],
)
def test_a_bad_or_unreachable_database_is_one_line_that_names_the_url(
    tmp_path: Path, args: list[str], naming: str
) -> None:
    assert_one_line_error(run_in(tmp_path, *args), naming, "--database-url")


def test_help_says_where_the_notes_are_kept(tmp_path: Path) -> None:
    result = run_in(tmp_path, "--help")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "./notes.db" in result.stdout
    assert "--database-url" in result.stdout


def test_port_without_serve_is_one_line_that_names_serve(tmp_path: Path) -> None:
    assert_one_line_error(run_in(tmp_path, "--port", "8001"), "--port", "--serve")


def test_serve_stops_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    """As when `hatch run example --serve` is stopped by hatch's PID: no server is left."""
    port = free_port()
    launcher = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-m', 'examples.notes', '--serve', "
        f"'--port', '{port}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(child.pid, flush=True)\n"
        "child.wait()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", launcher],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    parent.stdout.close()
    try:
        wait_until_serving(port)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process_exists(server_pid):
            time.sleep(0.1)
        assert not process_exists(server_pid), "the server outlived the process that started it"
    finally:
        if process_exists(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An orphan is reaped by init; until then it is a zombie that no longer serves.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ", 1)[1][0] != "Z"


def test_post_notes_documents_the_errors_it_sends(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from examples.notes.app import create_app

    app = create_app(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    json = {"content-type": "application/json"}
    with TestClient(app) as client:
        documented = client.get("/openapi.json").json()["paths"]["/notes"]["post"]["responses"]
        undecodable = client.post("/notes", content=b"\x1d\xff\xfe", headers=json)
        malformed = client.post("/notes", content=b"{not json", headers=json)
        too_large = client.post("/notes", content=b"x" * 70_000, headers=json)
    assert documented.keys() == {"201", "400", "409", "413", "422"}
    assert undecodable.status_code == 400
    assert "cannot be decoded" in documented["400"]["description"]
    assert malformed.status_code == 422
    assert too_large.status_code == 413
