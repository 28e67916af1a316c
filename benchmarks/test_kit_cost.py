"""What the test kit costs a suite: rolled-back tests against tables made anew per test.

Writes one project per variant with `--tests` tests (default 200), each creating a user
of the full-stack example app (`examples/fullstack`, sync SQLModel on a SQLite file) and
reading the count back, and runs pytest on each in a child process, the variants
interleaved over `--rounds` rounds. A hook in each project's `conftest.py` times the test
loop alone, so pytest's start-up is left out:

* `kit`: `mintaka.depends.testing`: tables made once; each test in an outer transaction
  that is rolled back. The app is session-scoped in both database variants.
* `recreate`: what suites do without the kit: every table dropped and created again
  before each test, the app's commits real.
* `no database`: the same number of tests, each a request to a route with no session:
  the floor, to tell the kit's per-test overhead.

Run it with `hatch run bench:test-kit` (add `--database-url` for PostgreSQL). It prints
the median test loop of each variant, the ratio recreate / kit (the target is at least 5),
and the kit's cost per test over a test with no database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 5.0

TIMER = """
import os
import time

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["KIT_BENCH_OUT"], "w") as out:
            out.write(str(time.perf_counter() - start))
"""

KIT = """
import os

from sqlmodel import SQLModel, create_engine

from examples.fullstack.app import create_app, create_tables

pytest_plugins = ["mintaka.depends.testing"]


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    default = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}"
    engine = create_engine(os.environ.get("KIT_BENCH_URL") or default)
    SQLModel.metadata.drop_all(engine)  # a fresh test database, once per run
    create_tables(engine)
    return engine


@pytest.fixture(scope="session")
def mintaka_app(engine):
    return create_app(engine, mintaka=True)


@pytest.fixture
def client(mintaka_client):
    return mintaka_client


@pytest.fixture
def count(mintaka_database):
    return lambda: mintaka_database.scalar("SELECT count(*) FROM fullstack_user")
"""

RECREATE = """
import os

from sqlalchemy import text
from sqlmodel import SQLModel, create_engine
from starlette.testclient import TestClient

from examples.fullstack.app import create_app, create_tables


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    default = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}"
    return create_engine(os.environ.get("KIT_BENCH_URL") or default)


@pytest.fixture(scope="session")
def app(engine):
    return create_app(engine, mintaka=True)


@pytest.fixture
def client(engine, app):
    SQLModel.metadata.drop_all(engine)
    create_tables(engine)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def count(engine):
    def count():
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM fullstack_user"))

    return count
"""

NO_DATABASE = """
from fastapi import FastAPI
from starlette.testclient import TestClient


@pytest.fixture(scope="session")
def app():
    app = FastAPI()

    @app.post("/users/")
    def create() -> dict[str, int]:
        return {"id": 1}

    return app


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def count():
    return lambda: 1
"""

TESTS = """
import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_create(client, count, n):
    response = client.post("/users/", json={{"email": f"user{{n}}@example.com"}})
    assert response.status_code == 200
    assert count() == 1
"""

VARIANTS = {"kit": KIT, "recreate": RECREATE, "no database": NO_DATABASE}


def write_project(folder: Path, conftest: str, tests: int) -> None:
    folder.mkdir()
    (folder / "conftest.py").write_text(textwrap.dedent(TIMER) + textwrap.dedent(conftest))
    (folder / "test_users.py").write_text(textwrap.dedent(TESTS.format(tests=tests)))


def run_once(folder: Path, url: str) -> float:
    """Seconds the test loop of the project in `folder` took."""
    out = folder / "loop.txt"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=folder,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "KIT_BENCH_OUT": str(out),
            "KIT_BENCH_URL": url,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{folder.name}: pytest failed\n{result.stdout}{result.stderr}")
    return float(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200, help="tests per project")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each variant")
    parser.add_argument(
        "--database-url",
        default="",
        metavar="URL",
        help="a sync SQLAlchemy URL for both database variants, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test (default: a SQLite file each); "
        "the recreate variant drops and creates the example's tables there",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mintaka-kit-bench-") as tmp:
        folders = {}
        for index, (name, conftest) in enumerate(VARIANTS.items()):
            folders[name] = Path(tmp) / f"variant{index}"
            write_project(folders[name], conftest, args.tests)
        loops: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.rounds):
            for name, folder in folders.items():
                loops[name].append(run_once(folder, args.database_url))
    median = {name: statistics.median(times) for name, times in loops.items()}
    where = args.database_url.split("://")[0] if args.database_url else "SQLite file"
    print(f"{args.tests} tests on {where}, median of {args.rounds} interleaved runs of each")
    for name, seconds in median.items():
        per_test = seconds / args.tests * 1000
        print(f"  {name:<12} {seconds:7.3f} s   {per_test:6.2f} ms per test")
    ratio = median["recreate"] / median["kit"]
    overhead = (median["kit"] - median["no database"]) / args.tests * 1000
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"recreate / kit: {ratio:.2f}x ({verdict} the target of {TARGET:g}x)")
    print(f"the kit's cost per test over a test with no database: {overhead:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
