"""A PostgreSQL 15 primary and a streaming replica of the test run's own, in a temporary folder.

`replica_cluster` (a session fixture; each pytest-xdist worker gets its own) starts both
servers on free ports on 127.0.0.1 as the `postgres` OS user, and stops them at the end,
also when a test failed. `set_delay()` makes the replica's lag real: the standby applies a
commit only once it is that old (`recovery_min_apply_delay`). `stop_replica()` and
`start_replica()` take the replica down and bring it back, for the tests of a replica
that is gone.

Where the PostgreSQL binaries are missing the fixture skips, saying so, except when
`CI=true` (as `.ci/run` sets): there the missing binaries fail the run.

Never touches another server: the cluster's data, sockets and logs all live in its folder.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from testing.replica_cluster import ReplicaCluster, replica_cluster_at, server_binaries

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["ReplicaCluster", "cluster", "replica_cluster"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def replica_cluster() -> Iterator[ReplicaCluster]:
    """This session's (this xdist worker's) primary and replica; lag reset to none per use."""
    bindir = server_binaries()
    if bindir is None:
        reason = "the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are missing"
        if _in_ci():
            pytest.fail(f"{reason}; CI=true, so the replica tests must run", pytrace=False)
        pytest.skip(reason)
    with replica_cluster_at(bindir) as cluster:
        yield cluster


@pytest.fixture
def cluster(replica_cluster: ReplicaCluster) -> Iterator[ReplicaCluster]:
    """The session's cluster, replica running and caught up, with no apply delay."""
    if not replica_cluster.replica_running():
        replica_cluster.start_replica()
    replica_cluster.set_delay("0")
    replica_cluster.catch_up()
    yield replica_cluster
    if not replica_cluster.replica_running():
        replica_cluster.start_replica()
    replica_cluster.set_delay("0")
