"""Response-scope exit spans inside FastAPI's own request spans (FastAPI 0.165 and newer)."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk", reason="tracing needs the opentelemetry extra")
pytest.importorskip("fastapi.telemetry", reason="FastAPI has its own request spans from 0.165 on")

from fastapi import APIRouter, FastAPI, Request
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mintaka.core import response_stack
from mintaka.core.asgi import ResponseScopeMiddleware
from mintaka.core.fastapi import ResponseScopedRoute
from packages.core.tests._spans import exit_spans, exporter
from testing.asgi import call, recorded

pytestmark = pytest.mark.anyio

__all__ = ["exporter"]


@pytest.mark.parametrize("adapter", ["middleware", "route class"])
async def test_the_span_nests_under_fastapis_own_request_span(
    exporter: InMemorySpanExporter, adapter: str
) -> None:
    events: list[str] = []
    router = APIRouter(route_class=ResponseScopedRoute) if adapter == "route class" else APIRouter()

    @router.get("/notes")
    async def read_notes(request: Request) -> list[str]:
        await response_stack(request).enter_async_context(recorded(events, "db"))
        return []

    app = FastAPI()
    app.include_router(router)
    if adapter == "middleware":
        app.add_middleware(ResponseScopeMiddleware)

    exchange = await call(app, "/notes", events=events)

    assert exchange.status == 200
    (span,) = exit_spans(exporter)
    (server,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    ancestors = {s.context.span_id: s.parent for s in exporter.get_finished_spans() if s.context}
    parent = span.parent
    chain = []
    while parent is not None:
        chain.append(parent.span_id)
        parent = ancestors.get(parent.span_id)
    assert server.context is not None
    assert server.context.span_id in chain
