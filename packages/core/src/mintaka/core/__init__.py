"""mintaka-core: a response-scoped async exit stack for Starlette and FastAPI.

Everything entered on the stack returned by [`response_stack`][mintaka.core.response_stack]
is exited after the endpoint returned and its response was serialized, and before the
response is sent, so a transaction commits (or fails) before the client hears about it.

The adapters live in submodules: [`mintaka.core.fastapi`][mintaka.core.fastapi] (needs the
`[fastapi]` extra) and [`mintaka.core.starlette`][mintaka.core.starlette].
"""

from mintaka.core._errors import ResponseScopeError
from mintaka.core._scope import SCOPE_KEY, ResponseScope, call_in_response_scope, response_stack
from mintaka.core._version import __version__

__all__ = [
    "SCOPE_KEY",
    "ResponseScope",
    "ResponseScopeError",
    "__version__",
    "call_in_response_scope",
    "response_stack",
]
