"""The two apps on one SQLite engine, for `mintaka-routes examples.fullstack.main:APP --audit`.

Nothing connects to the database until a request arrives; the audit only reads routes.
"""

from sqlmodel import create_engine

from examples.fullstack.app import create_app

engine = create_engine("sqlite://")
plain_app = create_app(engine, mintaka=False)
app = create_app(engine, mintaka=True)
