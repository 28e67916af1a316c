"""Build every distribution once per test session, the way a release would."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "mintaka-core": "core",
    "mintaka-router": "router",
    "mintaka-depends": "depends",
    "mintaka-introspect": "introspect",
}


@dataclass(frozen=True)
class BuiltDistribution:
    """The wheel and sdist of one distribution, built from its folder under packages/."""

    name: str
    folder: Path
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist of each distribution, then its wheel from that sdist.

    `python -m build` builds the wheel from the unpacked sdist, so this also proves the
    sdists are complete (version, README, license) without the rest of the monorepo.
    """
    out = tmp_path_factory.mktemp("dist")
    for folder in DISTRIBUTIONS.values():
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)],
            cwd=REPO / "packages" / folder,
            check=True,
            capture_output=True,
            text=True,
        )
    return out


@pytest.fixture(scope="session")
def built(dist_dir: Path) -> dict[str, BuiltDistribution]:
    """The built files of every distribution, by distribution name."""
    result = {}
    for name, folder in DISTRIBUTIONS.items():
        stem = name.replace("-", "_")
        (wheel,) = dist_dir.glob(f"{stem}-*.whl")
        (sdist,) = dist_dir.glob(f"{stem}-*.tar.gz")
        result[name] = BuiltDistribution(name, REPO / "packages" / folder, wheel, sdist)
    return result
