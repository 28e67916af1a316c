"""uvicorn in a process of its own, on 127.0.0.1 at a port the kernel picks.

`serve("module:factory", env)` starts `python -m uvicorn module:factory --factory --port 0`
from the repository root, reads the port from uvicorn's "Uvicorn running on" line, waits
until every worker has started and the app answers, and always stops the process (and
its workers) afterwards. The benchmark `benchmarks/read_your_write.py` uses it too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from testing.environ import untraced

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
STARTED = "Application startup complete"


class ServerError(RuntimeError):
    """uvicorn did not come up, or died; the message carries its log."""


@dataclass
class Server:
    """A running uvicorn: where it listens, and what it logged so far."""

    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)
    port: int | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Everything uvicorn logged so far."""
        return "".join(self.log)

    def tail(self, lines: int = 60) -> str:
        """The last `lines` lines uvicorn logged."""
        return "".join(self.log[-lines:])

    def _read_log(self, port_found: threading.Event) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            match = RUNNING.search(line)
            if match and self.port is None:
                self.port = int(match.group(1))
                port_found.set()
        port_found.set()


@contextmanager
def serve(
    app: str, env: Mapping[str, str], *, workers: int = 1, ready_path: str = "/health"
) -> Iterator[Server]:
    """Serve the factory `app` (`module:function`) with uvicorn in a separate process.

    Args:
        app: The app factory, `module:function`, importable from the repository root.
        env: Environment variables for the server process (added to this one's).
        workers: uvicorn's `--workers`; above 1 they share one listening socket.
        ready_path: A `GET` path that answers below 400 once the app can serve.

    Yields:
        The running server, ready for requests.

    Raises:
        ServerError: uvicorn exited or did not start within a minute; the message
            carries its log.
    """
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-access-log",
        "--log-level",
        "info",
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=untraced(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process)
    port_found = threading.Event()
    reader = threading.Thread(target=server._read_log, args=(port_found,), daemon=True)
    reader.start()
    try:
        _wait_until_ready(server, port_found, workers, ready_path)
        yield server
    finally:
        _stop(process)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_ready(
    server: Server, port_found: threading.Event, workers: int, ready_path: str
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    port_found.wait(STARTUP_TIMEOUT)
    while time.monotonic() < deadline:
        if server.process.poll() is not None or server.port is None:
            break
        if server.log_text().count(STARTED) >= workers:
            try:
                response = httpx.get(f"{server.base_url}{ready_path}", timeout=5)
            except httpx.TransportError:
                pass
            else:
                if response.status_code < 400:
                    return
        time.sleep(0.05)
    raise ServerError(f"uvicorn did not start serving:\n{server.log_text()}")


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop uvicorn and its workers: SIGINT to its process group, SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
