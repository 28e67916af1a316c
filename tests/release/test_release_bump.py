"""The release script writes one version everywhere, on a copy of the real tree."""

from __future__ import annotations

import shutil
import tomllib
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from scripts.release import DISTRIBUTIONS, REPO, VERSION_FILE, ReleaseError, bump, read_version

if TYPE_CHECKING:
    from pathlib import Path

PYPROJECTS = [f"packages/{folder}/pyproject.toml" for folder in DISTRIBUTIONS.values()]
TREE_FILES = [str(VERSION_FILE), *PYPROJECTS]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files a release rewrites, copied from this repository to the same places."""
    for name in TREE_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, tmp_path / name)
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {name: (root / name).read_text() for name in TREE_FILES}


def sibling_requirements(root: Path) -> list[tuple[str, Requirement]]:
    found: list[tuple[str, Requirement]] = []
    for name in PYPROJECTS:
        project = tomllib.loads((root / name).read_text())["project"]
        texts = [*project["dependencies"]]
        for extra in project.get("optional-dependencies", {}).values():
            texts.extend(extra)
        found.extend((name, r) for r in map(Requirement, texts) if r.name in DISTRIBUTIONS)
    return found


def next_minor(version: str) -> str:
    major, minor, _ = Version(version).release
    return f"{major}.{minor + 1}.0"


def test_the_tree_has_sibling_pins_to_rewrite(tree: Path) -> None:
    assert len(sibling_requirements(tree)) >= 2


def test_bump_writes_the_version_and_every_sibling_pin_and_nothing_else(tree: Path) -> None:
    old = read_version(tree)
    new = next_minor(old)
    before = snapshot(tree)
    old_requirements = sibling_requirements(tree)

    changed = bump(tree, new)

    assert read_version(tree) == new
    pinning = {name for name, _ in old_requirements}
    assert sorted(changed) == sorted(tree / name for name in [str(VERSION_FILE), *pinning])
    new_requirements = sibling_requirements(tree)
    assert [(f, r.name, r.extras) for f, r in new_requirements] == [
        (f, r.name, r.extras) for f, r in old_requirements
    ]
    for _, requirement in new_requirements:
        assert requirement.specifier.contains(new), requirement
        assert not requirement.specifier.contains(old), requirement
        assert not requirement.specifier.contains(next_minor(new)), requirement
    after = snapshot(tree)
    for name in TREE_FILES:
        differing = [
            (a, b)
            for a, b in zip(before[name].splitlines(), after[name].splitlines(), strict=True)
            if a != b
        ]
        assert all(a.replace(old, new) == b for a, b in differing), name


def test_bump_to_the_current_version_changes_nothing(tree: Path) -> None:
    before = snapshot(tree)

    assert bump(tree, read_version(tree)) == []
    assert snapshot(tree) == before


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("banana", "'banana' is not a version number"),
        ("0.2", "write the version as major.minor.patch"),
        ("0.2.0-rc.1", "normal form: 0.2.0rc1"),
        ("0.0.1", "older than the current version"),
    ],
)
def test_bump_refuses_a_version_it_cannot_release_and_writes_nothing(
    tree: Path, version: str, message: str
) -> None:
    before = snapshot(tree)

    with pytest.raises(ReleaseError, match=message):
        bump(tree, version)

    assert snapshot(tree) == before


def test_bump_refuses_a_sibling_pin_it_would_not_rewrite_and_names_the_fix(tree: Path) -> None:
    old = read_version(tree)
    pyproject = tree / "packages" / "router" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f"~={old}", f">={old}"))
    before = snapshot(tree)

    with pytest.raises(ReleaseError, match=rf"router.*write it mintaka-core\[fastapi\]~={old}"):
        bump(tree, next_minor(old))

    assert snapshot(tree) == before
