"""The measurement modules; each has a `TITLE` and `run(options) -> section`.

`SECTIONS` lists them in the order the runner runs and the report shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.suite._section import Options

Section = Callable[[Options], dict[str, Any]]


SECTIONS: tuple[str, ...] = (
    "per_request",
    "http",
    "startup",
    "introspection",
    "imports",
    "memory",
    "versions",
)


def load(name: str) -> Section:
    """The `run` function of section `name`."""
    import importlib

    run: Section = importlib.import_module(f"benchmarks.suite.{name}").run
    return run
