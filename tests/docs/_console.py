"""Helpers for the documentation tests: console transcripts and files imported by path."""

from __future__ import annotations

import importlib.util
import shlex
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
DOCUMENTED_ADDRESS = "localhost:8000"


@dataclass(frozen=True)
class Step:
    """One ``$ command`` of a transcript and the lines the page says it prints."""

    command: str
    output: str


def read_transcript(path: Path) -> list[Step]:
    """Split a ``.console`` file into its commands and their expected output."""
    steps: list[Step] = []
    command: str | None = None
    output: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("$ "):
            if command is not None:
                steps.append(Step(command, "\n".join(output)))
            command, output = line[2:], []
        else:
            output.append(line)
    if command is not None:
        steps.append(Step(command, "\n".join(output)))
    return steps


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(python: Path | str, app_dir: Path, app: str = "main:app") -> Iterator[str]:
    """Run ``uvicorn APP`` with ``python`` in ``app_dir``; yield its ``host:port``."""
    port = free_port()
    command = [str(python), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=app_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://{address}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read() if server.stdout else ""
                    raise RuntimeError(f"uvicorn did not start: {output}") from None
                time.sleep(0.1)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def replay(steps: list[Step], address: str) -> list[Step]:
    """Run each ``curl`` step against ``address``; return the steps with what they printed."""
    seen = []
    for step in steps:
        argv = shlex.split(step.command.replace(DOCUMENTED_ADDRESS, address))
        assert argv[0] == "curl", f"only curl commands can be replayed: {step.command}"
        result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30)
        seen.append(Step(step.command, result.stdout.rstrip("\n")))
    return seen


def import_file(path: Path, name: str) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module called ``name``.

    Its folder is importable while it runs, as when it is run as a script.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module
