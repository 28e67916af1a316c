"""mintaka-router."""

__all__: list[str] = []
