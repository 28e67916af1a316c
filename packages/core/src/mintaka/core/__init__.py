"""mintaka-core: a response-scoped async exit stack for Starlette, FastAPI and any ASGI app.

Everything entered on the stack returned by [`response_stack`][mintaka.core.response_stack]
is exited after the endpoint returned and its response was serialized, and before the
response is sent, so a transaction commits (or fails) before the client hears about it.
While it exits, [`response_status`][mintaka.core.response_status] tells the contexts which
status the client is about to receive.

The adapters live in submodules: [`mintaka.core.fastapi`][mintaka.core.fastapi] (needs the
`[fastapi]` extra) and [`mintaka.core.starlette`][mintaka.core.starlette].
"""

from mintaka.core._errors import ResponseScopeError
from mintaka.core._scope import (
    HandleAgain,
    RequestLike,
    ResponseScope,
    ScopeState,
    after_response,
    call_in_response_scope,
    request_attempt,
    response_headers,
    response_stack,
    response_status,
)
from mintaka.core._version import __version__

__all__ = [
    "HandleAgain",
    "RequestLike",
    "ResponseScope",
    "ResponseScopeError",
    "ScopeState",
    "__version__",
    "after_response",
    "call_in_response_scope",
    "request_attempt",
    "response_headers",
    "response_stack",
    "response_status",
]
