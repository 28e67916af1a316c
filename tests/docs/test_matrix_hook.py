"""The Compatibility page's version table is read from hatch.toml's test matrix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.docs._console import REPO, import_file

hook = import_file(REPO / "docs" / "_hooks" / "matrix.py", "docs_matrix_hook")


def test_every_version_of_the_real_matrix_is_on_the_page() -> None:
    config = tomllib.loads((REPO / "hatch.toml").read_text())
    versions = {v for table in config["envs"]["compat"]["matrix"] for v in table.get("fastapi", [])}
    newest = re.search(r"\{matrix:fastapi:([^}]+)\}", str(config["envs"]["hatch-test"]))
    assert newest is not None
    versions.add(newest.group(1))
    page = hook.render((REPO / "docs/compatibility.md").read_text(), hook.read_matrix())
    assert "{{" not in page
    for version in versions:
        assert f"| {version} |" in page
    matrix = hook.read_matrix()
    assert matrix.oldest == min(versions, key=lambda v: tuple(map(int, v.split("."))))


def test_matrix_spread_over_tables_in_any_shape(tmp_path: Path) -> None:
    hatch_toml = tmp_path / "hatch.toml"
    hatch_toml.write_text(
        "[envs.hatch-test]\n"
        'extra-dependencies = ["fastapi=={matrix:fastapi:0.200.0}"]\n'
        "[[envs.hatch-test.matrix]]\n"
        'python = "3.11"\n'
        "[[envs.compat.matrix]]\n"
        'python = "3.11"\nfastapi = ["0.110.0", "0.99.1"]\n'
        "[[envs.compat.matrix]]\n"
        'python = ["3.13", "3.12"]\n'
    )
    matrix = hook.read_matrix(hatch_toml)
    assert matrix.fastapi_versions == ["0.99.1", "0.110.0", "0.200.0"]
    assert matrix.cells["0.200.0"] == ("3.11", "3.12", "3.13")
    rendered = hook.render(
        "{{ matrix.oldest }} to {{matrix.newest}} on {{ matrix.pythons }}\n{{ matrix.table }}",
        matrix,
    )
    assert rendered.startswith("0.99.1 to 0.200.0 on 3.11, 3.12 and 3.13\n")
    assert "| 0.200.0 | 3.11, 3.12, 3.13 | the newest release the suite runs on |" in rendered
    assert "| 0.110.0 | 3.11 | the floor;" in rendered


@pytest.mark.parametrize(
    "content",
    [
        "",
        "[envs.hatch-test]\nskip-install = true\n",
        '[[envs.hatch-test.matrix]]\npython = ["3.11"]\n',
        '[[envs.compat.matrix]]\nfastapi = ["0.110.0"]\n',
    ],
)
def test_a_matrix_the_hook_cannot_read_is_an_error(tmp_path: Path, content: str) -> None:
    hatch_toml = tmp_path / "hatch.toml"
    hatch_toml.write_text(content)
    with pytest.raises(hook.MatrixError, match=r"hatch\.toml"):
        hook.read_matrix(hatch_toml)


def test_an_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(hook.MatrixError, match="unknown placeholder"):
        hook.render("{{ matrix.latest }}", hook.read_matrix())


FLOOR_CLAIM = re.compile(r"(\d+\.\d+(?:\.\d+)?)\s+to\s+the\s+newest")


def test_every_stated_floor_is_the_matrix_floor() -> None:
    """READMEs cannot use the placeholders (the package index shows them as they are), so
    the FastAPI floor they state is checked against hatch.toml instead."""
    oldest = hook.read_matrix().oldest
    files = [REPO / "README.md", *sorted((REPO / "packages").glob("*/README.md"))]
    files += sorted((REPO / "docs").rglob("*.md"))
    claims = {
        (path.relative_to(REPO).as_posix(), version)
        for path in files
        for version in FLOOR_CLAIM.findall(path.read_text(encoding="utf-8"))
    }
    assert claims, "no page states the supported range any more"
    wrong = {claim for claim in claims if not oldest.startswith(claim[1])}
    assert not wrong, f"these state a floor other than FastAPI {oldest}: {sorted(wrong)}"
