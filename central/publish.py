"""Publishing a device's configuration (retained, versioned) on the broker.

`palaute central publish-config` and the web page's operator action both call
`publish_config`: the payload is checked as the device will check it, then published
retained with QoS 1 on `palaute/SITE/DEVICE/config`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from survey.config import Config
from survey.errors import ConfigError, PalauteError


class PublishFailed(PalauteError):
    """A configuration could not be handed to the broker."""


def parse_setting(text: str) -> tuple[str, int]:
    """One KEY=INTEGER setting."""
    key, sep, value = text.partition("=")
    if not sep or not value.strip().isdigit():
        raise ConfigError("--set", f"expected KEY=INTEGER, got {text!r}")
    return key.strip(), int(value)


def publish_config(config: Config, site: str, device: str, version: int,
                   survey_text: str | None, settings: Mapping[str, int]) -> str:
    """Publish the configuration through the broker of `config`'s [mqtt]; returns the topic."""
    from sync.mqtt import load_mqtt_settings, make_client, reason_failed
    from sync.protocol import ProtocolError, RemoteConfig, Topic, encode, parse_config

    mqtt = load_mqtt_settings(config, default_client_id="palaute-central-publish")
    remote = RemoteConfig(version, survey_text, dict(settings))
    payload = encode(remote.to_dict())
    try:
        parse_config(payload)  # the same check the device makes
    except ProtocolError as exc:
        raise ConfigError("publish-config", str(exc)) from None
    topic = str(Topic(site, device, "config"))
    client = make_client(mqtt, f"{mqtt.client_id}-{time.time_ns()}", persistent=False)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: None if reason_failed(rc) else connected.set()
    try:
        client.connect(mqtt.host, mqtt.port, keepalive=mqtt.keepalive)
    except OSError as exc:
        raise PublishFailed(f"cannot reach the broker {mqtt.host}:{mqtt.port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(10):
            raise PublishFailed(f"the broker {mqtt.host}:{mqtt.port} did not accept us")
        info = client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            raise PublishFailed(f"the broker did not take the configuration for {topic}")
    finally:
        client.disconnect()
        client.loop_stop()
    return topic
