"""mintaka-introspect."""

__all__: list[str] = []
