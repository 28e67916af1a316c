"""Prepare a release of every mintaka distribution: one version, built and checked.

Run it as ``hatch run release:prepare VERSION``. It

1. writes VERSION into ``packages/core/src/mintaka/core/_version.py``, the one version
   number all four distributions are built with, and into every requirement one
   distribution has on a sibling (``mintaka-core[fastapi]~=VERSION``);
2. builds the sdist of each distribution into ``dist/``, and its wheel from that sdist;
3. checks them: ``twine check --strict`` on every file, and each wheel installed alone into
   a fresh virtual environment, where it imports and reports VERSION.

It commits, tags and uploads nothing: review the diff, commit, tag and publish by hand
(CONTRIBUTING.md, "Releasing"). Run again with the current version to rebuild and
recheck without changing a file.

Example:
    ```console
    $ hatch run release:prepare 0.2.0
    ```
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parents[1]
VERSION_FILE = Path("packages/core/src/mintaka/core/_version.py")
# Each distribution, by the folder under packages/ it is built from.
DISTRIBUTIONS = {
    "mintaka-core": "core",
    "mintaka-router": "router",
    "mintaka-depends": "depends",
    "mintaka-introspect": "introspect",
}
_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)


class ReleaseError(Exception):
    """A release cannot be prepared as asked; the message says why and what to do."""


def read_version(root: Path) -> str:
    """The version every distribution of the tree at ``root`` is built with.

    Args:
        root: The top of a mintaka tree (the folder holding ``packages/``).

    Returns:
        The value of ``__version__`` in ``packages/core/src/mintaka/core/_version.py``.

    Raises:
        ReleaseError: The version file has no ``__version__ = "..."`` line.
    """
    match = _VERSION_LINE.search((root / VERSION_FILE).read_text())
    if match is None:
        raise ReleaseError(f'{VERSION_FILE} has no line of the form __version__ = "X.Y.Z"')
    return match["version"]


def _release_version(text: str, current: str) -> Version:
    """``text`` as the next version, or a ReleaseError saying what is wrong with it."""
    try:
        version = Version(text)
    except InvalidVersion:
        raise ReleaseError(
            f"{text!r} is not a version number (PEP 440); write it like 0.2.0"
        ) from None
    if str(version) != text:
        raise ReleaseError(f"write the version in its normal form: {version}, not {text}")
    if len(version.release) != 3:  # noqa: PLR2004 - major.minor.patch
        raise ReleaseError(
            f"write the version as major.minor.patch, for example 0.2.0, not {text}: sibling "
            f"pins are written ~=VERSION, which admits that minor version's patches only"
        )
    if version < Version(current):
        raise ReleaseError(f"{text} is older than the current version {current}")
    return version


def _sibling_pins(pyproject: Path, current: str) -> list[str]:
    """Every requirement on a sibling distribution in ``pyproject``, as written there.

    Raises:
        ReleaseError: A sibling is required in a form other than ``~=<current version>``.
    """
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    pins = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise ReleaseError(f"{pyproject}: {error}") from None
        if requirement.name not in DISTRIBUTIONS:
            continue
        if list(requirement.specifier) != [Specifier(f"~={current}")]:
            extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
            raise ReleaseError(
                f"{pyproject}: {text!r} requires a sibling in a form this script does not "
                f"rewrite; write it {requirement.name}{extras}~={current}"
            )
        pins.append(text)
    return pins


def bump(root: Path, new: str) -> list[Path]:
    """Write ``new`` as the version of every distribution in the tree at ``root``.

    The version file gets the new ``__version__`` and every sibling requirement in
    ``packages/*/pyproject.toml`` becomes ``~=new`` (extras kept). Nothing is written
    unless every file can be rewritten.

    Args:
        root: The top of a mintaka tree (the folder holding ``packages/``).
        new: The version to release, ``major.minor.patch`` with an optional pre-release
            or post-release part; not older than the current one.

    Returns:
        The files that changed, none if ``new`` is already the current version.

    Raises:
        ReleaseError: ``new`` is not a usable version, or a sibling pin is written in a
            form the script does not rewrite.

    Example:
        >>> bump(Path("."), "0.2.0")  # doctest: +SKIP
        [PosixPath('packages/core/src/mintaka/core/_version.py'), ...]
    """
    current = read_version(root)
    _release_version(new, current)
    rewrites: dict[Path, str] = {}
    version_file = root / VERSION_FILE
    rewrites[version_file] = _VERSION_LINE.sub(f'__version__ = "{new}"', version_file.read_text())
    for folder in DISTRIBUTIONS.values():
        pyproject = root / "packages" / folder / "pyproject.toml"
        text = pyproject.read_text()
        for pin in _sibling_pins(pyproject, current):
            text = text.replace(f'"{pin}"', f'"{pin.replace(f"~={current}", f"~={new}")}"')
        rewrites[pyproject] = text
    changed = [path for path, text in rewrites.items() if path.read_text() != text]
    for path in changed:
        path.write_text(rewrites[path])
    return changed


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run ``command``; on failure raise a ReleaseError carrying its output."""
    result = subprocess.run(  # noqa: S603 - the commands are this script's own
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise ReleaseError(f"{shown} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def build(root: Path, out: Path) -> list[Path]:
    """Build the sdist of every distribution into ``out``, then its wheel from that sdist.

    Building the wheel from the unpacked sdist proves each sdist is complete on its own.

    Args:
        root: The top of a mintaka tree.
        out: The folder the files are written to; emptied first.

    Returns:
        The sdists and wheels built, sorted by name.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for folder in DISTRIBUTIONS.values():
        _run(
            sys.executable, "-m", "build", "--no-isolation", "--outdir", out,
            cwd=root / "packages" / folder,
        )  # fmt: skip
    return sorted([*out.glob("*.tar.gz"), *out.glob("*.whl")])


def check(out: Path, version: str) -> None:
    """Check the files in ``out`` the way the package index and a user would meet them.

    ``twine check --strict`` must pass on every file, and each wheel must install alone
    into a fresh virtual environment (its mintaka siblings found in ``out``, everything
    else on the package index) and import; it and every sibling it pulled in must report
    ``version``.

    Args:
        out: The folder :func:`build` wrote.
        version: The version every distribution must report.

    Raises:
        ReleaseError: A check failed; the message carries the tool's output.
    """
    from uv import find_uv_bin  # noqa: PLC0415 - only the release environment has it

    uv = find_uv_bin()
    files = sorted([*out.glob("*.tar.gz"), *out.glob("*.whl")])
    if len(files) != 2 * len(DISTRIBUTIONS):
        raise ReleaseError(f"{out} holds {len(files)} files, expected an sdist and a wheel each")
    _run(sys.executable, "-m", "twine", "check", "--strict", *files)
    print(f"ok  twine check --strict passes on all {len(files)} files")
    for name in DISTRIBUTIONS:
        (wheel,) = out.glob(f"{name.replace('-', '_')}-{version}-*.whl")
        module = name.replace("-", ".")
        with tempfile.TemporaryDirectory() as venv:
            _run(uv, "venv", "--quiet", "--python", sys.executable, venv)
            python = Path(venv) / "bin" / "python"
            _run(uv, "pip", "install", "--quiet", "--python", python, "--find-links", out, wheel)
            reported = _run(
                python, "-c",
                f"import importlib.metadata as m, {module}; print(*sorted("
                "f'{d.name}=={d.version}' for d in m.distributions() "
                "if d.name.startswith('mintaka-')))",
                cwd=Path(venv),
            ).split()  # fmt: skip
        installed = dict(line.split("==") for line in reported)
        if installed.get(name) != version or set(installed.values()) != {version}:
            raise ReleaseError(
                f"{wheel.name} installs as {' '.join(reported)}; every mintaka distribution "
                f"must be {version}"
            )
        print(f"ok  {wheel.name} installs alone and imports {module}")


def main(argv: list[str] | None = None) -> int:
    """Bump, build and check; print what to do next. Returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="hatch run release:prepare",
        description="Write VERSION everywhere, build every sdist and wheel, check them.",
    )
    parser.add_argument("version", help="the version to release, for example 0.2.0")
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="default: dist/")
    args = parser.parse_args(argv)
    try:
        changed = bump(REPO, args.version)
        for path in changed:
            print(f"wrote {path.relative_to(REPO)}")
        files = build(REPO, args.dist)
        print(f"built {len(files)} files into {args.dist}")
        check(args.dist, args.version)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"\n{args.version} is ready in {args.dist}. Next, by hand: add the CHANGELOG.md "
        f"section, review `git diff`, commit, tag v{args.version}, then upload "
        f"(CONTRIBUTING.md, 'Releasing')."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
