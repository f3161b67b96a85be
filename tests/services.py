"""Real services for tests: a Mosquitto broker and a throwaway PostgreSQL cluster.

Both listen on 127.0.0.1 on a free port, keep their files in a temporary folder
and are stopped (and the folder removed) by their owner.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Mosquitto:
    """A Mosquitto broker on a free port with persistence in `folder`; restartable."""

    def __init__(self, folder: Path, extra_config: str = "", port: int | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.config = self.folder / "mosquitto.conf"
        self.log = self.folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        if not extra_config.strip():
            extra_config = "allow_anonymous true\n"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence true\n"
            f"persistence_location {self.folder}/\n"
            f"autosave_interval 1\n"
            f"log_dest file {self.log}\n"
            f"log_type all\n"
            f"max_queued_messages 100000\n"
            + extra_config
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        """Start (or restart) the broker and wait until it accepts connections."""
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen(
            [mosquitto, "-c", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: persistence is saved)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """Kill at once (SIGKILL: only what was autosaved survives)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


class Postgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port in a temp folder."""

    def __init__(self) -> None:
        bindir = _pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="palaute-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "palaute"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the postgres user.
            shutil.chown(self.folder, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> Postgres:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C",
        )
        opts = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-o", opts, "-w", "start",
        )
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class ExternalPostgres:
    """A PostgreSQL server given by PALAUTE_TEST_PG_URL; each test gets its own database."""

    def __init__(self, url: str) -> None:
        self.base = url

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        head, _, _ = self.base.rpartition("/")
        return f"{head}/{name}"

    def stop(self) -> None:
        pass


def kill_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGKILL a child process and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def start_postgres() -> Postgres | ExternalPostgres:
    """The PostgreSQL server for this test session: PALAUTE_TEST_PG_URL or a throwaway one."""
    url = os.environ.get("PALAUTE_TEST_PG_URL")
    if url:
        return ExternalPostgres(url)
    return Postgres().start()


_db_counter = 0


def new_central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh central database URL for the store kind in `request.param`."""
    global _db_counter
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    server = request.getfixturevalue("pg_server")
    _db_counter += 1
    return str(server.create_database(f"t{os.getpid()}_{_db_counter}"))
