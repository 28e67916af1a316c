"""The `[opentelemetry]` extra: a span around each response-scope exit that had contexts.

Spans are collected with the OpenTelemetry SDK's in-memory exporter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk", reason="tracing needs the opentelemetry extra")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

from mintaka.core import HandleAgain, ResponseScope, __version__, request_attempt, response_stack
from mintaka.core._tracing import tracer
from mintaka.core.asgi import ResponseScopeMiddleware
from packages.core.tests._spans import exit_spans, exporter, global_provider
from testing.asgi import BODY, START, call, http_scope, recorded

pytestmark = pytest.mark.anyio

__all__ = ["exporter"]

Scope = MutableMapping[str, Any]


def responding_app(events: list[str], *, contexts: int, status: int = 201) -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        for number in range(contexts):
            await response_stack(scope).enter_async_context(recorded(events, f"db{number}"))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def test_a_clean_exit_is_one_span_with_outcome_contexts_and_status(
    exporter: InMemorySpanExporter,
) -> None:
    events: list[str] = []
    ended_before_start: list[bool] = []

    app = ResponseScopeMiddleware(responding_app(events, contexts=2))

    async def send_checking(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            ended_before_start.append(len(exit_spans(exporter)) == 1)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    await app(http_scope("/notes", method="POST"), receive, send_checking)

    (span,) = exit_spans(exporter)
    assert span.kind == SpanKind.INTERNAL
    assert dict(span.attributes or {}) == {
        "mintaka.response_scope.outcome": "exited",
        "mintaka.response_scope.contexts": 2,
        "http.response.status_code": 201,
    }
    assert span.status.status_code == StatusCode.UNSET
    assert ended_before_start == [True]


async def test_an_exception_thrown_in_is_its_outcome(exporter: InMemorySpanExporter) -> None:
    events: list[str] = []

    async def fail(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(recorded(events, "db"))
        raise LookupError("endpoint failed")

    with pytest.raises(LookupError):
        await call(ResponseScopeMiddleware(fail), "/notes", events=events)

    (span,) = exit_spans(exporter)
    assert dict(span.attributes or {}) == {
        "mintaka.response_scope.outcome": "exception_thrown_in",
        "mintaka.response_scope.contexts": 1,
        "error.type": "LookupError",
    }
    assert span.status.status_code == StatusCode.UNSET


async def test_an_exit_that_raises_is_an_error_span(exporter: InMemorySpanExporter) -> None:
    class CommitFailedError(Exception):
        pass

    @asynccontextmanager
    async def failing_commit() -> AsyncIterator[None]:
        yield
        raise CommitFailedError("duplicate key")

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(failing_commit())
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert exchange.status == 500
    (span,) = exit_spans(exporter)
    attributes = dict(span.attributes or {})
    assert attributes["mintaka.response_scope.outcome"] == "exit_raised"
    assert attributes["http.response.status_code"] == 201
    assert str(attributes["error.type"]).endswith("CommitFailedError")
    assert span.status.status_code == StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_an_exit_without_contexts_has_no_span(exporter: InMemorySpanExporter) -> None:
    events: list[str] = []
    await call(ResponseScopeMiddleware(responding_app(events, contexts=0)), "/notes")

    async with ResponseScope(http_scope("/notes")) as scope:
        scope.stack  # noqa: B018 - created, but nothing entered on it

    assert exit_spans(exporter) == []


async def test_the_span_is_a_child_of_the_current_span(exporter: InMemorySpanExporter) -> None:
    events: list[str] = []
    app = ResponseScopeMiddleware(responding_app(events, contexts=1))

    with trace.get_tracer("test").start_as_current_span("request") as request_span:
        exchange = await call(app, "/notes", events=events)

    assert events == ["db0 enter", "db0 exit", START, BODY]
    assert exchange.status == 201
    (span,) = exit_spans(exporter)
    assert span.parent is not None
    assert span.parent.span_id == request_span.get_span_context().span_id


async def test_every_exit_under_one_provider_is_traced_by_the_mintaka_core_tracer(
    exporter: InMemorySpanExporter,
) -> None:
    events: list[str] = []
    app = ResponseScopeMiddleware(responding_app(events, contexts=1))

    first = await call(app, "/notes", events=events)
    second = await call(app, "/notes", events=events)

    assert (first.status, second.status) == (201, 201)
    spans = exit_spans(exporter)
    assert len(spans) == 2
    for span in spans:
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "mintaka.core"
        assert span.instrumentation_scope.version == __version__


async def test_the_no_op_provider_keeps_tracing_off_until_a_real_one_is_set() -> None:
    events: list[str] = []
    app = ResponseScopeMiddleware(responding_app(events, contexts=1))

    with global_provider(NoOpTracerProvider()):
        assert tracer() is None
        exchange = await call(app, "/notes", events=events)
        assert tracer() is None

    assert exchange.status == 201
    assert events == ["db0 enter", "db0 exit", START, BODY]

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    with global_provider(provider):
        await call(app, "/notes")
    provider.shutdown()

    (span,) = exit_spans(exported)
    assert dict(span.attributes or {})["mintaka.response_scope.outcome"] == "exited"


async def test_a_context_that_reraises_the_error_thrown_in_is_no_exit_error(
    exporter: InMemorySpanExporter,
) -> None:
    rolled_back: list[BaseException] = []

    class Transaction:
        """A class-based context that rolls back and re-raises what it was given."""

        async def __aenter__(self) -> Transaction:
            return self

        async def __aexit__(self, kind: object, error: BaseException | None, tb: object) -> None:
            if error is not None:
                rolled_back.append(error)
                raise error

    failure = LookupError("endpoint failed")

    async def fail(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(Transaction())
        raise failure

    with pytest.raises(LookupError) as raised:
        await call(ResponseScopeMiddleware(fail), "/notes")

    assert raised.value is failure
    assert rolled_back == [failure]
    (span,) = exit_spans(exporter)
    assert dict(span.attributes or {}) == {
        "mintaka.response_scope.outcome": "exception_thrown_in",
        "mintaka.response_scope.contexts": 1,
        "error.type": "LookupError",
    }
    assert span.status.status_code == StatusCode.UNSET
    assert span.events == ()


async def test_a_request_handled_again_marks_the_abandoned_attempts_exit_span(
    exporter: InMemorySpanExporter,
) -> None:
    class AgainOnce:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc_info: object) -> None:
            if request_attempt(self.scope) == 1:
                raise HandleAgain("serialization failure (40001)")

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await response_stack(scope).enter_async_context(AgainOnce(scope))
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    exchange = await call(ResponseScopeMiddleware(app), "/notes", method="POST")

    assert exchange.status == 201
    first, second = (dict(span.attributes or {}) for span in exit_spans(exporter))
    assert first["mintaka.response_scope.outcome"] == "handle_again"
    assert first["mintaka.response_scope.handle_again"] == "serialization failure (40001)"
    assert second["mintaka.response_scope.outcome"] == "exited"
    assert "mintaka.response_scope.handle_again" not in second
