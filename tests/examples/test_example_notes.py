"""The README's main job, ``hatch run example``, works as written: on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.server


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
