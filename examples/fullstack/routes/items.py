"""Create, read, list, update and delete items; an item's owner must exist."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.routing import APIRoute
from sqlmodel import Session

from examples.fullstack import crud
from examples.fullstack.models import (
    Item,
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    ItemUpdate,
    Message,
    User,
)
from examples.fullstack.routes import get_or_404


def build_router(get_db: Callable[..., Any], route_class: type[APIRoute]) -> APIRouter:
    """The `/items` routes, on sessions from `get_db`."""
    SessionDep = Annotated[Session, Depends(get_db)]  # noqa: N806
    router = APIRouter(prefix="/items", tags=["items"], route_class=route_class)

    @router.get("/", response_model=ItemsPublic)
    def read_items(
        session: SessionDep, owner_id: uuid.UUID | None = None, skip: int = 0, limit: int = 100
    ) -> Any:
        items, count = crud.list_items(session=session, owner_id=owner_id, skip=skip, limit=limit)
        return ItemsPublic(data=[ItemPublic.model_validate(i) for i in items], count=count)

    @router.post("/", response_model=ItemPublic)
    def create_item(*, session: SessionDep, item_in: ItemCreate) -> Any:
        if not session.get(User, item_in.owner_id):
            raise HTTPException(status_code=404, detail="Owner not found")
        return crud.create_item(session=session, item_in=item_in)

    @router.get("/{item_id}", response_model=ItemPublic)
    def read_item(session: SessionDep, item_id: uuid.UUID) -> Any:
        return get_or_404(session, Item, item_id)

    @router.put("/{item_id}", response_model=ItemPublic)
    def update_item(*, session: SessionDep, item_id: uuid.UUID, item_in: ItemUpdate) -> Any:
        item = get_or_404(session, Item, item_id)
        return crud.update_item(session=session, db_item=item, item_in=item_in)

    @router.delete("/{item_id}")
    def delete_item(session: SessionDep, item_id: uuid.UUID) -> Message:
        crud.delete_item(session=session, db_item=get_or_404(session, Item, item_id))
        return Message(message="Item deleted successfully")

    return router
