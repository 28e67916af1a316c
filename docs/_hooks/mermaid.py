"""Serve mermaid.js from the site itself, so diagrams render without the internet.

mkdocs-material loads mermaid from a CDN unless a global ``mermaid`` already exists. The
site lists ``assets/vendor/mermaid.min.js`` in ``extra_javascript``; this hook puts that file
there before the build: the pinned release of the ``mermaid`` package from the npm registry
(``npm pack``), its checksum verified. The file is not committed (it is 3 MB of minified
JavaScript); it is fetched once per checkout and kept in ``docs/assets/vendor/``.

Offline with no copy yet, the build fails with a message that says how to provide one.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

MERMAID_VERSION = "11.12.2"
# The npm registry's checksum of that release: `npm view mermaid@11.12.2 dist.integrity`.
MERMAID_INTEGRITY = (
    "sha512-n34QPDPEKmaeCG4WDMGy0OT6PSyxKCfy2pJgShP+Qow2KLrvWjclwb"
    "c3yXfSIf4BanqWEhQEpngWwNp/XhZt6w=="
)
VENDORED = Path(__file__).resolve().parents[1] / "assets" / "vendor" / "mermaid.min.js"


class MermaidUnavailableError(RuntimeError):
    """mermaid.js could not be vendored."""


def _integrity(tarball: Path) -> str:
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def vendor_mermaid(target: Path = VENDORED) -> Path:
    """Put the pinned ``mermaid.min.js`` at ``target`` unless it is already there.

    Raises:
        MermaidUnavailableError: npm is missing or the registry cannot be reached, or the
            tarball does not match the pinned checksum.
    """
    stamp = target.with_name("mermaid.version")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == MERMAID_VERSION:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise MermaidUnavailableError(
            f"npm is not installed, so mermaid@{MERMAID_VERSION} cannot be vendored into "
            f"{target}. Install npm (apt-get install npm), or copy dist/mermaid.min.js of that "
            f"release there and write {MERMAID_VERSION} into {stamp}."
        )
    with tempfile.TemporaryDirectory() as folder:
        packed = subprocess.run(  # noqa: S603 - a fixed command: npm, a pinned name
            [npm, "pack", f"mermaid@{MERMAID_VERSION}", "--silent", "--pack-destination", folder],
            capture_output=True,
            text=True,
            check=False,
        )
        if packed.returncode != 0:
            raise MermaidUnavailableError(
                f"npm pack mermaid@{MERMAID_VERSION} failed: {packed.stderr.strip()}"
            )
        tarball = Path(folder) / packed.stdout.strip().splitlines()[-1]
        if _integrity(tarball) != MERMAID_INTEGRITY:
            raise MermaidUnavailableError(f"{tarball.name} does not match the pinned checksum")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/dist/mermaid.min.js")
            if member is None:  # pragma: no cover - the release layout is pinned
                raise MermaidUnavailableError(f"{tarball.name} has no dist/mermaid.min.js")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(member.read())
    stamp.write_text(MERMAID_VERSION + "\n")
    return target


def on_pre_build(**_: Any) -> None:
    """MkDocs hook: make sure the vendored mermaid.js exists before the pages are built."""
    vendor_mermaid()
