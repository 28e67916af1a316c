"""The "Testing your app" page's project runs as its users would run it, and passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.docs._console import EXAMPLES, REPO

if TYPE_CHECKING:
    from pathlib import Path

# A child pytest: the kit's in-process tests cover the FastAPI versions.
pytestmark = pytest.mark.once


def test_the_pages_project_passes_with_the_plugin_it_lists(tmp_path: Path) -> None:
    for name in ("conftest.py", "test_users.py"):
        shutil.copy(EXAMPLES / "testing" / name, tmp_path / name)

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
