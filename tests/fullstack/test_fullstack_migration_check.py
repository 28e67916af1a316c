"""The migration check the adoption page recommends, on this app: no false alarm.

Made with `explicit_commits="forbid"`, the transactional session refuses each `commit()`
a request reaches, naming the request, before anything is durable; a request that does
not commit by hand (every read, every refusal) is answered as before.
"""

import re
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from examples.fullstack.app import build_app
from examples.fullstack.models import Item, User
from mintaka.core.fastapi import ResponseScopedRoute
from mintaka.depends.sqlalchemy import transactional_session
from tests.fullstack._fullstack_utils import client_of, random_email


def test_forbidding_explicit_commits_points_at_each_hand_commit_and_nothing_else(
    engine: Engine, db: Callable[[], Session]
) -> None:
    get_db = transactional_session(sessionmaker(engine, class_=Session), explicit_commits="forbid")
    client = client_of(build_app(get_db, route_class=ResponseScopedRoute))

    with db() as session:
        stored = User(email=random_email())
        session.add(stored)
        session.commit()
        session.refresh(stored)

    assert client.get("/users/").json()["count"] == 1
    assert client.get(f"/users/{stored.id}").status_code == 200
    assert client.get(f"/users/{uuid.uuid4()}").status_code == 404
    assert client.post("/users/", json={"email": stored.email}).status_code == 409
    assert client.post("/users/", json={"full_name": "no address"}).status_code == 422
    orphan = {"title": "x", "owner_id": str(uuid.uuid4())}
    assert client.post("/items/", json=orphan).status_code == 404

    for method, path, body in [
        ("POST", "/users/", {"email": random_email()}),
        ("PATCH", f"/users/{stored.id}", {"full_name": "changed"}),
        ("POST", "/items/", {"title": "x", "owner_id": str(stored.id)}),
        ("DELETE", f"/users/{stored.id}", None),
    ]:
        named = re.escape(f"{method} {path}") + r".*called commit\(\).*explicit_commits='forbid'"
        with pytest.raises(InvalidRequestError, match=named):
            client.request(method, path, json=body)
    with db() as session:
        users = session.exec(select(User)).all()
        assert [(user.email, user.full_name) for user in users] == [(stored.email, None)]
        assert session.exec(select(Item)).all() == []
