"""The app after adopting mintaka, for `mintaka-routes examples.fullstack.after:app --audit`.

The same as `examples.fullstack.before` but for the two changes of the adoption.
"""

from sqlmodel import create_engine

from examples.fullstack.app import build_app
from examples.fullstack.deps import mintaka_get_db
from mintaka.core.fastapi import ResponseScopedRoute

engine = create_engine("sqlite://")
get_db = mintaka_get_db(engine)
app = build_app(get_db, route_class=ResponseScopedRoute)
