"""The replica recipe of the Scaling out page, at the ASGI `send`, on the suite's own
PostgreSQL primary and streaming replica, the replica 300 ms behind."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from examples.sessions import replicas
from testing.asgi import Exchange, call

if TYPE_CHECKING:
    from tests._replica_cluster import ReplicaCluster

pytestmark = [pytest.mark.anyio, pytest.mark.replica]

HEADER = b"mintaka-wal-position"


@asynccontextmanager
async def running(app: FastAPI, cluster: "ReplicaCluster") -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        cluster.catch_up()  # the replica has the table before it lags
        cluster.set_delay("300ms")
        try:
            yield app
        finally:
            cluster.set_delay("0")
            cluster.query(cluster.primary_port, "DROP TABLE bookings")


def position(exchange: Exchange) -> bytes:
    return next(value for name, value in exchange.headers if name.lower() == HEADER)


async def test_the_replica_recipe_shows_the_client_its_booking(cluster: "ReplicaCluster") -> None:
    app = replicas.create_app(cluster.primary_url, [cluster.replica_url])
    async with running(app, cluster):
        booked = await call(app, "/bookings/a", method="POST")
        own = await call(app, "/bookings", headers=[(HEADER, position(booked))])
        anyone = await call(app, "/bookings")

    assert booked.status == 201
    assert (own.status, own.body) == (200, b'["a"]')  # from the primary after max_wait
    assert (anyone.status, anyone.body) == (200, b"[]")  # a replica, 300 ms behind
