"""MQTT connection settings from `[mqtt]` and a correctly set-up paho client.

Shared by the device's sync agent and the central receiver. `mqtt://` (no TLS) is
accepted only for a broker on the loopback interface; anything else needs
`mqtts://` with a CA file, and a client certificate or a username and password.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from survey.config import Config, Section

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how to log in (see module doc)."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    client_id: str | None = None
    keepalive: int = 30
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(url: str, section: Section) -> tuple[str, int, bool]:
    """(host, port, tls) of an mqtt:// or mqtts:// URL; errors name the config key."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise section.error("url", f"must start with mqtts:// (or mqtt:// on loopback): {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise section.error("url", f"has a bad port: {url!r}") from None
    host = parts.hostname or ""
    if not host:
        raise section.error("url", f"names no host: {url!r}")
    tls = parts.scheme == "mqtts"
    if not tls and not is_loopback(host):
        raise section.error(
            "url", f"mqtt:// (no TLS) is only allowed on loopback, not {host!r}; use mqtts://"
        )
    return host, port or (8883 if tls else 1883), tls


def _existing(section: Section, key: str) -> Path | None:
    if key not in section:
        return None
    path: Path = section.get_path(key)
    if not path.is_file():
        raise section.error(key, f"file not found: {path}")
    return path


def load_mqtt_settings(config: Config, *, default_client_id: str | None = None) -> MqttSettings:
    """Read `[mqtt]` of a device or central config file."""
    sec = config.section("mqtt", required=True)
    sec.check_keys()
    host, port, tls = parse_url(sec.get_str("url"), sec)
    password = None
    pw_file = _existing(sec, "password_file")
    if pw_file is not None:
        try:
            password = pw_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise sec.error("password_file", f"cannot read {pw_file}: {exc.strerror}") from None
    username = sec.get_str("username", None)
    if password is not None and username is None:
        raise sec.error("username", "is missing (password_file is given)")
    certfile, keyfile = _existing(sec, "certfile"), _existing(sec, "keyfile")
    if (certfile is None) != (keyfile is None):
        raise sec.error("keyfile" if keyfile is None else "certfile",
                        "certfile and keyfile go together")
    return MqttSettings(
        host=host, port=port, tls=tls, username=username, password=password,
        ca_file=_existing(sec, "ca_file"), certfile=certfile, keyfile=keyfile,
        client_id=sec.get_str("client_id", default_client_id),
        keepalive=sec.get_int("keepalive"),
        reconnect_min=sec.get_float("reconnect_min"),
        reconnect_max=sec.get_float("reconnect_max"),
    )


def make_client(settings: MqttSettings, client_id: str, *, persistent: bool = True,
                session_expiry: int | None = None) -> mqtt.Client:
    """A paho client (callback API v2) set up from `settings`; not yet connected.

    A persistent session (clean_session=False) lets the broker keep our
    subscriptions and queue QoS 1 messages for us while we are away. With
    `session_expiry` (seconds) the client speaks MQTT 5 and its session ends that
    long after it went away; connect it with `session_properties(session_expiry)`
    and clean_start=False. Otherwise it speaks MQTT 3.1.1.
    """
    if session_expiry is not None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
            protocol=mqtt.MQTTv311,
        )
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        client.tls_set(
            ca_certs=str(settings.ca_file) if settings.ca_file else None,
            certfile=str(settings.certfile) if settings.certfile else None,
            keyfile=str(settings.keyfile) if settings.keyfile else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.reconnect_delay_set(
        min_delay=max(1, round(settings.reconnect_min)),
        max_delay=max(1, round(settings.reconnect_max)),
    )
    client.enable_logger(logging.getLogger(f"{__name__}.paho"))
    return client


def session_properties(session_expiry: int) -> Properties:
    """MQTT 5 CONNECT properties asking the broker to keep our session `session_expiry` s."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry
    return props


def reason_failed(reason_code: Any) -> bool:
    """Whether a paho v2 reason code (or plain int) says failure."""
    failure = getattr(reason_code, "is_failure", None)
    if failure is not None:
        return bool(failure)
    return bool(reason_code)
