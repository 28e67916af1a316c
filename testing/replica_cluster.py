"""A PostgreSQL 15 primary and its streaming replica, in a temporary folder of their own.

`replica_cluster_at(server_binaries())` starts both servers on free ports on 127.0.0.1 as
the `postgres` OS user (`initdb`, `pg_basebackup -R`) and stops them afterwards. The test
suite's fixtures (`tests/_replica_cluster.py`) and `benchmarks/replica_cost.py` use it; it
needs no pytest. Never touches another server: data, sockets and logs live in its folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

USER = "postgres"
READY_TIMEOUT = 30.0
QUIET = ("-d", "postgres", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1")
"""psql: the default database, no .psqlrc, unaligned tuples only, stop at the first error."""


class ClusterError(RuntimeError):
    """A server of the cluster did not do what it was asked; the message carries its log."""


def server_binaries() -> Path | None:
    """Where `initdb`, `pg_ctl` and `pg_basebackup` are, or None when they are not installed."""
    pg_config = shutil.which("pg_config")
    candidates = []
    if pg_config is not None:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        candidates.append(Path(found))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(command: list[str]) -> list[str]:
    """Run `command` as the `postgres` user: PostgreSQL refuses to run as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", USER, "--", *command]
    return command


@dataclass
class ReplicaCluster:
    """A running primary and its streaming replica."""

    folder: Path
    bindir: Path
    primary_port: int
    replica_port: int

    def url(self, port: int, driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL of the server at `port`, with `driver` (`asyncpg`, `psycopg`)."""
        return f"postgresql+{driver}://{USER}@127.0.0.1:{port}/postgres"

    @property
    def primary_url(self) -> str:
        """The primary, for an async engine."""
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        """The replica, for an async engine."""
        return self.url(self.replica_port)

    @property
    def _primary(self) -> Path:
        return self.folder / "primary"

    @property
    def _replica(self) -> Path:
        return self.folder / "replica"

    def query(self, port: int, sql: str) -> str:
        """Run `sql` on the server at `port` with psql; its output, unaligned."""
        psql = self.bindir / "psql"
        done = subprocess.run(
            [str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", USER, *QUIET, "-c", sql],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"psql on port {port} failed on {sql!r}: {done.stderr}")
        return done.stdout.strip()

    def set_delay(self, delay: str) -> None:
        """Have the replica apply each commit only once it is `delay` old (`'300ms'`, `'0'`)."""
        self.query(self.replica_port, f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
        self.query(self.replica_port, "SELECT pg_reload_conf()")
        expected = self.query(self.replica_port, f"SELECT '{delay}'::interval")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            shown = self.query(
                self.replica_port,
                "SELECT current_setting('recovery_min_apply_delay')::interval",
            )
            if shown == expected:
                return
            time.sleep(0.01)
        raise ClusterError(f"the replica did not take recovery_min_apply_delay = {delay!r}")

    def catch_up(self) -> None:
        """Wait until the replica replayed everything the primary wrote so far."""
        target = self.query(self.primary_port, "SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            behind = self.query(
                self.replica_port, f"SELECT pg_last_wal_replay_lsn() < '{target}'::pg_lsn"
            )
            if behind == "f":
                return
            time.sleep(0.01)
        raise ClusterError(f"the replica did not replay up to {target}:\n{self.logs()}")

    def stop_replica(self) -> None:
        """Take the replica down at once, as a crash would."""
        self._pg_ctl("stop", self._replica, "-m", "immediate")

    def start_replica(self) -> None:
        """Bring the replica back, and wait until it streams from the primary again."""
        self._pg_ctl("start", self._replica, "-l", str(self.folder / "replica.log"))
        self._wait_streaming()

    def replica_running(self) -> bool:
        """Whether the replica's server is up."""
        done = subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "status", "-D", str(self._replica)]),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def logs(self) -> str:
        """Both servers' logs."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')}"
            for log in sorted(self.folder.glob("*.log"))
        )

    def start(self) -> None:
        """Create and start the primary, then the replica from a base backup of it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.folder, USER, USER)
        self._run(
            [
                *(str(self.bindir / "initdb"), "-D", str(self._primary), "-U", USER),
                *("-A", "trust", "--no-sync", "--no-instructions"),
            ]
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.primary_port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "max_connections": "60",
        }
        self._configure(self._primary, settings)
        (self._primary / "pg_hba.conf").write_text(
            "local all all trust\n"
            "local replication all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        self._pg_ctl("start", self._primary, "-l", str(self.folder / "primary.log"))
        self._run(
            [
                *(str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1"),
                *("-p", str(self.primary_port), "-U", USER, "-D", str(self._replica)),
                *("-R", "-X", "stream", "--no-sync"),
            ]
        )
        self._configure(self._replica, {"port": str(self.replica_port), "hot_standby": "on"})
        self.start_replica()

    def stop(self) -> None:
        """Stop both servers (those still running) and remove the folder."""
        for data in (self._replica, self._primary):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    _as_postgres(
                        [str(self.bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"]
                    ),
                    capture_output=True,
                    check=False,
                )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _configure(self, data: Path, settings: dict[str, str]) -> None:
        lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(lines)

    def _pg_ctl(self, action: str, data: Path, *options: str) -> None:
        self._run([str(self.bindir / "pg_ctl"), action, "-D", str(data), "-w", *options])

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(
            _as_postgres(command), capture_output=True, text=True, cwd=self.folder, check=False
        )
        if done.returncode != 0:
            raise ClusterError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"{self.logs()}"
            )

    def _wait_streaming(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                state = self.query(self.replica_port, "SELECT status FROM pg_stat_wal_receiver")
            except ClusterError:
                state = ""
            if state == "streaming":
                return
            time.sleep(0.02)
        raise ClusterError(f"the replica does not stream from the primary:\n{self.logs()}")


@contextmanager
def replica_cluster_at(bindir: Path) -> Iterator[ReplicaCluster]:
    """A started cluster in a new temporary folder; both servers stopped afterwards."""
    # In /tmp, not in pytest's folders: those are private to root, and postgres must enter.
    folder = Path(tempfile.mkdtemp(prefix="mintaka-replicas-"))
    cluster = ReplicaCluster(folder, bindir, _free_port(), _free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
