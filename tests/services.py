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
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from palaute.services import Mosquitto, free_port, wait_port
from survey.config import DeviceIdentity
from survey.store import Store

T = TypeVar("T")

# The broker launcher and port helpers are the library's (the demo uses them too).
__all__ = ["Mosquitto", "free_port", "wait_port"]


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
        done = subprocess.run([*self._as_user, *args], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"PostgreSQL test cluster: {Path(args[0]).name} failed ({done.returncode}):\n"
                f"{done.stderr.strip()}\n{tail}".rstrip()
            )

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


def postgres_absent() -> str | None:
    """Why PostgreSQL tests cannot run here at all (no server given, none installed), or None."""
    if os.environ.get("PALAUTE_TEST_PG_URL") or _pg_bin() is not None:
        return None
    return ("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no "
            "PALAUTE_TEST_PG_URL): install the Debian package postgresql (./dev.sh does)")


def start_postgres() -> Postgres | ExternalPostgres:
    """The PostgreSQL server for this test session: PALAUTE_TEST_PG_URL or a throwaway one."""
    url = os.environ.get("PALAUTE_TEST_PG_URL")
    if url:
        return ExternalPostgres(url)
    server = Postgres()
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


_db_counter = 0


def new_central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh central database URL for the store kind in `request.param`."""
    global _db_counter
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    server = request.getfixturevalue("pg_server")
    _db_counter += 1
    return str(server.create_database(f"t{os.getpid()}_{_db_counter}"))


# -- helpers for sync tests ------------------------------------------------------------------


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.02,
               message: str = "condition", step: Callable[[], object] | None = None) -> T:
    """Poll `predicate` until it returns something true, and return that; fail the test
    after `timeout` seconds. The one wait of the tests.

    `step`, when given, runs before each poll (one step of a service under test); the
    wait sleeps only when the step reports that it did nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = step() if step is not None else False
        value = predicate()
        if value:
            return value
        if not busy:
            time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def add_final_responses(store: Store, origin: DeviceIdentity, n: int,
                        finished: datetime | None = None) -> list[str]:
    """Add `n` final responses straight into a device store in one transaction (fast)."""
    finished = finished or datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    ids = []
    with store.write() as c:
        seq = int(c.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
        for i in range(n):
            rid = str(uuid.uuid4())
            at = (finished + timedelta(minutes=2 * i)).isoformat(timespec="seconds")
            c.execute(
                "INSERT INTO responses (id, device, site, area, unit, channel, survey, "
                "survey_version, lang, started_at, finished_at, status, seq, flags) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rid, origin.id, origin.site, origin.area, origin.unit, "kiosk", "national", 3,
                 "fi", at, at, "complete", seq, "[]"),
            )
            c.execute("INSERT INTO answers (response_id, question, value, text, answered_at) "
                      "VALUES (?,?,?,?,?)", (rid, "nps", i % 11, None, at))
            if i % 3 == 0:
                c.execute("INSERT INTO answers (response_id, question, value, text, answered_at) "
                          "VALUES (?,?,?,?,?)", (rid, "open", None, f"Kiitos {i} ✓", at))
            seq += 1
            ids.append(rid)
        c.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq),))
    return ids


def device_ids(store_path: Path) -> set[str]:
    """Ids of every final response in a device store."""
    with Store(store_path) as s:
        return {r[0] for r in s.conn.execute("SELECT id FROM responses WHERE seq IS NOT NULL")}


def queue_depth(store_path: Path) -> int:
    with Store(store_path) as s:
        return s.queue_depth()


def write_device_config(folder: Path, origin: DeviceIdentity, broker_port: int,
                        **sync: float | int) -> Path:
    """A device config file for the sync agent, with fast test timings unless overridden."""
    settings: dict[str, float | int] = {"ack_timeout": 1.0, "backoff_max": 4.0,
                                        "poll_interval": 0.05, "heartbeat_seconds": 30.0,
                                        "batch_max_count": 100}
    settings.update(sync)
    lines = [
        "[device]", f'id = "{origin.id}"', f'site = "{origin.site}"', f'area = "{origin.area}"',
        f'unit = "{origin.unit}"', f'store = "{folder / "store.sqlite"}"', "",
        "[survey]", f'file = "{folder / "survey.toml"}"', "",
        "[mqtt]", f'url = "mqtt://127.0.0.1:{broker_port}"', "",
        "[sync]", *(f"{k} = {v}" for k, v in settings.items()),
    ]
    path = folder / "device.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class AgentThread:
    """A SyncAgent from a device config running in a thread (its own store connection)."""

    def __init__(self, config_path: Path, **kwargs: Any) -> None:
        from survey.config import load_config
        from sync.agent import agent_from_config

        config = load_config(config_path)
        self.store = Store(config.store_path())
        self.agent = agent_from_config(config, self.store)
        for key, value in kwargs.items():
            setattr(self.agent, key, value)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.stop_event,),
                                       name="sync-agent", daemon=True)

    def __enter__(self) -> AgentThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(15)
        self.store.close()


class SteppedAgent:
    """A SyncAgent from a device config on a real broker, stepped by the test on a clock it moves.

    Resend timers and the heartbeat read `now`; nothing waits for them in real time.
    """

    def __init__(self, config_path: Path) -> None:
        from survey.config import load_config
        from sync.agent import agent_from_config

        config = load_config(config_path)
        self.store = Store(config.store_path())
        self.now = 1000.0
        self.agent = agent_from_config(config, self.store)
        self.agent.monotonic = lambda: self.now
        self.stop_event = threading.Event()

    def __enter__(self) -> SteppedAgent:
        self.agent.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.agent.close()
        self.store.close()

    def step(self, advance: float = 0.0) -> None:
        """Move the agent's clock by `advance` seconds, then one pass of its loop."""
        self.now += advance
        self.agent.step(self.stop_event)


class ReceiverThread:
    """A central Receiver on a broker (paho's thread does the work) with its own store."""

    def __init__(self, central_url: str, broker_port: int, **kwargs: Any) -> None:
        from central.receiver import Receiver
        from central.store import open_central
        from sync.mqtt import MqttSettings

        self.store = open_central(central_url)
        settings = MqttSettings(host="127.0.0.1", port=broker_port, tls=False,
                                client_id=kwargs.pop("client_id", "palaute-central-test"),
                                username=kwargs.pop("username", None),
                                password=kwargs.pop("password", None))
        self.receiver = Receiver(self.store, settings, **kwargs)

    def __enter__(self) -> ReceiverThread:
        self.receiver.start()
        wait_until(self.receiver.connected.is_set, 10, message="receiver connected")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.receiver.stop()
        self.store.close()


def central_ids(central_url: str) -> set[str]:
    from central.store import open_central

    with open_central(central_url) as db:
        return db.response_ids()


def make_test_pki(folder: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost/127.0.0.1 (openssl CLI)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / n for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=palaute test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return {"ca": ca, "cert": cert, "key": key}
