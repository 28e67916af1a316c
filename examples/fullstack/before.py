"""The app as the template has it, for `mintaka-routes examples.fullstack.before:app --audit`.

The engine is the template's module-level one; nothing connects to it until a request
arrives, and the audit only reads the routes.
"""

from fastapi.routing import APIRoute
from sqlmodel import create_engine

from examples.fullstack.app import build_app
from examples.fullstack.deps import plain_get_db

engine = create_engine("sqlite://")
get_db = plain_get_db(engine)
app = build_app(get_db, route_class=APIRoute)
