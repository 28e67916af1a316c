"""The tables and the shapes clients send and receive, as SQLModel classes."""

import uuid

from sqlmodel import Field, Relationship, SQLModel


class UserBase(SQLModel):
    """What every view of a user has."""

    email: str = Field(unique=True, index=True, max_length=255)
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool = True


class UserCreate(UserBase):
    """A new user, as clients send it."""


class UserUpdate(SQLModel):
    """A partial update of a user: only the fields the client sends change."""

    email: str | None = Field(default=None, max_length=255)
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool | None = None


class User(UserBase, table=True):
    """A stored user; deleting one deletes the items it owns."""

    __tablename__ = "fullstack_user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    items: list["Item"] = Relationship(back_populates="owner", cascade_delete=True)


class UserPublic(UserBase):
    """A user as clients receive it."""

    id: uuid.UUID


class UsersPublic(SQLModel):
    """One page of users, and how many there are in all."""

    data: list[UserPublic]
    count: int


class ItemBase(SQLModel):
    """What every view of an item has."""

    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class ItemCreate(ItemBase):
    """A new item, as clients send it: its owner is named by id."""

    owner_id: uuid.UUID


class ItemUpdate(SQLModel):
    """A partial update of an item."""

    title: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class Item(ItemBase, table=True):
    """A stored item, owned by one user."""

    __tablename__ = "fullstack_item"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="fullstack_user.id", ondelete="CASCADE")
    owner: User | None = Relationship(back_populates="items")


class ItemPublic(ItemBase):
    """An item as clients receive it."""

    id: uuid.UUID
    owner_id: uuid.UUID


class ItemsPublic(SQLModel):
    """One page of items, and how many there are in all."""

    data: list[ItemPublic]
    count: int


class Message(SQLModel):
    """A plain answer, such as the one to a delete."""

    message: str
