"""Device enrolment: one-time tokens and the work of redeeming one.

`palaute central enroll-token` records what a device will be (id, site, area,
unit, roles, survey) under a random token and prints the token once; only its
SHA-256 is kept. `palaute central serve` runs the endpoint (`central.web`) when
`[enrol]` is configured: a device POSTs {"token": …} and gets its settings plus
fresh MQTT credentials. The token is spent in the transaction that finishes the
enrolment: the broker files are written and the broker reloaded first, and if
that fails the files are put back, the caller gets an error and the token stays
valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from central.broker import new_secret
from survey.config import Config
from survey.db import transaction
from survey.errors import PalauteError
from survey.files import write_atomically
from sync.mqtt import is_loopback

if TYPE_CHECKING:
    from central.store import CentralStore

log = logging.getLogger(__name__)

RELOAD_TIMEOUT = 30.0  # seconds for `reload_command`
DEFAULT_RATE_PER_MINUTE = 20


class EnrolmentError(PalauteError):
    """A token cannot be made or redeemed."""


class TokenRefused(EnrolmentError):
    """The token is unknown, used already or expired."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenBook:
    """One-time enrolment tokens in a small SQLite file (only their hashes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, device TEXT NOT NULL, "
            "settings TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
            "used_at TEXT)"
        )

    def close(self) -> None:
        self.conn.close()

    def make(self, settings: dict[str, Any], now: datetime, ttl: timedelta) -> str:
        """A new token for these device settings; returned once, stored hashed."""
        for key in ("device_id", "site", "area", "unit", "roles"):
            if not settings.get(key):
                raise EnrolmentError(f"enrolment needs --{key.replace('_id', '')}")
        from central.registry import DeviceOrigin, RegistryError, check_origin

        try:  # the id becomes a broker username and a line of its files: nothing else fits
            check_origin(DeviceOrigin(settings["device_id"], settings["site"],
                                      settings["area"], settings["unit"]))
        except RegistryError as exc:
            raise EnrolmentError(str(exc).replace("bad device", "bad --device")) from None
        token = new_secret()
        with self._lock:
            self.conn.execute(
                "INSERT INTO tokens (digest, device, settings, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (_digest(token), settings["device_id"], json.dumps(settings),
                 now.isoformat(), (now + ttl).isoformat()),
            )
        return token

    @contextlib.contextmanager
    def redeeming(self, token: str, now: datetime) -> Iterator[dict[str, Any]]:
        """The settings of a valid token (TokenRefused otherwise), spent when the block ends.

        The token's row stays locked while the block runs; if the block raises, the
        token is not spent.
        """
        with self._lock, transaction(self.conn) as c:
            row = c.execute(
                "SELECT settings, expires_at, used_at FROM tokens WHERE digest = ?",
                (_digest(token),),
            ).fetchone()
            if row is None or row[2] is not None or datetime.fromisoformat(row[1]) < now:
                raise TokenRefused("token unknown, used or expired")
            settings: dict[str, Any] = json.loads(row[0])
            yield settings
            c.execute("UPDATE tokens SET used_at = ? WHERE digest = ?",
                      (now.isoformat(), _digest(token)))

    def redeem(self, token: str, now: datetime) -> dict[str, Any]:
        """The settings of a valid token, spending it; TokenRefused otherwise."""
        with self.redeeming(token, now) as settings:
            return settings


@dataclass(frozen=True)
class EnrolmentSettings:
    """`[enrol]` of the central's config."""

    tokens: Path
    listen_host: str
    listen_port: int
    certfile: Path | None
    keyfile: Path | None
    broker_url: str
    password_file: Path | None
    acl_file: Path | None
    reload_command: str
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE

    @classmethod
    def from_config(cls, config: Config) -> EnrolmentSettings | None:
        """None when the config has no `[enrol]` section."""
        if not config.has("enrol"):
            return None
        sec = config.section("enrol")
        sec.check_keys({"tokens", "listen", "certfile", "keyfile", "broker_url",
                        "password_file", "acl_file", "reload_command", "rate_per_minute"})
        if config.has("web"):
            # The endpoint is then on the web page's listener (central.web.site).
            for key in ("listen", "certfile", "keyfile"):
                if key in sec:
                    raise sec.error(key, "with [web], enrolment is served on [web] listen "
                                    "with its certificate: remove this key")
        host, _, port = sec.get_str("listen", "0.0.0.0:8443").rpartition(":")
        if not port.isdigit():
            raise sec.error("listen", "must be HOST:PORT")
        certfile = sec.get_path("certfile", None)
        keyfile = sec.get_path("keyfile", None)
        if (certfile is None) != (keyfile is None):
            raise sec.error("certfile", "certfile and keyfile go together")
        if certfile is None and not is_loopback(host) and not config.has("web"):
            raise sec.error("certfile", "credentials travel: HTTPS is needed except on loopback")
        return cls(
            tokens=sec.get_path("tokens", config.path.parent / "enrol-tokens.sqlite"),
            listen_host=host or "0.0.0.0", listen_port=int(port), certfile=certfile,
            keyfile=keyfile, broker_url=sec.get_str("broker_url"),
            password_file=sec.get_path("password_file", None),
            acl_file=sec.get_path("acl_file", None),
            reload_command=sec.get_str("reload_command", ""),
            rate_per_minute=sec.get_int("rate_per_minute", DEFAULT_RATE_PER_MINUTE, min=1),
        )


def add_broker_account(settings: EnrolmentSettings, device: str, site: str,
                       password: str) -> None:
    """Add (or replace) the device's broker account and ACL block, then reload the broker.

    When the reload fails the files are put back as they were and EnrolmentError
    is raised: the broker and its files never disagree about the device.
    """
    from central.broker import DeviceAccount, device_acl_lines, hash_password

    before = {path: _contents(path) for path in (settings.password_file, settings.acl_file)
              if path is not None}
    # ACL blocks are separated by blank lines; the device's own block is replaced.
    blocks = "\n".join(_lines(settings.acl_file)).split("\n\n") if settings.acl_file else []
    if any(b.strip().startswith(f"user {device}\n") and "/+/+/" in b for b in blocks):
        raise EnrolmentError(f"{device} is a central account, not a device: not enrolled")
    if settings.password_file:
        lines = [ln for ln in _lines(settings.password_file) if not ln.startswith(f"{device}:")]
        _write_lines(settings.password_file, [*lines, f"{device}:{hash_password(password)}"])
    if settings.acl_file:
        kept = [b for b in blocks if b.strip() and b.strip().splitlines()[0] != f"user {device}"]
        kept.append("\n".join(device_acl_lines(DeviceAccount(device, site))))
        _write_lines(settings.acl_file, "\n\n".join(kept).splitlines())
    if settings.reload_command:
        problem = _reload(settings.reload_command)
        if problem:
            for path, contents in before.items():
                _put_back(path, contents)
            raise EnrolmentError(f"reload_command {settings.reload_command!r} {problem}; "
                                 f"the broker files were put back and {device} was not enrolled")


def _reload(command: str) -> str | None:
    """Run the broker's reload command; what went wrong, or None."""
    try:
        done = subprocess.run(command, shell=True, check=False, capture_output=True,
                              timeout=RELOAD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"did not finish in {RELOAD_TIMEOUT:.0f} s"
    except OSError as exc:
        return f"could not run: {exc.strerror}"
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"failed (exit {done.returncode}{': ' + err[-1][:200] if err else ''})"
    return None


def _contents(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _put_back(path: Path, contents: bytes | None) -> None:
    """Restore a file as `_contents` read it (None: it did not exist)."""
    try:
        if contents is None:
            path.unlink(missing_ok=True)
        else:
            write_atomically(path, contents, new_mode=0o600)
    except OSError as exc:
        log.error("%s: cannot put the file back: %s", path, exc.strerror)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _write_lines(path: Path, lines: list[str]) -> None:
    """Replace `path` atomically, keeping its mode and owner (0600 for a new file)."""
    try:
        write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"), new_mode=0o600)
    except OSError as exc:
        raise EnrolmentError(f"{path}: cannot write: {exc.strerror}") from None


class Enrolment:
    """Redeems tokens: the device's settings and new broker credentials, or an error.

    With a central store (`registry`), the device's site, area and unit and its
    enrolment time are recorded in the central's device registry first.
    """

    def __init__(self, settings: EnrolmentSettings, registry: CentralStore | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.book = TokenBook(settings.tokens)

    def enrol(self, token: str, now: datetime | None = None) -> dict[str, Any]:
        """Redeem a token (TokenRefused, or EnrolmentError with the token still valid)."""
        password = new_secret()
        now = now or datetime.now(UTC)
        with self.book.redeeming(token, now) as device:
            if self.registry is not None:
                self._register(device, now)
            add_broker_account(self.settings, device["device_id"], device["site"], password)
        log.info("enrolled device %s", device["device_id"])
        device.pop("made_by", None)
        return {**device, "broker_url": self.settings.broker_url,
                "username": device["device_id"], "password": password}

    def _register(self, device: dict[str, Any], now: datetime) -> None:
        from central import registry
        from central.store import CentralStoreError

        assert self.registry is not None
        # A gateway's answers carry the unit of each invitation: any unit of its area.
        unit = registry.ANY_UNIT if "sms" in device.get("roles", ()) else device["unit"]
        origin = registry.DeviceOrigin(device["device_id"], device["site"], device["area"],
                                       unit, enrolled_at=now)
        try:
            registry.check_origin(origin)
            registry.register(self.registry, origin, action="enrol",
                              actor=str(device.get("made_by", "enrolment")), at=now)
        except (CentralStoreError, registry.RegistryError) as exc:
            raise EnrolmentError(f"cannot record {origin.device} in the registry: {exc}") \
                from None

    def close(self) -> None:
        self.book.close()


class EnrolmentServer(Enrolment):
    """The enrolment endpoint on the central's web server (`central.web`), TLS unless loopback."""

    def __init__(self, settings: EnrolmentSettings, registry: CentralStore | None = None, *,
                 handshake_timeout: float = 10.0) -> None:
        from central.web.app import make_app
        from central.web.enrol import enrol_routes
        from central.web.server import WebServer, tls_context

        super().__init__(settings, registry)
        tls = None
        if settings.certfile and settings.keyfile:
            tls = tls_context(settings.certfile, settings.keyfile)
        app = make_app(enrol_routes(self), rate_per_minute=settings.rate_per_minute)
        try:
            self.web = WebServer(app, settings.listen_host, settings.listen_port, tls=tls,
                                 handshake_timeout=handshake_timeout)
        except PalauteError:
            self.book.close()
            raise

    @property
    def port(self) -> int:
        return self.web.port

    def start(self) -> EnrolmentServer:
        self.web.start()
        log.info("enrolment endpoint on port %d", self.port)
        return self

    def close(self) -> None:
        """Stop serving; safe to call twice."""
        self.web.close()
        super().close()


def start_enrolment_server(config: Config, registry: CentralStore | None = None
                           ) -> EnrolmentServer | None:
    """Start the endpoint when the config has `[enrol]`; None otherwise."""
    settings = EnrolmentSettings.from_config(config)
    return EnrolmentServer(settings, registry).start() if settings else None
