"""The features some measurements need, found at run time; a missing one skips with a reason.

Benchmarks of features that arrive with later releases (or other branches) are written
already: they run as soon as the feature can be imported, and print why they are skipped
until then.
"""

from __future__ import annotations

import importlib
from typing import Any


class Missing(Exception):  # noqa: N818 - "a feature is missing" reads better than MissingError
    """A feature this measurement needs is not available here; the message says which."""


def attribute(module: str, name: str, *, why: str = "") -> Any:
    """`module.name`, or `Missing` naming it (and `why`, such as the issue that adds it)."""
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        suffix = f" ({why})" if why else ""
        raise Missing(f"needs {module}.{name}{suffix}: {error}") from None
    return found


def function_scope(dependency: Any) -> Any:
    """`Depends(dependency, scope="function")`, or `Missing` on FastAPI older than 0.121."""
    from fastapi import Depends

    try:
        return Depends(dependency, scope="function")  # type: ignore[call-arg, unused-ignore]
    except TypeError:
        raise Missing('needs Depends(scope="function"), FastAPI >= 0.121') from None


def has_function_scope() -> bool:
    """Whether this FastAPI has `Depends(scope="function")`."""
    try:
        function_scope(lambda: None)
    except Missing:
        return False
    return True
