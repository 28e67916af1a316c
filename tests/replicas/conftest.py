"""The session's primary and replica (`tests/_replica_cluster.py`), the notes table on them,
and `serving(app)`: uvicorn in the test's own event loop on 127.0.0.1, at a port the
kernel picks.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from tests._replica_cluster import ReplicaCluster
from tests.replicas.replica_app import CREATE_NOTES, dispose


@pytest.fixture
def notes(cluster: ReplicaCluster) -> ReplicaCluster:
    """The cluster, with the notes table on the primary and replayed on the replica."""
    cluster.query(cluster.primary_port, CREATE_NOTES)
    cluster.catch_up()
    return cluster


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run uvicorn for `app` in this event loop; yield its base URL; then dispose its engines."""
    config = uvicorn.Config(
        app, http="h11", ws="none", lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        task = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        finally:
            server.should_exit = True
            await task
            await dispose(app)
