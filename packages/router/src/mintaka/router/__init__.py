"""mintaka-router: a FastAPI `APIRouter` whose conventions hold for every status and annotation.

[`Router`][mintaka.router.Router] is a drop-in `APIRouter`: its routes are response-scoped
([`RouterRoute`][mintaka.router.RouterRoute]), status codes without a body go out without
one, and a response model left out is inferred from the return annotation. A route that
breaks a convention fails at registration with a
[`RouteRegistrationError`][mintaka.router.RouteRegistrationError] that names it.
"""

from mintaka.router._errors import RouteRegistrationError
from mintaka.router._route import RouterRoute
from mintaka.router._router import Router
from mintaka.router._version import __version__

__all__ = ["RouteRegistrationError", "Router", "RouterRoute", "__version__"]
