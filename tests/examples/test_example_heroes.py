"""FastAPI's SQL tutorial app on mintaka (``python -m examples.heroes``), over uvicorn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.server, pytest.mark.once]


def test_heroes_demo_commits_before_201_and_refuses_a_duplicate_hero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.heroes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    exchanges = [line.split("->")[0].split()[1:] for line in lines if "->" in line]
    statuses = [line.split("->")[1].split()[0] for line in lines if "->" in line]
    assert exchanges == [
        ["POST", "/heroes/"],
        ["GET", "/heroes/1"],
        ["POST", "/heroes/"],
        ["PATCH", "/heroes/1"],
        ["GET", "/heroes/"],
        ["DELETE", "/heroes/1"],
        ["GET", "/heroes/1"],
    ]
    assert statuses == ["201", "200", "409", "200", "200", "200", "404"]
    assert all(line.startswith("ok ") for line in lines if "->" in line)
    assert lines[-1] == "heroes demo: every promise held"
