"""The version of mintaka-depends as installed.

The build reads the one version number of all mintaka distributions from
`mintaka/core/_version.py` (see this distribution's pyproject.toml); the installed metadata
carries it, so this stays right even when mintaka-core is installed at another release.
"""

from importlib.metadata import version

__version__ = version("mintaka-depends")
