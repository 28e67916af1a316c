"""The response scope on any ASGI framework: one notes service per framework.

Each module builds the same service (`POST /notes` stores a note whose text is unique)
with `mintaka.core.asgi.ResponseScopeMiddleware`, so the note is committed before the
client hears `201`, and a note whose commit fails is never answered with a success. The
docs include these files, and `tests/frameworks` serves each one with uvicorn.
"""
