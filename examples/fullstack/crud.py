"""CRUD helpers that commit and refresh, the way FastAPI's and SQLModel's tutorials teach.

Nothing here changes when the app adopts mintaka: each write commits at once, and the
refresh after it reads the row back in the session's next transaction.
"""

import uuid
from typing import TypeVar

from sqlmodel import Session, SQLModel, col, func, select

from examples.fullstack.models import (
    Item,
    ItemCreate,
    ItemUpdate,
    User,
    UserCreate,
    UserUpdate,
)

Row = TypeVar("Row", bound=SQLModel)


# --8<-- [start:save]
def save(session: Session, row: Row) -> Row:
    """Commit `row` at once and read it back as stored: generated and expired fields too."""
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def create_user(*, session: Session, user_create: UserCreate) -> User:
    """Store a new user and return it with its generated id."""
    return save(session, User.model_validate(user_create))
    # --8<-- [end:save]


def update_user(*, session: Session, db_user: User, user_in: UserUpdate) -> User:
    """Change the fields of `db_user` that `user_in` sets, and return it as stored."""
    db_user.sqlmodel_update(user_in.model_dump(exclude_unset=True))
    return save(session, db_user)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this e-mail address, if there is one."""
    return session.exec(select(User).where(User.email == email)).first()


def list_users(*, session: Session, skip: int, limit: int) -> tuple[list[User], int]:
    """One page of users, oldest e-mail address first, and how many there are."""
    count = session.exec(select(func.count()).select_from(User)).one()
    page = session.exec(select(User).order_by(col(User.email)).offset(skip).limit(limit))
    return list(page.all()), count


def delete_user(*, session: Session, db_user: User) -> None:
    """Delete a user and, by the relationship's cascade, every item it owns."""
    session.delete(db_user)
    session.commit()


def create_item(*, session: Session, item_in: ItemCreate) -> Item:
    """Store a new item for the owner `item_in` names."""
    return save(session, Item.model_validate(item_in))


def update_item(*, session: Session, db_item: Item, item_in: ItemUpdate) -> Item:
    """Change the fields of `db_item` that `item_in` sets, and return it as stored."""
    db_item.sqlmodel_update(item_in.model_dump(exclude_unset=True))
    return save(session, db_item)


def list_items(
    *, session: Session, owner_id: uuid.UUID | None, skip: int, limit: int
) -> tuple[list[Item], int]:
    """One page of items, of one owner when `owner_id` is given, and how many there are."""
    query = select(Item)
    counted = select(func.count()).select_from(Item)
    if owner_id is not None:
        query = query.where(Item.owner_id == owner_id)
        counted = counted.where(Item.owner_id == owner_id)
    count = session.exec(counted).one()
    page = session.exec(query.order_by(col(Item.title)).offset(skip).limit(limit))
    return list(page.all()), count


def delete_item(*, session: Session, db_item: Item) -> None:
    """Delete one item."""
    session.delete(db_item)
    session.commit()
