"""Read a FastAPI dependency tree through what the installed FastAPI version exposes.

Whether a dependency has a teardown, and its scope, are decided by FastAPI; the functions
that decide moved between versions (public functions of `fastapi.dependencies.utils` up to
0.120, properties of the dependant from 0.121, private functions of
`fastapi.dependencies.models` in the newest), so they are looked up, not assumed.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["InstalledFastAPI", "read_fastapi"]

_PROPERTIES = (property, functools.cached_property)
# For a FastAPI that exposes none of the checks read_fastapi() looks for (no supported one).
_PLAIN_CHECKS = (inspect.isgeneratorfunction, inspect.isasyncgenfunction)


@dataclass(frozen=True)
class InstalledFastAPI:
    """What the installed FastAPI exposes, read once per audit."""

    version: tuple[int, ...]
    version_text: str
    has_teardown: Callable[[Any], bool]
    scope_of: Callable[[Any], str | None]
    parameterless: Callable[..., Any]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def read_fastapi() -> InstalledFastAPI | None:
    """Import FastAPI and read what it exposes; `None` when it is not installed."""
    try:
        import fastapi  # noqa: PLC0415 - only an app with FastAPI routes needs it
        from fastapi.dependencies import models, utils  # noqa: PLC0415
    except ImportError:
        return None
    dependant_class: Any = models.Dependant
    has_teardown: Callable[[Any], bool]
    if isinstance(getattr(dependant_class, "is_gen_callable", None), _PROPERTIES):
        # 0.121 to about 0.160: properties of the dependant.
        def has_teardown(dependant: Any) -> bool:
            return bool(dependant.is_gen_callable or dependant.is_async_gen_callable)
    else:
        # Newest: private functions of the models module; up to 0.120: public in utils.
        is_gen = getattr(models, "_is_gen_callable", None) or getattr(
            utils, "is_gen_callable", None
        )
        is_async_gen = getattr(models, "_is_async_gen_callable", None) or getattr(
            utils, "is_async_gen_callable", None
        )
        checks = (is_gen, is_async_gen) if is_gen and is_async_gen else _PLAIN_CHECKS

        def has_teardown(dependant: Any) -> bool:
            return dependant.call is not None and any(check(dependant.call) for check in checks)

    computed = getattr(models, "_get_computed_scope", None)

    def scope_of(dependant: Any) -> str | None:
        if isinstance(getattr(dependant_class, "computed_scope", None), _PROPERTIES):
            return typing.cast("str | None", dependant.computed_scope)
        if computed is not None:
            return typing.cast("str | None", computed(dependant=dependant))
        return getattr(dependant, "scope", None)

    return InstalledFastAPI(
        version=_version_tuple(fastapi.__version__),
        version_text=fastapi.__version__,
        has_teardown=has_teardown,
        scope_of=scope_of,
        parameterless=utils.get_parameterless_sub_dependant,
    )
