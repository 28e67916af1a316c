"""The ASGI scope of a plain HTTP request, for the measurement scripts' raw calls."""

from typing import Any


def http_scope(method: str, path: str) -> dict[str, Any]:
    """The scope a server would pass for ``METHOD path`` with no body or query."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"probe")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
