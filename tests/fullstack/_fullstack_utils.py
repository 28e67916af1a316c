"""Data for the full-stack suite: random addresses and titles, and users made through the API."""

import random
import string
from typing import Any

from fastapi.testclient import TestClient


def random_lower_string() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=32))


def random_email() -> str:
    return f"{random_lower_string()}@{random_lower_string()}.com"


def create_random_user(client: TestClient) -> dict[str, Any]:
    """A new user, created through the API."""
    r = client.post("/users/", json={"email": random_email(), "full_name": "Ada"})
    assert r.status_code == 200, r.text
    user: dict[str, Any] = r.json()
    return user


def create_random_item(client: TestClient, owner_id: str) -> dict[str, Any]:
    """A new item of `owner_id`, created through the API."""
    data = {"title": random_lower_string(), "description": "x", "owner_id": owner_id}
    r = client.post("/items/", json=data)
    assert r.status_code == 200, r.text
    item: dict[str, Any] = r.json()
    return item
