"""Collect the spans of one test with the OpenTelemetry SDK's in-memory exporter.

Test modules import the `exporter` fixture by name (and list it in `__all__`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from mintaka.core._tracing import EXIT_SPAN_NAME, tracer


@contextmanager
def global_provider(provider: trace.TracerProvider) -> Iterator[None]:
    """Set `provider` as the global tracer provider, and unset it afterwards."""
    trace.set_tracer_provider(provider)
    try:
        yield
    finally:
        # OpenTelemetry sets the global provider once per process; its own test utilities
        # reset these two globals the same way.
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """An SDK tracer provider, set globally for one test, exporting to memory."""
    assert tracer() is None, "tracing must be off before the provider is set"
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    with global_provider(provider):
        try:
            yield exported
        finally:
            provider.shutdown()


def exit_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The finished response-scope exit spans."""
    return [s for s in exporter.get_finished_spans() if s.name == EXIT_SPAN_NAME]
