"""Reads from a real streaming replica that still show every client its own writes.

The notes app (`replica_app.py`) runs in uvicorn on 127.0.0.1; the replica's lag is real
(`recovery_min_apply_delay`). Each read says which server answered it.
"""

import logging

import httpx
import pytest

from tests._replica_cluster import ReplicaCluster
from tests.replicas.conftest import serving
from tests.replicas.replica_app import Kind, create_app

pytestmark = [pytest.mark.anyio, pytest.mark.replica, pytest.mark.server]

HEADER = "Mintaka-WAL-Position"
COOKIE = "mintaka-wal"
KINDS = ["async", "sync"]


async def write(client: httpx.AsyncClient) -> tuple[int, str]:
    """Create a note; its id and the position the response carries."""
    response = await client.post("/notes", params={"client": "test"})
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers[HEADER]


async def read(base_url: str, note_id: int, headers: dict[str, str]) -> dict[str, object]:
    """Read the note on a new connection that carries only `headers`."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        response = await client.get(f"/notes/{note_id}")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("delay", "max_wait", "served_by"),
    [
        ("0", 2.0, "replica"),
        ("300ms", 2.0, "replica"),
        ("2s", 0.1, "primary"),
    ],
)
async def test_a_client_reads_its_own_write_at_any_lag(
    notes: ReplicaCluster, kind: Kind, delay: str, max_wait: float, served_by: str
) -> None:
    notes.set_delay(delay)
    app = create_app(notes.primary_url, [notes.replica_url], kind=kind, max_wait=max_wait)
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as writer:
        note_id, position = await write(writer)
        seen = await read(base_url, note_id, {HEADER: position})
    ports = {"replica": notes.replica_port, "primary": notes.primary_port}
    assert seen == {"found": True, "port": ports[served_by]}


@pytest.mark.parametrize("kind", KINDS)
async def test_the_cookie_carries_the_position_to_the_next_request(
    notes: ReplicaCluster, kind: Kind
) -> None:
    notes.set_delay("300ms")
    app = create_app(notes.primary_url, [notes.replica_url], kind=kind, max_wait=2.0)
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        created = await client.post("/notes", params={"client": "cookie"})
        cookie = created.headers["set-cookie"]
        assert cookie == f"{COOKIE}={created.headers[HEADER]}; Path=/; HttpOnly; SameSite=Lax"
        response = await client.get(f"/notes/{created.json()['id']}")
    assert response.json() == {"found": True, "port": notes.replica_port}


async def test_the_cookie_is_secure_over_https(notes: ReplicaCluster) -> None:
    app = create_app(notes.primary_url, [notes.replica_url])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        created = await client.post("/notes", params={"client": "https"})
    for maker in app.state.makers:
        await maker.kw["bind"].dispose()
    assert created.status_code == 201
    assert created.headers["set-cookie"].endswith("; HttpOnly; SameSite=Lax; Secure")


async def test_a_client_without_a_position_reads_from_a_replica(notes: ReplicaCluster) -> None:
    notes.set_delay("2s")
    app = create_app(notes.primary_url, [notes.replica_url], max_wait=0.1)
    async with serving(app) as base_url:
        seen = await read(base_url, 0, {})
    assert seen == {"found": False, "port": notes.replica_port}


async def test_a_read_only_request_sends_no_position(notes: ReplicaCluster) -> None:
    app = create_app(notes.primary_url, [notes.replica_url])
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/notes/0")
    assert response.status_code == 200
    assert HEADER not in response.headers
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("token", ["garbage", "1/2/3", "", "G/0", "-1/0"])
async def test_a_malformed_position_is_ignored(notes: ReplicaCluster, token: str) -> None:
    notes.set_delay("2s")
    app = create_app(notes.primary_url, [notes.replica_url], max_wait=0.1)
    async with serving(app) as base_url:
        seen = await read(base_url, 0, {HEADER: token, "cookie": f"{COOKIE}={token}"})
    assert seen == {"found": False, "port": notes.replica_port}


async def test_a_position_ahead_of_the_primary_is_taken_as_the_primarys(
    notes: ReplicaCluster,
) -> None:
    app = create_app(notes.primary_url, [notes.replica_url], max_wait=2.0)
    async with serving(app) as base_url:
        # Not clamped, no server could ever reach it: the read would go to the primary.
        seen = await read(base_url, 0, {HEADER: "FFFFFFFF/FFFFFFFF"})
    assert seen == {"found": False, "port": notes.replica_port}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_replica_that_is_down_is_skipped_then_used_again(
    notes: ReplicaCluster, kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(notes.primary_url, [notes.replica_url], kind=kind, retry_after=0.2)
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        note_id, position = await write(client)
        assert await read(base_url, note_id, {HEADER: position}) == {
            "found": True,
            "port": notes.replica_port,
        }  # the pool now holds a connection to the replica
        notes.stop_replica()
        with caplog.at_level(logging.WARNING, logger="mintaka.depends"):
            for _ in range(3):
                note_id, position = await write(client)
                seen = await read(base_url, note_id, {HEADER: position})
                assert seen == {"found": True, "port": notes.primary_port}
        assert any("is unavailable" in message for message in caplog.messages), caplog.text
        notes.start_replica()
        ports = set()
        for _ in range(100):
            note_id, position = await write(client)
            seen = await read(base_url, note_id, {HEADER: position})
            assert seen["found"] is True
            ports.add(seen["port"])
            if seen["port"] == notes.replica_port:
                break
    assert notes.replica_port in ports
