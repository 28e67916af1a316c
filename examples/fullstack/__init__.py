"""A small backend in the style of FastAPI's full-stack template, to adopt mintaka in.

Users and the items they own, SQLModel models, a sync `Session`, CRUD helpers that
commit and refresh as the tutorials teach, and one factory that builds the app two ways:
`create_app(engine, mintaka=False)` with the template's plain `get_db`, and
`create_app(engine, mintaka=True)` after the documented adoption (`transactional_session`
and `ResponseScopedRoute`). The test suite in `tests/fullstack` runs unchanged against both.
"""
