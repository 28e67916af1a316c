"""Find the app the command line names as `MODULE:ATTR`, with errors that say what to do."""

from __future__ import annotations

import importlib
import traceback
from typing import TYPE_CHECKING, cast

from mintaka.introspect._walk import routes_of

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["AppLoadError", "load_app"]


class AppLoadError(Exception):
    """The app named on the command line could not be found; the message says why."""


def _import_module(module_name: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise AppLoadError(
                f"cannot import module {module_name!r}: {error}. Run mintaka-routes from "
                "the directory your app is imported from, or pass it with --app-dir."
            ) from None
        raise AppLoadError(_import_failed(module_name, error)) from None
    except Exception as error:
        raise AppLoadError(_import_failed(module_name, error)) from None


def _import_failed(module_name: str, error: BaseException) -> str:
    tb = error.__traceback__
    # Start the traceback in the user's code, not in importlib's machinery or ours.
    while tb is not None and (
        tb.tb_frame.f_code.co_filename in (__file__, importlib.__file__)
        or tb.tb_frame.f_code.co_filename.startswith("<frozen ")
    ):
        tb = tb.tb_next
    details = "".join(traceback.format_exception(type(error), error, tb)).rstrip()
    return f"importing module {module_name!r} raised an error:\n{details}"


def _app_names(module: object) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and callable(value)
        and routes_of(value) is not None
        and not isinstance(value, type)
    )


def load_app(spec: str) -> ASGIApp:
    """Import `MODULE:ATTR` (ATTR may be dotted) and return the app or router it names.

    Raises:
        AppLoadError: `spec` is malformed, the module does not import, the attribute is
            missing, or it is not an ASGI app with routes.
    """
    module_name, colon, attr_path = spec.partition(":")
    if not colon or not module_name or not attr_path:
        raise AppLoadError(
            f"{spec!r} does not name an app; write MODULE:ATTR, for example myproject.main:app"
        )
    module = _import_module(module_name)
    target: object = module
    attrs = attr_path.split(".")
    for depth, attr in enumerate(attrs):
        if not hasattr(target, attr):
            owner = f"{module_name}:{'.'.join(attrs[:depth])}" if depth else module_name
            found = _app_names(module) if depth == 0 else []
            hint = f" Apps in {module_name!r}: {', '.join(found)}." if found else ""
            raise AppLoadError(f"{owner!r} has no attribute {attr!r}.{hint}")
        target = getattr(target, attr)
    if not callable(target) or routes_of(target) is None:
        raise AppLoadError(
            f"{spec!r} is {type(target).__module__}.{type(target).__qualname__}, not an "
            "ASGI app with routes: point mintaka-routes at a Starlette or FastAPI app or "
            "router (or middleware around one)."
        )
    return cast("ASGIApp", target)
