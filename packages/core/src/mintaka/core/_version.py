"""The one version number that all mintaka distributions are released under."""

__version__ = "0.1.0"
