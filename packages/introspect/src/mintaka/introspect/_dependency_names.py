"""Name a dependency the way the user wrote it: by the module-level variable that holds it.

A dependency that a factory made (`get_db = transactional_session(maker)`), a
`functools.partial`, a callable instance, or a `response_scoped_dependency(...)` wrapper
given a name of its own carries the factory's `__qualname__`, and often the factory's
`__module__`: neither says which dependency of the app it is. The user knows it by the
variable they assigned it to, so that variable is looked for, in this order: the module of
the function that declares the dependency, the endpoint's module, the other modules the
app's endpoints and dependencies are defined in, and the other loaded modules of the
endpoints' packages. A function or class defined at module level keeps its own name.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from typing import TYPE_CHECKING, Any

from mintaka.introspect._walk import qualified_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["WRAPPED_MARK", "DependencyNames", "defining_module", "fallback_name"]

# Set by mintaka.depends.response_scoped_dependency: the dependency the wrapper was made from.
WRAPPED_MARK = "__mintaka_wrapped__"


def _unwrap(obj: object) -> object:
    while isinstance(obj, functools.partial):
        obj = obj.func
    return obj


def fallback_name(call: object) -> str:
    """The callable's own `__qualname__` (a partial's function's, an instance's class's)."""
    call = _unwrap(call)
    qualname = getattr(call, "__qualname__", None)
    return qualname if isinstance(qualname, str) else type(call).__qualname__


def _own_name(call: object) -> tuple[str, str] | None:
    """`(qualname, module.qualname)` when that path, followed from the module, is `call`."""
    qualname = getattr(call, "__qualname__", None)
    module_name = getattr(call, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module_name, str):
        return None
    target: object = sys.modules.get(module_name)
    for part in qualname.split("."):
        # Only dictionaries are read: a lookup must not import or compute anything.
        namespace = getattr(target, "__dict__", None)
        if not part.isidentifier() or not isinstance(namespace, types.MappingProxyType | dict):
            return None
        target = namespace.get(part)
    return (qualname, f"{module_name}.{qualname}") if target is call else None


def defining_module(obj: object) -> str | None:
    """The module whose globals `obj`'s code reads: the module its user wrote it in."""
    obj = _unwrap(getattr(obj, WRAPPED_MARK, None) or obj)
    namespace = getattr(obj, "__globals__", None)
    if isinstance(namespace, dict):
        name = namespace.get("__name__")
        return name if isinstance(name, str) else None
    owner = obj if inspect.isclass(obj) else type(obj)
    name = getattr(owner, "__module__", None)
    return name if isinstance(name, str) else None


class DependencyNames:
    """The names of the dependencies of one app, each computed once.

    Args:
        endpoints: The app's endpoints: their modules, and the other loaded modules of
            their packages, are where a dependency's variable is looked for.
        dependencies: The callables the app's routes declare as dependencies: the
            modules that define them by their own names are looked in too.
    """

    def __init__(self, endpoints: Iterable[object], dependencies: Iterable[object]) -> None:
        endpoint_modules = {defining_module(endpoint) for endpoint in endpoints}
        own_modules = {
            getattr(call, "__module__", None) for call in dependencies if _own_name(call)
        }
        modules = {module for module in endpoint_modules | own_modules if isinstance(module, str)}
        self._app_modules = sorted(modules)
        self._packages = frozenset(
            module.partition(".")[0] for module in endpoint_modules if module
        )
        self._names: dict[int, tuple[str, str]] = {}
        self._indexes: dict[str, Mapping[int, str]] = {}
        self._package_modules: list[str] | None = None

    def names(self, call: object, consumer: object, endpoint: object) -> tuple[str, str]:
        """The short and the qualified name of `call`, which `consumer` declares.

        The short name is the variable's name (or the own `__qualname__`), the qualified
        one the same after its module, `module.name`.
        """
        key = id(call)
        if key not in self._names:
            found = _own_name(call) or self._variable(call, consumer, endpoint)
            self._names[key] = found or (fallback_name(call), qualified_name(call))
        return self._names[key]

    def _variable(self, call: object, consumer: object, endpoint: object) -> tuple[str, str] | None:
        for module in self._modules(consumer, endpoint):
            name = self._index(module).get(id(call))
            if name is not None:
                return name, f"{module}.{name}"
        return None

    def _modules(self, consumer: object, endpoint: object) -> Iterable[str]:
        seen: set[str] = set()
        first = [defining_module(consumer), defining_module(endpoint), *self._app_modules]
        for module in first:
            if module is not None and module not in seen:
                seen.add(module)
                yield module
        if self._package_modules is None:
            # The rest of the app's packages: a module that only assigns the dependency
            # (and an Annotated alias of it, imported elsewhere) defines no endpoint.
            self._package_modules = sorted(
                name for name in list(sys.modules) if name.partition(".")[0] in self._packages
            )
        for module in self._package_modules:
            if module not in seen:
                seen.add(module)
                yield module

    def _index(self, module: str) -> Mapping[int, str]:
        """What the callables among `module`'s globals are called there (the first name)."""
        if module not in self._indexes:
            index: dict[int, str] = {}
            namespace: Any = getattr(sys.modules.get(module), "__dict__", None)
            for name, value in dict(namespace or {}).items():
                if not name.startswith("__") and callable(value):
                    index.setdefault(id(value), name)
            self._indexes[module] = index
        return self._indexes[module]
