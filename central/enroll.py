"""Device enrolment: one-time tokens and the HTTPS endpoint that redeems them.

`palaute central enroll-token` records what a device will be (id, site, area,
unit, roles, survey) under a random token and prints the token once; only its
SHA-256 is kept. `palaute central serve` runs the endpoint when `[enrol]` is
configured: a device POSTs {"token": …} and gets its settings plus fresh MQTT
credentials; the token is spent in the same transaction, so it works once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import ssl
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from survey.config import Config
from survey.db import transaction
from survey.errors import PalauteError
from survey.files import write_atomically
from sync.mqtt import is_loopback

log = logging.getLogger(__name__)

MAX_BODY = 4096


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
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.conn.execute(
                "INSERT INTO tokens (digest, device, settings, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (_digest(token), settings["device_id"], json.dumps(settings),
                 now.isoformat(), (now + ttl).isoformat()),
            )
        return token

    def redeem(self, token: str, now: datetime) -> dict[str, Any]:
        """The settings of a valid token, spending it; TokenRefused otherwise."""
        with self._lock, transaction(self.conn) as c:
            row = c.execute(
                "SELECT settings, expires_at, used_at FROM tokens WHERE digest = ?",
                (_digest(token),),
            ).fetchone()
            if row is None or row[2] is not None or datetime.fromisoformat(row[1]) < now:
                raise TokenRefused("token unknown, used or expired")
            c.execute("UPDATE tokens SET used_at = ? WHERE digest = ?",
                      (now.isoformat(), _digest(token)))
        settings: dict[str, Any] = json.loads(row[0])
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

    @classmethod
    def from_config(cls, config: Config) -> EnrolmentSettings | None:
        """None when the config has no `[enrol]` section."""
        if not config.has("enrol"):
            return None
        sec = config.section("enrol")
        sec.check_keys({"tokens", "listen", "certfile", "keyfile", "broker_url",
                        "password_file", "acl_file", "reload_command"})
        host, _, port = sec.get_str("listen", "0.0.0.0:8443").rpartition(":")
        if not port.isdigit():
            raise sec.error("listen", "must be HOST:PORT")
        certfile = sec.get_path("certfile", None)
        keyfile = sec.get_path("keyfile", None)
        if (certfile is None) != (keyfile is None):
            raise sec.error("certfile", "certfile and keyfile go together")
        if certfile is None and not is_loopback(host):
            raise sec.error("certfile", "credentials travel: HTTPS is needed except on loopback")
        return cls(
            tokens=sec.get_path("tokens", config.path.parent / "enrol-tokens.sqlite"),
            listen_host=host or "0.0.0.0", listen_port=int(port), certfile=certfile,
            keyfile=keyfile, broker_url=sec.get_str("broker_url"),
            password_file=sec.get_path("password_file", None),
            acl_file=sec.get_path("acl_file", None),
            reload_command=sec.get_str("reload_command", ""),
        )


def add_broker_account(settings: EnrolmentSettings, device: str, site: str,
                       password: str) -> None:
    """Add (or replace) the device's broker account and ACL block, then reload the broker."""
    from central.broker import DeviceAccount, device_acl_lines, hash_password

    if settings.password_file:
        lines = [ln for ln in _lines(settings.password_file) if not ln.startswith(f"{device}:")]
        _write_lines(settings.password_file, [*lines, f"{device}:{hash_password(password)}"])
    if settings.acl_file:
        # ACL blocks are separated by blank lines; the device's own block is replaced.
        blocks = "\n".join(_lines(settings.acl_file)).split("\n\n")
        kept = [b for b in blocks if b.strip() and b.strip().splitlines()[0] != f"user {device}"]
        kept.append("\n".join(device_acl_lines(DeviceAccount(device, site))))
        _write_lines(settings.acl_file, "\n\n".join(kept).splitlines())
    if settings.reload_command:
        subprocess.run(settings.reload_command, shell=True, check=False)


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


class EnrolmentServer:
    """The HTTPS endpoint `POST /enroll`; runs in a thread beside the receiver."""

    def __init__(self, settings: EnrolmentSettings) -> None:
        self.settings = settings
        self.book = TokenBook(settings.tokens)
        self.httpd = ThreadingHTTPServer((settings.listen_host, settings.listen_port),
                                         self._handler())
        if settings.certfile and settings.keyfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(settings.certfile, settings.keyfile)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="enrol",
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> EnrolmentServer:
        self._thread.start()
        log.info("enrolment endpoint on port %d", self.port)
        return self

    def close(self) -> None:
        """Stop serving; safe to call twice."""
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
        self.book.close()

    def enrol(self, token: str) -> dict[str, Any]:
        """Redeem a token: the device's settings and new broker credentials."""
        settings = self.book.redeem(token, datetime.now(UTC))
        password = secrets.token_urlsafe(24)
        add_broker_account(self.settings, settings["device_id"], settings["site"], password)
        log.info("enrolled device %s", settings["device_id"])
        return {**settings, "broker_url": self.settings.broker_url,
                "username": settings["device_id"], "password": password}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                log.debug("enrol: " + format, *args)

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if self.path != "/enroll":
                    return self._reply(404, {"error": "not found"})
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    if not 0 < length <= MAX_BODY:
                        return self._reply(400, {"error": "body missing or too large"})
                    token = json.loads(self.rfile.read(length))["token"]
                    if not isinstance(token, str):
                        raise TypeError("token must be a string")
                except (ValueError, KeyError, TypeError) as exc:
                    return self._reply(400, {"error": f"bad request: {exc}"})
                try:
                    return self._reply(200, server.enrol(token))
                except TokenRefused:
                    return self._reply(403, {"error": "token refused"})
                except EnrolmentError as exc:
                    log.error("enrolment failed: %s", exc)
                    return self._reply(500, {"error": "enrolment failed on the central"})

        return Handler


def start_enrolment_server(config: Config) -> EnrolmentServer | None:
    """Start the endpoint when the config has `[enrol]`; None otherwise."""
    settings = EnrolmentSettings.from_config(config)
    return EnrolmentServer(settings).start() if settings else None
