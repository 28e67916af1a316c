"""A test kit for apps with transactional sessions: every test rolled back, commits observed.

A pytest plugin, loaded only by projects that ask for it, with
`pytest_plugins = ["mintaka.depends.testing"]` in the top `conftest.py` or
`-p mintaka.depends.testing`; it needs the `[testing]` extra (pytest and httpx). Its
fixtures, all function-scoped:

* `mintaka_app` — yours to define: the app under test.
* `mintaka_database` — an [`OuterTransactions`][mintaka.depends.testing.OuterTransactions]
  for the app: every `transactional_session` of the app's routes joins a transaction the
  test opened on its engine, so the app's commits, rollbacks and failed commits happen in
  savepoints, and everything is rolled back when the test ends.
* `mintaka_client` — a [`RecordingClient`][mintaka.depends.testing.RecordingClient]: a
  Starlette `TestClient` that runs the app's lifespan and records, for each request, the
  order of the commits and the response at the ASGI `send`.
* `mintaka_on_commit` — [`CapturedCallbacks`][mintaka.depends.testing.CapturedCallbacks]:
  the `on_commit` callbacks that would run, kept for the test to look at and run.

Example:
    ```python
    # conftest.py
    import pytest

    from myapp import create_app

    pytest_plugins = ["mintaka.depends.testing"]


    @pytest.fixture
    def mintaka_app():
        return create_app()


    # test_notes.py
    def test_a_note_is_committed_before_the_201(mintaka_client, mintaka_database):
        response = mintaka_client.post("/notes", json={"text": "hello"})

        assert response.status_code == 201
        assert mintaka_client.last.committed_before_response
        assert mintaka_database.scalar("SELECT count(*) FROM notes") == 1
    ```
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

# Starlette 0.x's test client names `anyio.abc.BlockingPortal`, an alias today's anyio
# deprecates: a warning about Starlette's code, which projects that turn warnings into
# errors would otherwise get from importing the kit.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "The anyio.abc.BlockingPortal alias", DeprecationWarning)
    from starlette.testclient import TestClient

from mintaka.core._callables import callable_name as _callable_name
from mintaka.depends import _binding

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from anyio.from_thread import BlockingPortal
    from sqlalchemy.engine import Result

__all__ = [
    "CapturedCallback",
    "CapturedCallbacks",
    "Exchange",
    "KitSetupError",
    "OuterTransactions",
    "RecordingClient",
    "mintaka_app",
    "mintaka_client",
    "mintaka_database",
    "mintaka_on_commit",
]


class KitSetupError(RuntimeError):
    """The test kit cannot do what it was asked: the message says why and what to change.

    Example:
        ```python
        with pytest.raises(KitSetupError, match="no route of the app depends on"):
            OuterTransactions(app_without_transactional_sessions)
        ```
    """


# Discovering the app's sessions ------------------------------------------------------------


def _sessionmaker_of(call: object) -> object | None:
    return getattr(call, "__mintaka_sessionmaker__", None)


def _dependency_calls(app: Any) -> list[object]:
    """Every dependency callable of the app's routes, mounted apps and overrides included."""
    calls: list[object] = []
    seen: set[int] = set()

    def walk_dependant(dependant: Any) -> None:
        for sub in getattr(dependant, "dependencies", ()):
            add(getattr(sub, "call", None))
            walk_dependant(sub)

    def add(call: object) -> None:
        if call is not None and id(call) not in seen:
            seen.add(id(call))
            calls.append(call)

    def walk_routes(routes: Sequence[Any]) -> None:
        for route in routes:
            walk_dependant(getattr(route, "dependant", None))
            # FastAPI 0.137 and newer include a router lazily: an entry that keeps the
            # router, and the dependencies the inclusion adds, apart from its routes.
            context = getattr(route, "include_context", None)
            for depends in getattr(context, "dependencies", None) or ():
                add(getattr(depends, "dependency", None))
            inner = getattr(getattr(route, "original_router", None), "routes", None)
            if inner is None:
                inner = getattr(route, "routes", None)  # a Mount
            if inner is None:
                inner = getattr(getattr(route, "app", None), "routes", None)
            if inner:
                walk_routes(inner)

    walk_routes(getattr(app, "routes", ()))
    overrides = getattr(app, "dependency_overrides", {})
    calls.extend(overrides.get(call, call) for call in list(calls) if call in overrides)
    return calls


def _engine_of(maker: Any, dependency: object) -> Engine | AsyncEngine:
    settings = getattr(maker, "kw", {})
    if settings.get("binds"):
        raise KitSetupError(
            f"mintaka.depends.testing cannot wrap {_callable_name(dependency)}: its sessionmaker "
            "binds each table to an engine of its own (binds=...), and the kit opens one outer "
            "transaction per sessionmaker engine. Give each database its own sessionmaker and "
            "transactional_session."
        )
    bind = settings.get("bind")
    if bind is None:
        raise KitSetupError(
            f"mintaka.depends.testing: the sessionmaker of {_callable_name(dependency)} has no "
            "engine, so there is nothing to open the test's outer transaction on. Make it with "
            "its engine: sessionmaker(engine) or async_sessionmaker(engine)."
        )
    if not isinstance(bind, (Engine, AsyncEngine)):
        raise KitSetupError(
            f"mintaka.depends.testing cannot wrap {_callable_name(dependency)}: its sessionmaker "
            f"is bound to {bind!r}, not to an Engine or AsyncEngine. Bind it to the engine; "
            "the kit makes the connection and the outer transaction itself."
        )
    return bind


# The outer transactions --------------------------------------------------------------------


def _begin_manually(connection: Connection) -> Callable[[], None]:
    """Let SQLAlchemy, not pysqlite, begin SQLite's transactions, so SAVEPOINTs nest.

    Returns what undoes it before the connection goes back to the pool.
    """
    dbapi_connection: Any = connection.connection.dbapi_connection
    previous = dbapi_connection.isolation_level
    dbapi_connection.isolation_level = None

    def emit_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    event.listen(connection, "begin", emit_begin)

    def undo() -> None:
        event.remove(connection, "begin", emit_begin)
        dbapi_connection.isolation_level = previous

    return undo


class _Outer:
    """The outer transaction on one engine, and the sessionmakers that join it."""

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self.engine = engine
        self.makers: list[object] = []
        self.connection: Connection | AsyncConnection | None = None
        self._undo: Callable[[], None] | None = None
        self._pool: object = None

    def begin_sync(self) -> None:
        assert isinstance(self.engine, Engine)
        self._pool = self.engine.pool
        connection = self.engine.connect()
        if connection.dialect.name == "sqlite":
            self._undo = _begin_manually(connection)
        connection.begin()
        self._bind(connection, connection, None)

    async def begin_async(self) -> None:
        assert isinstance(self.engine, AsyncEngine)
        connection = await self.engine.connect()
        if connection.dialect.name == "sqlite":
            self._undo = await connection.run_sync(_begin_manually)
        await connection.begin()
        self._bind(connection, connection.sync_connection, _running_loop())

    def _bind(self, connection: Any, sync: Any, loop: Any) -> None:
        self.connection = connection
        binding = _binding.Binding(connection, sync, loop)
        for maker in self.makers:
            _binding.BOUND[maker] = binding

    def rollback_sync(self) -> None:
        connection = self.connection
        assert isinstance(connection, Connection)
        self._unbind()
        try:
            connection.rollback()
            if self._undo is not None:
                self._undo()
            # An app whose lifespan disposed of the engine replaced its pool: back in the
            # old one, the connection would never be closed (a ResourceWarning on 3.13).
            if self.engine.pool is not self._pool:
                connection.invalidate()
        finally:
            connection.close()

    async def rollback_async(self) -> None:
        connection = self.connection
        assert isinstance(connection, AsyncConnection)
        self._unbind()
        try:
            await connection.rollback()
            if self._undo is not None:
                undo = self._undo
                await connection.run_sync(lambda _: undo())
            # The connection belongs to the portal's event loop, which ends with the test;
            # in the pool it would break the next loop's checkout. A StaticPool's only
            # connection (an in-memory database) must stay.
            assert isinstance(self.engine, AsyncEngine)
            if not isinstance(self.engine.sync_engine.pool, StaticPool):
                await connection.invalidate()
        finally:
            await connection.close()

    def _unbind(self) -> None:
        for maker in self.makers:
            _binding.BOUND.pop(maker, None)


def _running_loop() -> Any:
    import asyncio  # noqa: PLC0415 - only for async engines

    return asyncio.get_running_loop()


class OuterTransactions:
    """One transaction per engine of the app's transactional sessions, rolled back at the end.

    On entering, it finds every `transactional_session` dependency of the app's routes
    (mounted apps and `dependency_overrides` included), opens a connection on each engine
    their sessionmakers are bound to, and begins a transaction on it; until it exits, the
    sessions of those dependencies are made on that connection with
    `join_transaction_mode="create_savepoint"`. The app's own commits then release
    savepoints, its status-aware rollbacks and failed commits roll back to them, and on
    exiting everything is rolled back. Several databases get one outer transaction each.

    Async engines live on the event loop of `portal` (one is started when none is given):
    send the requests with a client on the same portal, as
    [`RecordingClient`][mintaka.depends.testing.RecordingClient] does. Sync engines work
    with any client.

    SQLite's driver begins transactions by itself, which breaks savepoints; on the outer
    connection the kit makes SQLAlchemy emit `BEGIN`, and undoes that before the connection
    goes back to the pool.

    Example:
        ```python
        with OuterTransactions(app) as database:
            TestClient(app).post("/notes", json={"text": "hello"})
            assert database.scalar("SELECT count(*) FROM notes") == 1
        # rolled back: the notes table is as it was
        ```

    Args:
        app: The FastAPI (or Starlette) app under test.
        portal: The blocking portal whose event loop runs the app; started and stopped
            with this object when not given.

    Raises:
        KitSetupError: No route of the app uses a `transactional_session`, or a
            sessionmaker has no engine, or one the kit cannot wrap (a connection, or
            per-table `binds`).
    """

    def __init__(self, app: Any, *, portal: BlockingPortal | None = None) -> None:
        calls = _dependency_calls(app)
        outers: dict[int, _Outer] = {}
        for call in calls:
            maker = _sessionmaker_of(call)
            if maker is None:
                continue
            engine = _engine_of(maker, call)
            outer = outers.setdefault(id(engine), _Outer(engine))
            if maker not in outer.makers:
                outer.makers.append(maker)
        if not outers:
            named = ", ".join(_callable_name(call) for call in calls[:5]) or "none"
            raise KitSetupError(
                f"mintaka.depends.testing: no route of the app {_callable_name(app)} depends on "
                "a mintaka.depends.sqlalchemy.transactional_session, and only those sessions "
                f"can join the test's outer transaction (the app's dependencies: {named}). "
                "Provide the app's sessions with get_db = transactional_session(sessionmaker("
                "engine)), or leave the kit out of this app's tests."
            )
        self._outers = list(outers.values())
        self._given_portal = portal
        self._stack = contextlib.ExitStack()
        self.portal: BlockingPortal | None = portal
        """The portal whose event loop runs async outer transactions (and the client)."""

    @property
    def engines(self) -> list[Engine | AsyncEngine]:
        """The engines with an outer transaction, in the order the app's routes use them."""
        return [outer.engine for outer in self._outers]

    def __enter__(self) -> OuterTransactions:
        if self.portal is None:
            self.portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        portal = self.portal
        try:
            for outer in self._outers:
                if isinstance(outer.engine, AsyncEngine):
                    portal.call(outer.begin_async)
                else:
                    outer.begin_sync()
                self._stack.callback(self._rollback, outer)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def _rollback(self, outer: _Outer) -> None:
        if isinstance(outer.engine, AsyncEngine):
            assert self.portal is not None
            self.portal.call(outer.rollback_async)
        else:
            outer.rollback_sync()

    def connection(
        self, engine: Engine | AsyncEngine | None = None
    ) -> Connection | AsyncConnection:
        """The outer transaction's connection on `engine` (the only one when not given)."""
        connection = self._outer(engine).connection
        assert connection is not None
        return connection

    def execute(self, statement: Any, engine: Engine | AsyncEngine | None = None) -> Result[Any]:
        """Run `statement` (SQL text or a SQLAlchemy statement) in the outer transaction.

        It sees what the app committed, and rolls back with the rest. The rows are fetched
        before it returns, for sync and async engines alike.
        """
        outer = self._outer(engine)
        statement = text(statement) if isinstance(statement, str) else statement
        connection = outer.connection
        if isinstance(connection, AsyncConnection):
            assert self.portal is not None

            async def run() -> Result[Any]:
                result = await connection.execute(statement)
                return result.freeze()()

            return self.portal.call(run)
        assert connection is not None
        return connection.execute(statement).freeze()()

    def scalar(self, statement: Any, engine: Engine | AsyncEngine | None = None) -> Any:
        """The first column of the first row that `execute(statement, engine)` returns."""
        return self.execute(statement, engine).scalar()

    def _outer(self, engine: Engine | AsyncEngine | None) -> _Outer:
        if self._outers[0].connection is None:
            raise KitSetupError(
                "The outer transactions have not begun: use OuterTransactions in `with`."
            )
        if engine is None:
            if len(self._outers) > 1:
                raise KitSetupError(
                    "The app's sessions use several engines; name the one you mean: "
                    f"connection(engine), execute(statement, engine) (engines: {self.engines})."
                )
            return self._outers[0]
        for outer in self._outers:
            if outer.engine is engine:
                return outer
        raise KitSetupError(
            f"No transactional session of the app uses {engine!r}; engines: {self.engines}."
        )


# The client that records the order -------------------------------------------------------


@dataclass
class Exchange:
    """One request a [`RecordingClient`][mintaka.depends.testing.RecordingClient] sent.

    `events` lists, in order, what happened at the ASGI `send` and in the bound sessions:
    `"commit"` and `"rollback"` of a session's transaction, `"response.start"` and
    `"response.body"` for each message the app sent.

    Example:
        ```python
        mintaka_client.post("/notes", json={"text": "hello"})
        assert mintaka_client.last.events == ["commit", "response.start", "response.body"]
        ```
    """

    method: str
    path: str
    events: list[str] = field(default_factory=list)

    @property
    def committed_before_response(self) -> bool:
        """Whether a session committed, and every commit came before `http.response.start`."""
        if "commit" not in self.events or "response.start" not in self.events:
            return False
        start = self.events.index("response.start")
        return all(index < start for index, name in enumerate(self.events) if name == "commit")


class _Recorder:
    """The app, with each request's events recorded into a new `Exchange`."""

    def __init__(self, app: Any, exchanges: list[Exchange]) -> None:
        self.app = app
        self.exchanges = exchanges

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(scope["method"], scope["path"])
        self.exchanges.append(exchange)
        scope[_binding.RECORD_KEY] = exchange.events

        async def recording_send(message: Any) -> None:
            if message["type"] in ("http.response.start", "http.response.body"):
                exchange.events.append(message["type"].removeprefix("http."))
            await send(message)

        await self.app(scope, receive, recording_send)


class RecordingClient(TestClient):
    """A Starlette `TestClient` that records, per request, commits and the response's start.

    Every request runs on `portal`'s event loop (the one async outer transactions live
    on). As a context manager it runs the app's lifespan on that loop too; the lifespan's
    state is not passed to requests.

    Example:
        ```python
        with OuterTransactions(app) as database:
            with RecordingClient(app, portal=database.portal) as client:
                client.post("/notes", json={"text": "hello"})
                assert client.last.committed_before_response
        ```

    Args:
        app: The app under test.
        portal: The blocking portal to run the app on; a new one per request when `None`,
            as a plain `TestClient` does.
        **options: What `TestClient` accepts (`base_url`, `raise_server_exceptions`, ...).
    """

    def __init__(self, app: Any, *, portal: BlockingPortal | None = None, **options: Any) -> None:
        self.exchanges: list[Exchange] = []
        """Every request sent, in order."""
        self._app_under_test = app
        self._lifespan: contextlib.ExitStack | None = None
        with warnings.catch_warnings():
            # Starlette 0.x hands httpx the `app=` shortcut that httpx 0.27 deprecates.
            warnings.filterwarnings("ignore", "The 'app' shortcut is", DeprecationWarning)
            super().__init__(_Recorder(app, self.exchanges), **options)
        self.portal = portal

    @property
    def last(self) -> Exchange:
        """The last request sent."""
        if not self.exchanges:
            raise AssertionError("The RecordingClient has sent no request yet.")
        return self.exchanges[-1]

    def __enter__(self) -> RecordingClient:
        router = getattr(self._app_under_test, "router", None)
        lifespan = getattr(router, "lifespan_context", None)
        stack = self._lifespan = contextlib.ExitStack()
        if self.portal is None:
            self.portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
        if lifespan is not None:
            context = lifespan(self._app_under_test)
            stack.enter_context(self.portal.wrap_async_context_manager(context))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._lifespan is not None:
            self._lifespan.close()
            self._lifespan = None


# Captured on_commit callbacks ---------------------------------------------------------------


@dataclass
class CapturedCallback:
    """An `on_commit` callback whose transaction committed, held instead of run.

    Example:
        ```python
        (callback,) = mintaka_on_commit.callbacks
        assert (callback.name, callback.when) == ("send_welcome", "after_response")
        ```
    """

    function: Callable[[], Any]
    """The callback with its arguments bound."""
    is_async: bool
    when: str
    """`"after_response"` or `"before_response"`, as it was registered."""
    request: str
    """The request that registered it, as the logs name it."""

    @property
    def name(self) -> str:
        """The callback's name, without its arguments."""
        return _callable_name(self.function)


class CapturedCallbacks:
    """The `on_commit` callbacks that would have run, in order; run them when you choose.

    While it is entered, a callback whose transaction commits is appended to `callbacks`
    at the moment it would have run, instead of running. Callbacks of transactions that
    rolled back never appear, as they would never run.

    Example:
        ```python
        def test_the_welcome_mail_waits_for_the_commit(mintaka_client, mintaka_on_commit):
            mintaka_client.post("/users", json={"email": "ada@example.com"})

            assert mintaka_on_commit.names == ["send_welcome"]
            mintaka_on_commit.run()
        ```
    """

    def __init__(self) -> None:
        self.callbacks: list[CapturedCallback] = []
        self._previous: Any = None

    @property
    def names(self) -> list[str]:
        """The names of the captured callbacks, in order."""
        return [callback.name for callback in self.callbacks]

    def __enter__(self) -> CapturedCallbacks:
        self._previous = _binding.capturing
        _binding.capturing = self._capture
        return self

    def __exit__(self, *exc_info: object) -> None:
        _binding.capturing = self._previous

    def _capture(self, due: Sequence[Any], when: str, request: str) -> None:
        self.callbacks.extend(
            CapturedCallback(callback.function, callback.is_async, when, request)
            for callback in due
        )

    def run(self, portal: BlockingPortal | None = None) -> None:
        """Run the captured callbacks in order and forget them; what one raises propagates.

        Args:
            portal: Where to await coroutine callbacks (the loop their resources live on);
                a new event loop each when `None`.
        """
        while self.callbacks:
            callback = self.callbacks.pop(0)
            if not callback.is_async:
                callback.function()
            elif portal is not None:
                portal.call(callback.function)
            else:
                anyio.run(callback.function)


# The pytest fixtures --------------------------------------------------------------------------


@pytest.fixture
def mintaka_app() -> Any:
    """The app under test: define a fixture of this name in your `conftest.py`.

    Function-scoped. The plugin's own definition only raises
    [`KitSetupError`][mintaka.depends.testing.KitSetupError], naming the fix; yours
    overrides it and may have any scope.

    Example:
        ```python
        @pytest.fixture
        def mintaka_app():
            return create_app()
        ```
    """
    raise KitSetupError(
        "mintaka.depends.testing needs the app under test: define a fixture named "
        "mintaka_app in your conftest.py that returns it (for example `return create_app()`)."
    )


@pytest.fixture
def mintaka_database(mintaka_app: Any) -> Iterator[OuterTransactions]:
    """The app's transactional sessions in outer transactions, rolled back after the test.

    Function-scoped: an [`OuterTransactions`][mintaka.depends.testing.OuterTransactions]
    entered for `mintaka_app`, so each test starts from what the database held before it.

    Example:
        ```python
        def test_starts_empty(mintaka_database):
            assert mintaka_database.scalar("SELECT count(*) FROM notes") == 0
        ```
    """
    with OuterTransactions(mintaka_app) as database:
        yield database


@pytest.fixture
def mintaka_client(
    mintaka_app: Any, mintaka_database: OuterTransactions
) -> Iterator[RecordingClient]:
    """A recording test client on the outer transactions' event loop, lifespan run.

    Function-scoped: a [`RecordingClient`][mintaka.depends.testing.RecordingClient] for
    `mintaka_app`, on `mintaka_database`'s portal (so async engines stay on one event
    loop), with the app's lifespan entered for the test.

    Example:
        ```python
        def test_created(mintaka_client):
            assert mintaka_client.post("/notes", json={"text": "a"}).status_code == 201
            assert mintaka_client.last.committed_before_response
        ```
    """
    with RecordingClient(mintaka_app, portal=mintaka_database.portal) as client:
        yield client


@pytest.fixture
def mintaka_on_commit() -> Iterator[CapturedCallbacks]:
    """The `on_commit` callbacks that would run during the test, captured instead.

    Function-scoped: a [`CapturedCallbacks`][mintaka.depends.testing.CapturedCallbacks];
    callbacks of sessions that commit are kept (in order) instead of run, those of
    sessions that roll back are dropped as usual.

    Example:
        ```python
        def test_welcome_mail(mintaka_client, mintaka_on_commit):
            mintaka_client.post("/users", json={"email": "a@example.com"})
            assert mintaka_on_commit.names == ["send_welcome"]
            mintaka_on_commit.run()
        ```
    """
    with CapturedCallbacks() as captured:
        yield captured
