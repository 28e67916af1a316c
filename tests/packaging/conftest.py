"""Build every distribution once per test run, with the release script's own build."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.release import DISTRIBUTIONS, REPO, build


@dataclass(frozen=True)
class BuiltDistribution:
    """The wheel and sdist of one distribution, built from its folder under packages/."""

    name: str
    folder: Path
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist of each distribution, then its wheel from that sdist, once per run.

    `python -m build` builds the wheel from the unpacked sdist, so this also proves the
    sdists are complete (version, README, license) without the rest of the monorepo.

    Under pytest-xdist each worker has a session of its own; the first worker to get here
    builds into the temporary folder all workers share while the others wait on a lock,
    then every worker uses those files.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        out = tmp_path_factory.mktemp("dist")
        build(REPO, out)
        return out
    shared = tmp_path_factory.getbasetemp().parent
    out = shared / "dist"
    with (shared / "dist.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "dist.complete").exists():
            build(REPO, out)
            (shared / "dist.complete").touch()
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
