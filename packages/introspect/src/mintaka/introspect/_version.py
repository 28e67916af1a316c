"""The version of mintaka-introspect: the one number all mintaka distributions share.

The wheel's metadata carries it: the package's pyproject reads it from mintaka-core's
`_version.py` at build time, and mintaka-introspect does not depend on mintaka-core, so
it is read back from the installed metadata rather than imported.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("mintaka-introspect")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0+unknown"
