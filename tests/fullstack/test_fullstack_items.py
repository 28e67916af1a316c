"""The items API, run unchanged against the plain app and the app on mintaka."""

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from examples.fullstack.models import Item
from tests.fullstack._fullstack_utils import create_random_item, create_random_user


def test_create_item(client: TestClient, db: Callable[[], Session]) -> None:
    owner = create_random_user(client)
    data = {"title": "Foo", "description": "Fighters", "owner_id": owner["id"]}
    r = client.post("/items/", json=data)
    assert r.status_code == 200
    content = r.json()
    assert {k: content[k] for k in data} == data
    with db() as session:
        stored = session.get(Item, uuid.UUID(content["id"]))
        assert stored
        assert stored.owner
        assert (stored.title, stored.owner.email) == ("Foo", owner["email"])


def test_create_item_owner_not_found(client: TestClient, db: Callable[[], Session]) -> None:
    r = client.post("/items/", json={"title": "Orphan", "owner_id": str(uuid.uuid4())})
    assert r.status_code == 404
    assert r.json() == {"detail": "Owner not found"}
    with db() as session:
        assert session.exec(select(Item)).all() == []


def test_create_item_empty_title(client: TestClient) -> None:
    owner = create_random_user(client)
    r = client.post("/items/", json={"title": "", "owner_id": owner["id"]})
    assert r.status_code == 422
    assert client.get("/items/").json() == {"data": [], "count": 0}


def test_read_item(client: TestClient) -> None:
    item = create_random_item(client, create_random_user(client)["id"])
    r = client.get(f"/items/{item['id']}")
    assert r.status_code == 200
    assert r.json() == item


def test_read_item_not_found(client: TestClient) -> None:
    r = client.get(f"/items/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json() == {"detail": "Item not found"}


def test_read_items(client: TestClient) -> None:
    owner = create_random_user(client)
    titles = sorted(create_random_item(client, owner["id"])["title"] for _ in range(2))
    r = client.get("/items/")
    assert r.status_code == 200
    assert r.json()["count"] == 2
    assert [item["title"] for item in r.json()["data"]] == titles


def test_read_items_of_one_owner(client: TestClient) -> None:
    owner, other = create_random_user(client), create_random_user(client)
    mine = create_random_item(client, owner["id"])
    create_random_item(client, other["id"])
    r = client.get("/items/", params={"owner_id": owner["id"]})
    assert r.status_code == 200
    assert r.json() == {"data": [mine], "count": 1}


def test_update_item(client: TestClient, db: Callable[[], Session]) -> None:
    item = create_random_item(client, create_random_user(client)["id"])
    r = client.put(f"/items/{item['id']}", json={"title": "Updated title"})
    assert r.status_code == 200
    assert r.json() == {**item, "title": "Updated title"}
    with db() as session:
        stored = session.get(Item, uuid.UUID(item["id"]))
    assert stored
    assert (stored.title, stored.description) == ("Updated title", item["description"])


def test_update_item_not_found(client: TestClient) -> None:
    r = client.put(f"/items/{uuid.uuid4()}", json={"title": "Nothing"})
    assert r.status_code == 404
    assert r.json() == {"detail": "Item not found"}


def test_delete_item(client: TestClient, db: Callable[[], Session]) -> None:
    item = create_random_item(client, create_random_user(client)["id"])
    r = client.delete(f"/items/{item['id']}")
    assert r.status_code == 200
    assert r.json() == {"message": "Item deleted successfully"}
    assert client.get(f"/items/{item['id']}").status_code == 404
    with db() as session:
        assert session.exec(select(Item)).all() == []


def test_delete_item_not_found(client: TestClient) -> None:
    r = client.delete(f"/items/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json() == {"detail": "Item not found"}
