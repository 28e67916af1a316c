"""The full-stack suite's client, random addresses and titles, and users made through the API."""

import random
import string
import warnings
from typing import Any

from fastapi import FastAPI

# The test client of Starlette 0.x (what the older FastAPI cells install) names
# `anyio.abc.BlockingPortal`, an alias today's anyio deprecates: a warning about
# Starlette's code, not ours.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "The anyio.abc.BlockingPortal alias", DeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "client_of", "create_random_item", "create_random_user"]


def client_of(app: FastAPI) -> TestClient:
    """FastAPI's test client of `app`; used outside `with`, as the app has no lifespan.

    (The lifespan streams of Starlette 0.36's TestClient are left unclosed on today's anyio,
    which the warnings-as-errors setting turns into errors of the next test.)
    """
    with warnings.catch_warnings():
        # The same Starlette's TestClient passes httpx the `app=` that httpx 0.27
        # deprecated (and 0.28 removed: that cell installs httpx 0.27).
        warnings.filterwarnings("ignore", "The 'app' shortcut is", DeprecationWarning)
        return TestClient(app)


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
