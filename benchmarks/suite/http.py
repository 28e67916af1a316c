"""Item 2: mintaka against plain FastAPI over real HTTP.

Each app runs under uvicorn on 127.0.0.1 in a process of its own; a load generator in
another process (`wrk` where it is installed, else `benchmarks.suite._load`) keeps 16
keep-alive connections busy with `GET /notes`, which reads one row through a
transactional SQLite session: `transactional_session` on a `ResponseScopedRoute` against
FastAPI's `yield` recipe on an `APIRoute`. All servers run for the whole section; the load
goes to one at a time, in interleaved rounds. A canned-response server (no framework)
shows how fast the load generator itself goes: far above the apps, so the apps, not the
client, are what is measured.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.suite import _apps
from benchmarks.suite._section import Group, Options, section
from benchmarks.suite._timing import compare, interleave, variant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

TITLE = "Over real HTTP"

THROUGHPUT_GOAL = 0.98
CONNECTIONS = 16
PATH = "/notes"
ROOT = Path(__file__).resolve().parents[2]

SERVERS = {
    "FastAPI": "fastapi",
    "FastAPI (A/A copy)": "fastapi",
    "mintaka": "mintaka",
    "canned response (load generator ceiling)": "canned",
}


@contextlib.contextmanager
def server(kind: str, directory: Path) -> Iterator[int]:
    """Run `python -m benchmarks.suite._serve kind`; yield its port; stop it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.suite._serve", kind, str(directory)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise SystemExit(f"the {kind} server did not start (it printed {line!r})")
        yield int(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def load_wrk(port: int, seconds: float) -> dict[str, Any]:
    """Drive the server with `wrk` (one thread); its figures."""
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    output = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"\s50%\s+(\S+)", output)
    p99 = re.search(r"\s99%\s+(\S+)", output)
    if rate is None or p50 is None or p99 is None:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_second": float(rate.group(1)),
        "p50_ms": _wrk_ms(p50.group(1)),
        "p99_ms": _wrk_ms(p99.group(1)),
        "errors": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def load_python(port: int, seconds: float) -> dict[str, Any]:
    """Drive the server with `benchmarks.suite._load` in its own process; its figures."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.suite._load",
            str(port),
            PATH,
            str(seconds),
            str(CONNECTIONS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def run(options: Options) -> dict[str, Any]:
    """Serve, load, compare; the section for results.json."""
    # The quick run (part of the test suite) uses the Python load generator: CI needs no wrk.
    use_wrk = shutil.which("wrk") is not None and not options.quick
    load: Callable[[int, float], dict[str, Any]] = load_wrk if use_wrk else load_python
    tool = "wrk -t1 -c16 --latency" if use_wrk else "benchmarks.suite._load (16 connections)"
    seconds = options.pick(3, 0.3)
    rounds = options.size(5, 1)
    schedule = options.rounds(rounds)
    figures: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVERS}
    with tempfile.TemporaryDirectory(prefix="mintaka-bench-http-") as temporary:
        directory = Path(temporary)
        database = _apps.Database(directory)
        database.sync_engine.dispose()
        with contextlib.ExitStack() as servers:
            ports = {
                name: servers.enter_context(server(kind, directory))
                for name, kind in SERVERS.items()
            }

            def measure(name: str) -> Callable[[], float]:
                def once() -> float:
                    result = load(ports[name], seconds)
                    if result["errors"]:
                        raise SystemExit(f"{name} answered errors under load: {result}")
                    figures[name].append(result)
                    return float(result["requests_per_second"])

                return once

            samples = interleave({name: measure(name) for name in SERVERS}, **schedule)
    for name in SERVERS:
        del figures[name][: len(figures[name]) - schedule["rounds"]]  # drop the warm-up round
    group = Group(f"GET {PATH} with a transactional SQLite session, {tool}")
    for name in SERVERS:
        p50 = [result["p50_ms"] / 1e3 for result in figures[name]]
        p99 = [result["p99_ms"] / 1e3 for result in figures[name]]
        group.variants.append(
            variant(
                name,
                samples[name],
                scale=1,
                unit="requests/s",
                p50_ms=variant("p50", p50, scale=1e3)["median"],
                p99_ms=variant("p99", p99, scale=1e3)["median"],
            )
        )
    group.comparisons = [
        compare(
            "A/A control: FastAPI / the same FastAPI app",
            samples,
            "FastAPI (A/A copy)",
            "FastAPI",
            goal=None,
            higher_is_better=True,
        ),
        compare(
            "throughput: mintaka / FastAPI",
            samples,
            "mintaka",
            "FastAPI",
            goal=THROUGHPUT_GOAL,
            higher_is_better=True,
        ),
        compare(
            "headroom: FastAPI / canned response",
            samples,
            "FastAPI",
            "canned response (load generator ceiling)",
            goal=None,
            note="well below 1: the load generator is not the bottleneck",
        ),
    ]
    return section(
        TITLE,
        f"uvicorn {_version('uvicorn')} on 127.0.0.1, one process per app, load from {tool} "
        f"in another process, {seconds} s per variant and round, {rounds} interleaved rounds "
        "after one warm-up; p50/p99 are the medians of the per-round percentiles.",
        [group],
        load_generator=tool,
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
