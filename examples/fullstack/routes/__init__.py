"""The routers of the API: each is built for one `get_db` and one route class."""

import uuid
from typing import TypeVar

from fastapi import HTTPException
from sqlmodel import Session, SQLModel

Row = TypeVar("Row", bound=SQLModel)


def get_or_404(session: Session, model: type[Row], key: uuid.UUID) -> Row:
    """The stored `model` with primary key `key`, or a 404 "<Model> not found"."""
    row = session.get(model, key)
    if row is None:
        raise HTTPException(status_code=404, detail=f"{model.__name__} not found")
    return row
