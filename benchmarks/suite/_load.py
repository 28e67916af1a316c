"""A load generator in Python, for machines without `wrk`; run in a process of its own.

    python -m benchmarks.suite._load PORT PATH SECONDS CONNECTIONS

Keeps CONNECTIONS keep-alive HTTP/1.1 connections busy with `GET PATH` for SECONDS and
prints one JSON line: requests completed, seconds, and latency percentiles. It parses
only what it needs (status line, `content-length`), so that the server, not the client,
is the bottleneck; the HTTP section shows it by driving a canned-response server too.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time


async def _connection(
    port: int, request: bytes, deadline: float, latencies: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0].decode())
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def drive(port: int, path: str, seconds: float, connections: int) -> dict[str, object]:
    """Run the load; the figures."""
    request = f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "mean_ms": statistics.fmean(latencies) * 1e3,
        "errors": len(errors),
    }


def main(argv: list[str]) -> None:
    port, path, seconds, connections = argv
    figures = asyncio.run(drive(int(port), path, float(seconds), int(connections)))
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
