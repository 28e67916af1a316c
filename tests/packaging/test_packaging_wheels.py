"""Each wheel installs alone into a fresh virtualenv, imports, and pulls in only what it must.

These tests build real wheels and sdists and install them with uv into new virtual
environments on this interpreter, with the package index for third-party requirements
and the freshly built wheels for mintaka siblings.
"""

from __future__ import annotations

import email.parser
import json
import subprocess
import sys
import tarfile
import zipfile
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from uv import find_uv_bin

import mintaka.core

if TYPE_CHECKING:
    from email.message import Message
    from pathlib import Path

    from .conftest import BuiltDistribution

pytestmark = pytest.mark.packaging

UV = find_uv_bin()


def make_venv(path: Path) -> Path:
    """Create a fresh virtual environment at ``path`` and return its interpreter."""
    subprocess.run(
        [UV, "venv", "--quiet", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
    )
    return path / "bin" / "python"


def install(python: Path, dist_dir: Path, *requirements: str) -> None:
    """Install ``requirements`` into the environment of ``python``."""
    command = [UV, "pip", "install", "--quiet", "--python", str(python)]
    subprocess.run(
        [*command, "--find-links", str(dist_dir), *requirements],
        check=True,
        capture_output=True,
        text=True,
    )


def run_python(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in the environment of ``python`` (outside the repository's sources)."""
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False, cwd="/"
    )


def installed_names(python: Path) -> set[str]:
    """The canonical names of every distribution installed in the environment."""
    listing = subprocess.run(
        [UV, "pip", "list", "--python", str(python), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {canonicalize_name(entry["name"]) for entry in json.loads(listing.stdout)}


def wheel_metadata(wheel: Path) -> Message:
    """The core metadata (``METADATA``) stored in a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


EXPECTED_RUNTIME_REQUIREMENTS = {
    "mintaka-core": {"starlette"},
    "mintaka-introspect": {"starlette"},
    "mintaka-router": {"mintaka-core"},
    "mintaka-depends": {"mintaka-core"},
}
EXPECTED_EXTRAS = {
    "mintaka-core": {"fastapi": {"fastapi"}, "opentelemetry": {"opentelemetry-api"}},
    "mintaka-depends": {
        "sqlalchemy": {"sqlalchemy"},
        "testing": {"sqlalchemy", "pytest", "httpx", "httpx2"},
    },
    "mintaka-router": {},
    "mintaka-introspect": {},
}


IMPORTS_WITHOUT_FASTAPI = {
    "mintaka-core": "mintaka.core, mintaka.core.asgi, mintaka.core.starlette",
    "mintaka-introspect": "mintaka.introspect",
}
FRAMEWORKS = {"fastapi", "pydantic", "litestar", "django", "quart", "opentelemetry"}


@pytest.mark.parametrize("name", sorted(IMPORTS_WITHOUT_FASTAPI))
def test_starlette_only_distribution_installs_without_fastapi_or_pydantic(
    name: str, built: dict[str, BuiltDistribution], dist_dir: Path, tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, str(built[name].wheel))

    names = installed_names(python)
    assert canonicalize_name(name) in names
    assert "starlette" in names
    assert "fastapi" not in names
    assert "pydantic" not in names

    module = IMPORTS_WITHOUT_FASTAPI[name]
    result = run_python(
        python,
        f"import sys, {module}; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "module", "missing", "fix"),
    [
        ("mintaka-core", "mintaka.core.fastapi", "fastapi", "pip install 'mintaka-core[fastapi]'"),
        (
            "mintaka-depends",
            "mintaka.depends.sqlalchemy",
            "sqlalchemy",
            "pip install 'mintaka-depends[sqlalchemy]'",
        ),
    ],
)
def test_module_of_an_extra_names_the_install_line_when_the_extra_is_missing(
    name: str,
    module: str,
    missing: str,
    fix: str,
    built: dict[str, BuiltDistribution],
    dist_dir: Path,
    tmp_path: Path,
) -> None:
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, str(built[name].wheel))
    assert missing not in installed_names(python)

    result = run_python(python, f"import {module}")

    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert fix in result.stderr


def test_core_starlette_adapter_serves_a_request_without_fastapi(
    built: dict[str, BuiltDistribution], dist_dir: Path, tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, str(built["mintaka-core"].wheel))
    script = """
import asyncio, contextlib
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from mintaka.core import response_stack
from mintaka.core.starlette import ResponseScopedRoute

events = []

@contextlib.asynccontextmanager
async def resource():
    yield
    events.append("teardown")

async def endpoint(request):
    await response_stack(request).enter_async_context(resource())
    return PlainTextResponse("ok")

app = Starlette(routes=[ResponseScopedRoute("/", endpoint)])

async def main():
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/",
             "query_string": b"", "headers": [], "root_path": "", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        events.append(message["type"])
    await app(scope, receive, send)

asyncio.run(main())
print(events)
"""
    result = run_python(python, script)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['teardown', 'http.response.start', 'http.response.body']"


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("mintaka-router", "mintaka.router"),
        ("mintaka-depends", "mintaka.depends"),
    ],
)
def test_fastapi_distribution_installs_alone_with_its_core_sibling(
    name: str, module: str, built: dict[str, BuiltDistribution], dist_dir: Path, tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, str(built[name].wheel))

    names = installed_names(python)
    mintaka_names = {n for n in names if n.startswith("mintaka")}
    assert mintaka_names == {canonicalize_name(name), "mintaka-core"}
    assert "fastapi" in names
    result = run_python(python, f"import {module}, mintaka.core.fastapi")
    assert result.returncode == 0, result.stderr


def test_introspect_wheel_installs_the_mintaka_routes_command(
    built: dict[str, BuiltDistribution], dist_dir: Path, tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    install(python, dist_dir, str(built["mintaka-introspect"].wheel))

    result = subprocess.run(
        [str(python.parent / "mintaka-routes"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "mintaka-routes" in result.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNTIME_REQUIREMENTS))
def test_wheel_keeps_mintaka_a_namespace_and_ships_py_typed(
    name: str, built: dict[str, BuiltDistribution]
) -> None:
    with zipfile.ZipFile(built[name].wheel) as archive:
        files = set(archive.namelist())
    package = name.removeprefix("mintaka-")

    assert "mintaka/__init__.py" not in files
    assert f"mintaka/{package}/__init__.py" in files
    assert f"mintaka/{package}/py.typed" in files
    assert all(f.startswith(("mintaka/", f"{name.replace('-', '_')}-")) for f in files)


def test_every_distribution_shares_the_one_version(built: dict[str, BuiltDistribution]) -> None:
    versions = {name: wheel_metadata(dist.wheel)["Version"] for name, dist in built.items()}

    assert set(versions.values()) == {mintaka.core.__version__}


def test_sibling_requirements_admit_the_released_version(
    built: dict[str, BuiltDistribution],
) -> None:
    version = Version(mintaka.core.__version__)
    for dist in built.values():
        requirements = [
            Requirement(r) for r in wheel_metadata(dist.wheel).get_all("Requires-Dist") or []
        ]
        for requirement in requirements:
            if requirement.name.startswith("mintaka"):
                assert requirement.specifier.contains(version), (dist.name, requirement)
                assert requirement.url is None, "siblings are required by version, not path"


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNTIME_REQUIREMENTS))
def test_wheel_metadata_names_requirements_python_and_typing(
    name: str, built: dict[str, BuiltDistribution]
) -> None:
    metadata = wheel_metadata(built[name].wheel)
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    runtime = {r.name for r in requirements if r.marker is None}
    extras: dict[str, set[str]] = {}
    for requirement in requirements:
        if requirement.marker is not None:
            extra = str(requirement.marker).split("==")[1].strip().strip("\"'")
            extras.setdefault(extra, set()).add(requirement.name)

    assert metadata["Name"] == name
    assert runtime == EXPECTED_RUNTIME_REQUIREMENTS[name]
    assert extras == EXPECTED_EXTRAS[name]
    if name in {"mintaka-router", "mintaka-depends"}:
        (core,) = (r for r in requirements if r.name == "mintaka-core")
        assert core.extras == {"fastapi"}
    assert metadata["Requires-Python"] == ">=3.11"
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert str(metadata.get_payload()).startswith(f"# {name}")


def test_sdists_carry_sources_readme_and_license_but_not_the_monorepo_tests(
    built: dict[str, BuiltDistribution],
) -> None:
    # The package tests share the monorepo's harness (testing/asgi.py at the root), so
    # they would not run from an unpacked sdist; they stay in the repository.
    for dist in built.values():
        with tarfile.open(dist.sdist) as archive:
            names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        package = dist.name.removeprefix("mintaka-")
        assert {"README.md", "LICENSE", "PKG-INFO", "pyproject.toml"} <= names, dist.name
        assert f"src/mintaka/{package}/__init__.py" in names, dist.name
        assert "src/mintaka/__init__.py" not in names, dist.name
        assert not any(name.startswith("tests/") for name in names), dist.name


def test_long_descriptions_render_on_the_package_index(
    built: dict[str, BuiltDistribution],
) -> None:
    files = [str(p) for dist in built.values() for p in (dist.wheel, dist.sdist)]

    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == len(files)
