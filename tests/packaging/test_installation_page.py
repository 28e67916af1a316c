"""Every install command on the Installation page works in a fresh virtual environment.

The page's commands are files under docs/examples/install/, included into the page; these
tests read the same files and run them. ``pip install ARGS`` runs as ``uv pip install ARGS``
(the same requirements, resolved the same way, faster).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from uv import find_uv_bin

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "examples" / "install"
UV = find_uv_bin()
IMPORTS = "import mintaka.router, mintaka.depends.sqlalchemy, mintaka.introspect"


def commands(name: str) -> list[list[str]]:
    """The commands of ``docs/examples/install/NAME.console``, split like a shell would."""
    lines = (PAGE / f"{name}.console").read_text(encoding="utf-8").splitlines()
    assert all(line.startswith("$ ") for line in lines), f"{name}.console: commands only"
    return [shlex.split(line[2:]) for line in lines]


def pip_install(argv: list[str], venv: Path, cwd: Path, *extra: str) -> Path:
    """Run the page's ``pip install ARGS`` into a new venv at ``venv``; return its Python."""
    assert argv[:2] == ["pip", "install"], argv
    subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--python", str(python), *argv[2:], *extra],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return python


def assert_installed(python: Path) -> None:
    """The three documented imports work, outside the checkout's sources."""
    result = subprocess.run(
        [str(python), "-c", IMPORTS], cwd="/", capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_checkout_command_installs_the_siblings_together(tmp_path: Path) -> None:
    (command,) = commands("checkout")
    assert_installed(pip_install(command, tmp_path / "venv", cwd=REPO))


def test_depends_alone_from_a_checkout_fails_as_the_page_says(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        pip_install(["pip", "install", "./packages/depends"], tmp_path / "venv", cwd=REPO)
    assert "mintaka-core" in failure.value.stderr


def test_the_wheels_command_installs_what_build_all_builds(tmp_path: Path, dist_dir: Path) -> None:
    build, install = commands("wheels")
    assert build == ["hatch", "run", "build:all"]
    # dist_dir was built by the command build:all runs for each package; check it is that.
    script = tomllib.loads((REPO / "hatch.toml").read_text())["envs"]["build"]["scripts"]["all"]
    assert "python -m build --no-isolation --outdir {args:dist}" in script
    assert "--find-links" in install
    assert install[install.index("--find-links") + 1] == "dist"
    (tmp_path / "dist").symlink_to(dist_dir)
    assert_installed(pip_install(install, tmp_path / "venv", cwd=tmp_path))


def test_the_index_command_installs_the_released_wheels(tmp_path: Path, dist_dir: Path) -> None:
    # No release exists yet: the same requirements, with the built wheels standing in.
    (command,) = commands("index")
    python = pip_install(command, tmp_path / "venv", tmp_path, "--find-links", str(dist_dir))
    assert_installed(python)
