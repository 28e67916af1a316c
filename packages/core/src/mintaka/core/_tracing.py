"""OpenTelemetry spans around response-scope exits, with the `[opentelemetry]` extra.

A response scope that had contexts exits inside a span named
[`EXIT_SPAN_NAME`][mintaka.core._tracing.EXIT_SPAN_NAME], a child of whatever span is
current (FastAPI's own request span from 0.165 on, the server span of
`opentelemetry-instrumentation-asgi`, or any span the app opened). Tracing is on when
`opentelemetry-api` is installed and the application configured a tracer provider (an SDK
`TracerProvider`, say); otherwise the exit costs one check, and nothing is imported.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from mintaka.core._again import HandleAgain
from mintaka.core._version import __version__

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractContextManager

    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = [
    "AVAILABLE",
    "CALLBACK_SPAN_NAME",
    "EXIT_SPAN_NAME",
    "traced_call",
    "traced_exit",
    "tracer",
]

EXIT_SPAN_NAME: Final = "mintaka.response_scope.exit"
"""The name of the span around the exit of a response scope that had contexts."""

OUTCOME: Final = "mintaka.response_scope.outcome"
"""Span attribute: `"exited"`, `"exception_thrown_in"`, `"exit_raised"` or `"handle_again"`."""
HANDLE_AGAIN: Final = "mintaka.response_scope.handle_again"
"""Span attribute, when a context asked for the request to be handled again: its reason."""
CONTEXTS: Final = "mintaka.response_scope.contexts"
"""Span attribute: how many contexts were on the stack when it began to exit."""
STATUS: Final = "http.response.status_code"
"""Span attribute (OpenTelemetry's semantic convention): the response status, when known."""

Outcome: TypeAlias = Literal["exited", "exception_thrown_in", "exit_raised", "handle_again"]


def _installed() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except ModuleNotFoundError:
        return False


AVAILABLE: Final = _installed()
"""Whether `opentelemetry-api` is installed; without it, exits are never traced."""

_api: ModuleType | None = None
_cache: tuple[TracerProvider, Tracer] | None = None
_PROVIDER_GLOBAL: Final = "_TRACER_PROVIDER"


def _load_api() -> ModuleType:
    """Import `opentelemetry.trace` once, on the first exit that could be traced."""
    global _api  # noqa: PLW0603
    import opentelemetry.trace  # noqa: PLC0415 - the extra is optional

    # The public getter loads a provider named by OTEL_PYTHON_TRACER_PROVIDER, if any.
    opentelemetry.trace.get_tracer_provider()
    _api = opentelemetry.trace
    return _api


def tracer() -> Tracer | None:
    """The tracer of `mintaka.core` from the global provider; `None` while tracing is off.

    Tracing is off until the application sets a tracer provider (an SDK
    `TracerProvider`, say) or when it set OpenTelemetry's no-op provider. FastAPI 0.165
    and newer depend on `opentelemetry-api`, so this check runs on most installs: it reads
    the API's provider global (microseconds cheaper than `get_tracer_provider()`, which
    consults the environment on every call while no provider is set) and falls back to the
    public getter if a future API drops that global.
    """
    # One tracer per provider, kept until the application changes the provider.
    global _cache  # noqa: PLW0603
    trace = _api or _load_api()
    current: TracerProvider | ModuleType | None = getattr(trace, _PROVIDER_GLOBAL, trace)
    if current is None:
        return None
    provider: TracerProvider = (
        trace.get_tracer_provider() if isinstance(current, ModuleType) else current
    )
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    cached = _cache
    if cached is None or cached[0] is not provider:
        cached = _cache = (provider, provider.get_tracer("mintaka.core", __version__))
    return cached[1]


def _internal_span(tracer: Tracer, name: str) -> AbstractContextManager[Span]:
    """A current span of mintaka's own, whose errors its caller records."""
    from opentelemetry.trace import SpanKind  # noqa: PLC0415 - only with tracing

    return tracer.start_as_current_span(
        name, kind=SpanKind.INTERNAL, record_exception=False, set_status_on_exception=False
    )


async def traced_exit(
    tracer: Tracer,
    unwind: Callable[[], Awaitable[None]],
    *,
    contexts: int,
    status: int | None,
    error: BaseException | None,
) -> None:
    """Run `unwind` (the exit of a response stack) inside an exit span.

    Args:
        tracer: From [`tracer`][mintaka.core._tracing.tracer].
        unwind: Exits the stack.
        contexts: How many contexts are on the stack.
        status: The response status, `None` on an exception.
        error: The exception thrown into the contexts, if any.
    """
    from opentelemetry.trace import StatusCode  # noqa: PLC0415 - only with tracing

    with _internal_span(tracer, EXIT_SPAN_NAME) as span:
        span.set_attribute(CONTEXTS, contexts)
        if status is not None:
            span.set_attribute(STATUS, status)
        outcome: Outcome = "exited" if error is None else "exception_thrown_in"
        try:
            await unwind()
        except HandleAgain as again:
            # Not an error: the request is about to be handled again.
            outcome = "handle_again"
            span.set_attribute(HANDLE_AGAIN, again.reason)
            raise
        except BaseException as raised:
            if raised is not error:
                outcome = "exit_raised"
                span.record_exception(raised)
                span.set_status(StatusCode.ERROR, type(raised).__qualname__)
                span.set_attribute("error.type", _qualified(raised))
            raise
        finally:
            span.set_attribute(OUTCOME, outcome)
            if outcome == "exception_thrown_in" and error is not None:
                span.set_attribute("error.type", _qualified(error))


CALLBACK_SPAN_NAME: Final = "mintaka.on_commit"
CALLBACK: Final = "mintaka.callback"
CALLBACK_OUTCOME: Final = "mintaka.callback.outcome"


async def traced_call(tracer: Tracer, name: str, call: Callable[[], Awaitable[None]]) -> None:
    """Await `call` (one after-commit callback, named `name`) inside a span of its own.

    The span's outcome is `"ran"` or `"raised"`; what it raised propagates.
    """
    from opentelemetry.trace import StatusCode  # noqa: PLC0415 - only with tracing

    with _internal_span(tracer, CALLBACK_SPAN_NAME) as span:
        span.set_attribute(CALLBACK, name)
        try:
            await call()
        except BaseException as raised:
            span.set_attribute(CALLBACK_OUTCOME, "raised")
            span.record_exception(raised)
            span.set_status(StatusCode.ERROR, type(raised).__qualname__)
            span.set_attribute("error.type", _qualified(raised))
            raise
        span.set_attribute(CALLBACK_OUTCOME, "ran")


def _qualified(error: BaseException) -> str:
    kind = type(error)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"
