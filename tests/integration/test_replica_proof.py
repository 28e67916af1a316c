"""Reads from a lagging replica over real TCP: every client sees its own writes.

uvicorn serves `tests/integration/replica_service.py` with two worker processes, on the
suite's own PostgreSQL primary and streaming replica (`tests/_replica_cluster.py`), the
replica applying each commit only once it is 300 ms old. Twenty clients, each with a
connection and a cookie jar of its own, each do fifty write-then-immediately-read pairs:

* **control**: the reads go to the replica without positions
  (`GET /control/items/...`): the suite prints how many missed the row just written;
* **mintaka**: the reads go through the read session with replicas: 0 misses. The
  immediate reads find the replica behind and go to the primary after `max_wait`; then,
  a second after their last write, each client reads ten of its rows again: those are
  the reads of clients that have not written in the last second, and the suite prints the
  share of them the replica served (the goal: at least 80%);
* **the replica stopped mid-run**: the same pairs while the replica is taken down at
  once (`pg_ctl stop -m immediate`) after the first pairs: 0 answers of 5xx, 0 misses.

It prints its figures (`-s`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.integration._server import Server, serve
from tests.integration.replica_service import items_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests._replica_cluster import ReplicaCluster

pytestmark = [pytest.mark.integration, pytest.mark.server, pytest.mark.replica, pytest.mark.anyio]

APP = "tests.integration.replica_service:create_app"
CLIENTS = 20
PAIRS = 50
LATER_READS = 10
DELAY = "300ms"
QUIET = 1.0
"""Seconds after its last write from which a client counts as one that has not written."""
STOP_AFTER_PAIRS = 5
"""In the last run, the replica is stopped once every client has done this many pairs."""
DEADLINE = 120.0  # a guard against a hang only


@dataclass
class Tally:
    """What the clients of one run saw."""

    reads: int = 0
    misses: int = 0
    by_replica: int = 0
    server_errors: int = 0
    statuses: set[int] = field(default_factory=set)

    def add(self, response: httpx.Response) -> None:
        self.statuses.add(response.status_code)
        if response.status_code >= 500:
            self.server_errors += 1
            return
        answer = response.json()
        self.reads += 1
        self.misses += not answer["found"]
        self.by_replica += answer["replica"]

    def share(self) -> float:
        return self.by_replica / self.reads if self.reads else 0.0


@dataclass
class Proof:
    server: Server
    cluster: ReplicaCluster


@pytest.fixture(scope="module")
def proof(replica_cluster: ReplicaCluster) -> Iterator[Proof]:
    table = f"mintaka_replica_{uuid.uuid4().hex[:10]}"
    metadata = items_table(table).metadata
    observer = create_async_engine(replica_cluster.primary_url, poolclass=NullPool)

    async def run(statement: str) -> None:
        async with observer.begin() as connection:
            await connection.run_sync(getattr(metadata, statement))

    anyio.run(run, "create_all")
    env = {
        "MINTAKA_PROOF_PRIMARY_URL": replica_cluster.primary_url,
        "MINTAKA_PROOF_REPLICA_URL": replica_cluster.replica_url,
        "MINTAKA_PROOF_TABLES": table,
    }
    try:
        with serve(APP, env, workers=2) as server:
            yield Proof(server, replica_cluster)
    finally:
        if not replica_cluster.replica_running():
            replica_cluster.start_replica()
        replica_cluster.set_delay("0")
        anyio.run(run, "drop_all")
        anyio.run(observer.dispose)


async def pairs(
    proof: Proof,
    run: str,
    read_path: str,
    *,
    stop_replica: bool = False,
    later_reads: int = 0,
) -> tuple[Tally, Tally]:
    """Every client's write-then-read pairs, then its later reads: the two tallies."""
    immediate, later = Tally(), Tally()
    done_pairs = [0] * CLIENTS
    under_way, stopped = anyio.Event(), anyio.Event()

    async def client(index: int) -> None:
        name = f"{run}-{index}"
        async with httpx.AsyncClient(base_url=proof.server.base_url, timeout=30) as http:
            for n in range(PAIRS):
                written = await http.post(f"/items/{name}/{n}")
                assert written.status_code == 201, written.text
                immediate.add(await http.get(f"{read_path}/{name}/{n}"))
                done_pairs[index] += 1
                if min(done_pairs) >= STOP_AFTER_PAIRS:
                    under_way.set()
            if later_reads:
                await anyio.sleep(QUIET)
                for n in range(later_reads):
                    later.add(await http.get(f"{read_path}/{name}/{n}"))

    async def stop_when_under_way() -> None:
        await under_way.wait()
        await anyio.to_thread.run_sync(proof.cluster.stop_replica)
        stopped.set()

    with anyio.fail_after(DEADLINE):
        async with anyio.create_task_group() as group:
            for index in range(CLIENTS):
                group.start_soon(client, index)
            if stop_replica:
                group.start_soon(stop_when_under_way)
    if stop_replica:
        assert stopped.is_set()
    return immediate, later


def report(label: str, tally: Tally) -> None:
    print(
        f"  {label}: {tally.reads} reads, {tally.misses} misses, "
        f"{tally.by_replica} served by the replica ({tally.share():.0%}), "
        f"{tally.server_errors} answers of 5xx"
    )


async def test_every_client_reads_its_own_writes_from_a_lagging_replica(proof: Proof) -> None:
    await anyio.to_thread.run_sync(proof.cluster.set_delay, DELAY)
    print(f"\n{CLIENTS} clients x {PAIRS} write-then-read pairs, replica apply delay {DELAY}:")

    control, _ = await pairs(proof, "control", "/control/items")
    report("control, reads on the replica without positions", control)
    mintaka, quiet = await pairs(proof, "mintaka", "/items", later_reads=LATER_READS)
    report("mintaka, the reads right after each write", mintaka)
    report(f"mintaka, reads {QUIET:.0f} s after the client's last write", quiet)

    assert control.misses > 0  # the lag is real: without positions, reads miss
    assert (mintaka.misses, quiet.misses) == (0, 0)
    assert mintaka.server_errors == quiet.server_errors == 0
    assert quiet.share() >= 0.8


async def test_a_replica_stopped_mid_run_costs_no_error_and_no_miss(proof: Proof) -> None:
    await anyio.to_thread.run_sync(proof.cluster.set_delay, DELAY)
    print(f"\nthe replica stopped after {STOP_AFTER_PAIRS} pairs of every client:")

    stopped, _ = await pairs(proof, "stopped", "/items", stop_replica=True)
    report("mintaka, replica stopped mid-run", stopped)

    assert (stopped.server_errors, stopped.misses) == (0, 0)
    assert stopped.reads == CLIENTS * PAIRS
