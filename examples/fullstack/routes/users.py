"""Create, read, list, update and delete users; an e-mail address is taken only once."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.routing import APIRoute
from sqlmodel import Session

from examples.fullstack import crud
from examples.fullstack.models import Message, User, UserCreate, UserPublic, UsersPublic, UserUpdate
from examples.fullstack.routes import get_or_404

EMAIL_TAKEN = "The user with this email already exists in the system."


def build_router(get_db: Callable[..., Any], route_class: type[APIRoute]) -> APIRouter:
    """The `/users` routes, on sessions from `get_db`."""
    # --8<-- [start:router]
    SessionDep = Annotated[Session, Depends(get_db)]  # noqa: N806
    router = APIRouter(prefix="/users", tags=["users"], route_class=route_class)
    # --8<-- [end:router]

    @router.get("/", response_model=UsersPublic)
    def read_users(session: SessionDep, skip: int = 0, limit: int = 100) -> Any:
        users, count = crud.list_users(session=session, skip=skip, limit=limit)
        return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count)

    # --8<-- [start:create]
    @router.post("/", response_model=UserPublic)
    def create_user(*, session: SessionDep, user_in: UserCreate) -> Any:
        if crud.get_user_by_email(session=session, email=user_in.email):
            raise HTTPException(status_code=409, detail=EMAIL_TAKEN)
        return crud.create_user(session=session, user_create=user_in)

    # --8<-- [end:create]

    @router.get("/{user_id}", response_model=UserPublic)
    def read_user(user_id: uuid.UUID, session: SessionDep) -> Any:
        return get_or_404(session, User, user_id)

    @router.patch("/{user_id}", response_model=UserPublic)
    def update_user(*, session: SessionDep, user_id: uuid.UUID, user_in: UserUpdate) -> Any:
        db_user = get_or_404(session, User, user_id)
        if user_in.email:
            existing = crud.get_user_by_email(session=session, email=user_in.email)
            if existing and existing.id != user_id:
                raise HTTPException(status_code=409, detail=EMAIL_TAKEN)
        return crud.update_user(session=session, db_user=db_user, user_in=user_in)

    @router.delete("/{user_id}")
    def delete_user(session: SessionDep, user_id: uuid.UUID) -> Message:
        crud.delete_user(session=session, db_user=get_or_404(session, User, user_id))
        return Message(message="User deleted successfully")

    return router
