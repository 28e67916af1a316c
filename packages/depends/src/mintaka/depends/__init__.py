"""mintaka-depends: FastAPI dependencies whose teardown runs before the response is sent.

[`response_scoped_dependency`][mintaka.depends.response_scoped_dependency] puts a
dependency's teardown on the request's response stack, so a commit, a release or a flush
has finished before the client receives the response. The
[`mintaka.depends.sqlalchemy`][mintaka.depends.sqlalchemy] module (extra `[sqlalchemy]`)
builds a transactional SQLAlchemy `AsyncSession` dependency on it.

Example:
    ```python
    from mintaka.depends import response_scoped_dependency

    @response_scoped_dependency
    async def connection() -> AsyncIterator[Connection]:
        async with pool.acquire() as conn:
            yield conn  # released before the response is sent
    ```
"""

from mintaka.depends._version import __version__
from mintaka.depends._wrapper import response_scoped_dependency

__all__ = ["__version__", "response_scoped_dependency"]
