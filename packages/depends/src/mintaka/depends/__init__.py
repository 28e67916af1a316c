"""mintaka-depends."""

__all__: list[str] = []
