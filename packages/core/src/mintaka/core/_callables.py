"""How every mintaka package names a callable and reads its annotations.

Route endpoints and dependencies come in the same shapes: functions, `functools.partial`
objects, bound methods, callable objects, classes and decorated functions that carry
`__wrapped__`. The router and the dependency wrapper name them in error messages and
resolve their annotations through this module, so both say the same thing about the
same callable.

Naming: `module.qualname` of what the user wrote. A partial is named after the function
it wraps; a bound method is `module.Class.method`; a callable object is
`module.Class instance`, so it cannot be mistaken for the class; `builtins.` is left
out. `__wrapped__` is not followed: `functools.wraps` already copies the wrapped function's
name onto the wrapper, and a decorator that renames on purpose is believed.

Annotations: those of the signature `inspect.signature` reports (which is what FastAPI
reads: it follows partials and `__wrapped__`, and stops at `__signature__`), evaluated
one by one with `typing.get_type_hints(include_extras=True)` against the globals of the
function that wrote them. That resolves string annotations and
`from __future__ import annotations`, nested forward references and `Annotated`
metadata alike. On Python 3.14 the signature is read with deferred annotations left
unevaluated (`annotationlib.Format.FORWARDREF`), so a name that is missing fails in
the evaluation step, where the caller reports it, not inside `inspect.signature`.
Private: FastAPI-free, used by mintaka-router and mintaka-depends.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from typing import Any

if sys.version_info >= (3, 14):  # pragma: no cover - deferred annotations (PEP 649)
    from annotationlib import Format

__all__ = [
    "annotation_namespace",
    "callable_name",
    "resolve_annotation",
    "signature_of",
    "signature_owner",
]


def callable_name(obj: object) -> str:
    """Name `obj` for an error message: `app.items.read`, `app.deps.Pool instance`."""
    target: Any = obj
    while isinstance(target, functools.partial):
        target = target.func
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    suffix = ""
    if not isinstance(name, str):
        target = type(target)
        name = target.__qualname__
        suffix = " instance"
    module = getattr(target, "__module__", None)
    prefix = f"{module}." if isinstance(module, str) and module != "builtins" else ""
    return f"{prefix}{name}{suffix}"


def signature_of(obj: Any) -> inspect.Signature:
    """The signature FastAPI sees, with annotations as written (strings stay strings).

    Raises:
        TypeError: `obj` is not callable.
        ValueError: `obj` has no signature that can be read.
    """
    if sys.version_info >= (3, 14):  # pragma: no cover - deferred annotations (PEP 649)
        return inspect.signature(obj, annotation_format=Format.FORWARDREF)
    return inspect.signature(obj)


def signature_owner(obj: Any) -> Any:
    """The function whose parameters and annotations `signature_of(obj)` reports."""
    target: Any = obj
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, types.MethodType):
        target = target.__func__
    elif callable(target) and not inspect.isclass(target) and not inspect.isroutine(target):
        target = type(target).__call__
    return inspect.unwrap(target, stop=lambda f: hasattr(f, "__signature__"))


def annotation_namespace(obj: Any) -> dict[str, Any]:
    """The module globals the annotations of `obj` were written against."""
    owner = signature_owner(obj)
    namespace = getattr(owner, "__globals__", None)
    if isinstance(namespace, dict):
        return namespace
    module = sys.modules.get(getattr(owner, "__module__", None) or "")
    return vars(module) if module is not None else {}


def resolve_annotation(annotation: Any, namespace: dict[str, Any]) -> Any:
    """Evaluate one annotation (a string, a forward reference, or a type) in `namespace`.

    Raises:
        NameError: The annotation names something `namespace` does not define.
        Exception: Whatever evaluating the annotation raises otherwise.
    """
    holder = types.SimpleNamespace(__annotations__={"value": annotation})
    return typing.get_type_hints(holder, globalns=namespace, include_extras=True)["value"]
