"""What a user of the test kit gets: the wheels in a fresh venv run a project's suite.

The project is the one the plugin's own tests write (`tests/kit/test_kit_plugin.py`): an
app on a sync SQLite session, a `conftest.py` that lists the plugin, and four tests. Here
it runs on the built wheels of `mintaka-depends[testing]` and `mintaka-router`, with
nothing of the repository on the path.
"""

from __future__ import annotations

import subprocess
import textwrap
from typing import TYPE_CHECKING

import pytest

from tests.kit.test_kit_plugin import APP, CONFTEST, TESTS
from tests.packaging.test_packaging_wheels import install, make_venv

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import BuiltDistribution

pytestmark = pytest.mark.packaging


def test_the_testing_extra_runs_a_projects_suite_with_the_plugin(
    built: dict[str, BuiltDistribution], dist_dir: Path, tmp_path: Path
) -> None:
    assert {"mintaka-depends", "mintaka-router"} <= set(built)
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, "mintaka-depends[testing]", "mintaka-router")
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    (project / "conftest.py").write_text(
        textwrap.dedent(CONFTEST.format(plugins='"mintaka.depends.testing"')), encoding="utf-8"
    )
    (project / "test_notes.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")

    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
