"""The model and the app wrapper the router tests share."""

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel


class Item(BaseModel):
    """The data model of the tests; endpoints often return more, which it filters out."""

    name: str


def app_with(router: APIRouter, prefix: str = "") -> FastAPI:
    """A plain FastAPI app with `router` included, as users wire a router in."""
    app = FastAPI()
    app.include_router(router, prefix=prefix)
    return app
