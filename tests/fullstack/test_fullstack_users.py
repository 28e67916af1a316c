"""The users API, run unchanged against the plain app and the app on mintaka."""

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from examples.fullstack import crud
from examples.fullstack.models import Item, User
from tests.fullstack._fullstack_utils import create_random_item, create_random_user, random_email


def test_create_user_new_email(client: TestClient, db: Callable[[], Session]) -> None:
    email = random_email()
    r = client.post("/users/", json={"email": email, "full_name": "Ada Lovelace"})
    assert r.status_code == 200
    created = r.json()
    with db() as session:
        user = crud.get_user_by_email(session=session, email=email)
    assert user
    assert (str(user.id), user.full_name, user.is_active) == (created["id"], "Ada Lovelace", True)


def test_created_user_is_read_back_by_the_next_request(client: TestClient) -> None:
    created = create_random_user(client)
    r = client.get(f"/users/{created['id']}")
    assert r.status_code == 200
    assert r.json() == created


def test_create_user_existing_email(client: TestClient, db: Callable[[], Session]) -> None:
    email = random_email()
    assert client.post("/users/", json={"email": email}).status_code == 200
    r = client.post("/users/", json={"email": email, "full_name": "Someone else"})
    assert r.status_code == 409
    assert r.json() == {"detail": "The user with this email already exists in the system."}
    with db() as session:
        stored = session.exec(select(User).where(User.email == email)).all()
    assert [user.full_name for user in stored] == [None]


def test_create_user_invalid_body(client: TestClient, db: Callable[[], Session]) -> None:
    r = client.post("/users/", json={"full_name": "No address"})
    assert r.status_code == 422
    with db() as session:
        assert session.exec(select(User)).all() == []


def test_get_user_not_found(client: TestClient) -> None:
    r = client.get(f"/users/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json() == {"detail": "User not found"}


def test_retrieve_users(client: TestClient) -> None:
    emails = sorted(create_random_user(client)["email"] for _ in range(3))
    r = client.get("/users/")
    assert r.status_code == 200
    page = r.json()
    assert page["count"] == 3
    assert [user["email"] for user in page["data"]] == emails


def test_retrieve_users_one_page(client: TestClient) -> None:
    emails = sorted(create_random_user(client)["email"] for _ in range(3))
    r = client.get("/users/", params={"skip": 1, "limit": 1})
    assert r.status_code == 200
    assert r.json()["count"] == 3
    assert [user["email"] for user in r.json()["data"]] == emails[1:2]


def test_update_user(client: TestClient, db: Callable[[], Session]) -> None:
    user = create_random_user(client)
    r = client.patch(f"/users/{user['id']}", json={"full_name": "Updated", "is_active": False})
    assert r.status_code == 200
    assert r.json() == {**user, "full_name": "Updated", "is_active": False}
    with db() as session:
        stored = session.get(User, uuid.UUID(user["id"]))
    assert stored
    assert (stored.full_name, stored.is_active, stored.email) == ("Updated", False, user["email"])


def test_update_user_email(client: TestClient) -> None:
    user = create_random_user(client)
    email = random_email()
    r = client.patch(f"/users/{user['id']}", json={"email": email})
    assert r.status_code == 200
    assert client.get(f"/users/{user['id']}").json()["email"] == email


def test_update_user_keeps_its_own_email(client: TestClient) -> None:
    user = create_random_user(client)
    r = client.patch(f"/users/{user['id']}", json={"email": user["email"], "full_name": "Same"})
    assert r.status_code == 200
    assert r.json()["full_name"] == "Same"


def test_update_user_not_exists(client: TestClient) -> None:
    r = client.patch(f"/users/{uuid.uuid4()}", json={"full_name": "Nobody"})
    assert r.status_code == 404
    assert r.json() == {"detail": "User not found"}


def test_update_user_email_exists(client: TestClient, db: Callable[[], Session]) -> None:
    first, second = create_random_user(client), create_random_user(client)
    r = client.patch(f"/users/{second['id']}", json={"email": first["email"], "full_name": "X"})
    assert r.status_code == 409
    with db() as session:
        stored = session.get(User, uuid.UUID(second["id"]))
    assert stored
    assert (stored.email, stored.full_name) == (second["email"], "Ada")


def test_delete_user(client: TestClient, db: Callable[[], Session]) -> None:
    user = create_random_user(client)
    r = client.delete(f"/users/{user['id']}")
    assert r.status_code == 200
    assert r.json() == {"message": "User deleted successfully"}
    assert client.get(f"/users/{user['id']}").status_code == 404
    with db() as session:
        assert session.get(User, uuid.UUID(user["id"])) is None


def test_delete_user_deletes_their_items(client: TestClient, db: Callable[[], Session]) -> None:
    owner, other = create_random_user(client), create_random_user(client)
    for _ in range(2):
        create_random_item(client, owner["id"])
    kept = create_random_item(client, other["id"])
    assert client.delete(f"/users/{owner['id']}").status_code == 200
    with db() as session:
        assert [str(item.id) for item in session.exec(select(Item)).all()] == [kept["id"]]


def test_delete_user_not_found(client: TestClient) -> None:
    r = client.delete(f"/users/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json() == {"detail": "User not found"}
