"""The device's sync agent: local store → MQTT batches → marked synced on the central's ack.

One agent thread owns the store and all decisions; paho's network thread only
turns broker events into items on a bounded queue. Rows are marked synced only
when the central's ack names them (a PUBACK only means the broker has the
batch). Anything unacknowledged is simply sent again: the central stores by
response UUID, so a repeat changes nothing there. After a crash the agent starts
from the local store again, which is the only state that matters.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from survey import __version__
from survey.config import Config, DeviceIdentity
from survey.definition import check_text, load_survey
from survey.errors import StoreError
from survey.files import write_atomically
from survey.service import Runner
from survey.store import Store
from sync import protocol
from sync.mqtt import MqttSettings, load_mqtt_settings, make_client, reason_failed
from sync.outbox import Outbox
from sync.protocol import ProtocolError, RemoteConfig, Topic

log = logging.getLogger(__name__)

META_LAST_SYNC = "sync.last_sync"
META_CONFIG_VERSION = "sync.config_version"
META_CONFIG_ERROR = "sync.config_error"
META_SETTINGS = "sync.settings"
META_REJECTED = "sync.rejected"

StatusExtra = Callable[[Store], dict[str, Any]]
# (survey TOML text, where it came from) -> its problems; empty when it may be used.
SurveyChecker = Callable[[str, str], Sequence[object]]


@dataclass(frozen=True)
class SyncSettings:
    """`[sync]`: batching, acks and heartbeat (all with working defaults)."""

    batch_max_count: int = 200
    batch_max_bytes: int = 128 * 1024
    max_inflight: int = 2
    ack_timeout: float = 30.0
    backoff_max: float = 600.0
    heartbeat_seconds: float = 60.0
    poll_interval: float = 1.0
    gzip_min_bytes: int = protocol.GZIP_MIN_BYTES


def load_sync_settings(config: Config) -> SyncSettings:
    """Read `[sync]` (every key optional)."""
    sec = config.section("sync")
    sec.check_keys()
    # Each field of SyncSettings is a [sync] key; defaults and limits are the schema's.
    return SyncSettings(**{
        f.name: sec.get_float(f.name) if f.type in ("float", float) else sec.get_int(f.name)
        for f in dataclasses.fields(SyncSettings)
    })


def survey_version_of(path: Path) -> dict[str, str | int] | None:
    """{"id", "version"} of the survey file in use, or None when it cannot be read."""
    try:
        survey = load_survey(path)
        return {"id": survey.id, "version": survey.version}
    except Exception:  # a broken or missing survey must not stop the sync
        return None


class BrokerEvent(Enum):
    """What paho's network thread saw, handed to the agent thread."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ACK = "ack"
    CONFIG = "config"


# The topics the agent subscribes to, by their last level.
_MESSAGE_EVENTS = {"ack": BrokerEvent.ACK, "config": BrokerEvent.CONFIG}


@dataclass(frozen=True)
class _Event:
    kind: BrokerEvent
    payload: bytes = b""


@dataclass
class AgentStats:
    """Counters for tests and the status screen."""

    batches_sent: int = 0
    resends: int = 0
    acks: int = 0
    marked: int = 0
    connects: int = 0
    configs: int = 0


class SyncAgent:
    """Carries final responses from the local store to the central (see module doc)."""

    def __init__(
        self,
        store: Store,
        identity: DeviceIdentity,
        mqtt_settings: MqttSettings,
        settings: SyncSettings | None = None,
        *,
        survey_path: Path | None = None,
        status_extras: Sequence[StatusExtra] = (),
        survey_checker: SurveyChecker = check_text,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.identity = identity
        self.mqtt_settings = mqtt_settings
        self.settings = settings or SyncSettings()
        self.survey_path = survey_path
        # Other parts of this device that add to the heartbeat (the SMS gateway's counters):
        # given by whoever puts the device together, never looked up from here.
        self.status_extras = list(status_extras)
        self.survey_checker = survey_checker
        self.clock = clock
        # Resend timers and the heartbeat run on this clock (a test moves it by hand).
        self.monotonic = monotonic
        self.stats = AgentStats()
        # False while the local store fails: the watchdog stops and systemd restarts us
        # if it lasts (the kiosk does the same).
        self.healthy = True
        self.store_retry_seconds = 1.0
        self.connected = threading.Event()
        self._events: queue.Queue[_Event] = queue.Queue(maxsize=1000)
        self._topic = Topic(identity.site, identity.id, "responses")
        self.outbox = Outbox(self.settings.max_inflight, self.settings.ack_timeout,
                             self.settings.backoff_max)
        self._next_heartbeat = 0.0
        # JSON bytes of one response in the last batch (how many rows to fetch for the next)
        self._bytes_per_response = 100.0
        self._survey_info = survey_version_of(survey_path) if survey_path else None
        self._apply_stored_settings()
        self.client = self._make_client()

    # -- paho side (network thread): only enqueue -----------------------------------

    def _make_client(self) -> mqtt.Client:
        client_id = self.mqtt_settings.client_id or f"palaute-sync-{self.identity.id}"
        client = make_client(self.mqtt_settings, client_id, persistent=True)
        will = protocol.encode(protocol.offline_status(self.identity.id, self.identity.site))
        client.will_set(str(self._topic.sibling("status")), will, qos=1, retain=True)
        # Only our own batches and status are ever queued in paho: bounded by design.
        client.max_queued_messages_set(self.settings.max_inflight * 4 + 16)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _put(self, event: _Event) -> None:
        try:
            self._events.put_nowait(event)
        except queue.Full:
            # Dropping an ack only delays marking: the batch is re-sent and acked again.
            log.warning("event queue full; dropped a %s event", event.kind.value)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_failed(reason_code):
            log.warning("broker refused the connection: %s", reason_code)
            return
        client.subscribe([(str(self._topic.sibling("ack")), 1),
                          (str(self._topic.sibling("config")), 1)])
        self.connected.set()
        self._put(_Event(BrokerEvent.CONNECTED))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self.connected.clear()
        self._put(_Event(BrokerEvent.DISCONNECTED))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        kind = _MESSAGE_EVENTS.get(msg.topic.rsplit("/", 1)[-1])
        if kind is BrokerEvent.CONFIG and not msg.payload:
            return  # the central cleared its retained config: keep what we have
        if kind is not None:
            self._put(_Event(kind, bytes(msg.payload)))

    # -- agent thread ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Sync until `stop` is set (the service runner); never raises for broker trouble."""
        Runner(stop=stop).run(self)

    def start(self) -> str:
        """Connect in the background (paho's thread reconnects); the status line."""
        s = self.mqtt_settings
        log.info("sync agent for %s connecting to %s:%d", self.identity.id, s.host, s.port)
        self.client.connect_async(s.host, s.port, keepalive=s.keepalive)
        self.client.loop_start()
        return f"syncing {self.identity.id}"

    def step(self, stop: threading.Event) -> bool:
        """One pass: broker events, resends, new batches, heartbeat; store errors -> unhealthy."""
        try:
            self._step()
        except StoreError as exc:
            # E.g. the kiosk holding a long write lock, or a full disk: try again soon.
            log.error("local store: %s", exc)
            self.healthy = False
            stop.wait(self.store_retry_seconds)
        else:
            self.healthy = True
        return True

    def status_line(self) -> str:
        """Connection and counters, for `systemctl status`."""
        link = "connected" if self.connected.is_set() else "not connected"
        return (f"syncing {self.identity.id}: {link}, {self.stats.marked} synced, "
                f"{len(self.outbox)} batch(es) in flight")

    def close(self) -> None:
        """Say offline and disconnect; safe to call twice."""
        self._shutdown()

    def _step(self) -> None:
        self._drain_events(self._wait_time())
        if not self.connected.is_set():
            return
        mono = self.monotonic()
        for batch in self.outbox.due(mono):
            self._publish(str(self._topic), batch.payload)
            self.outbox.resent(batch, mono)
            self.stats.resends += 1
            log.info("re-sent batch %s (attempt %d)", batch.batch_id, batch.attempts)
        self._fill_outbox(mono)
        if mono >= self._next_heartbeat:
            self.publish_status()

    def _wait_time(self) -> float:
        wait = self.settings.poll_interval
        if self.connected.is_set():
            nxt = self.outbox.next_due()
            if nxt is not None:
                wait = min(wait, max(0.0, nxt - self.monotonic()))
            wait = min(wait, max(0.0, self._next_heartbeat - self.monotonic()))
        return wait

    def _drain_events(self, wait: float) -> None:
        try:
            event = self._events.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            self._handle(event)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return

    def _handle(self, event: _Event) -> None:
        match event.kind:
            case BrokerEvent.CONNECTED:
                self.stats.connects += 1
                log.info("connected to the broker")
                self.outbox.resend_all_soon(self.monotonic())
                self._next_heartbeat = 0.0
            case BrokerEvent.DISCONNECTED:
                log.info("disconnected from the broker")
            case BrokerEvent.ACK:
                self._handle_ack(event.payload)
            case BrokerEvent.CONFIG:
                self._handle_config(event.payload)

    def _handle_ack(self, payload: bytes) -> None:
        try:
            ack = protocol.parse_ack(payload)
        except ProtocolError as exc:
            log.warning("ignored a bad ack: %s", exc)
            return
        ids, batch = self.outbox.on_ack(ack)
        self.stats.acks += 1
        now = self.clock()
        if ids:
            self.stats.marked += self.store.mark_synced(ids, ack.batch, now)
        if ack.rejected:
            # The central keeps refused responses in its quarantine: report, do not resend.
            log.error("central refused %d response(s) of batch %s: %s", len(ack.rejected),
                      ack.batch, ack.rejected[0][1])
            total = int(self.store.get_meta(META_REJECTED, "0") or 0) + len(ack.rejected)
            self.store.set_meta(META_REJECTED, str(total))
        if batch is not None or ids:
            self.store.set_meta(META_LAST_SYNC, now.isoformat(timespec="seconds"))

    def _fill_outbox(self, mono: float) -> None:
        s = self.settings
        while self.outbox.capacity > 0:
            # Fetch about what fits the byte limit (from the sizes sent so far), not the
            # count limit: reading and converting rows that wait for the next batch is waste.
            fits = int(s.batch_max_bytes / self._bytes_per_response * 1.1) + 8
            responses = self.store.unsynced(limit=min(s.batch_max_count, fits),
                                            after_seq=self.outbox.after_seq())
            if not responses:
                return
            responses = [protocol.wire_safe(r) for r in responses]
            batch_id = str(uuid.uuid4())
            n, payload = protocol.pack_batch(
                batch_id, self.identity.id, self.clock(), responses,
                gzip_min=s.gzip_min_bytes, max_count=s.batch_max_count,
                max_bytes=s.batch_max_bytes)
            responses = responses[:n]
            self._bytes_per_response = max(
                16.0, sum(protocol.response_size(r) for r in responses[:20]) / min(n, 20))
            self._publish(str(self._topic), payload)
            # Unsynced responses are final, so each has its sequence number.
            last_seq = max(r.seq or 0 for r in responses)
            self.outbox.add(batch_id, tuple(r.id for r in responses), last_seq, payload, mono)
            self.stats.batches_sent += 1
            log.debug("sent batch %s: %d responses, %d bytes", batch_id, n, len(payload))

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            # Not connected (any more): the resend timer or the reconnect sends it again.
            log.debug("publish to %s not sent now: %s", topic, mqtt.error_string(info.rc))

    # -- status --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The heartbeat payload: versions, queue, last sync, disk, other parts' counters."""
        now = self.clock()
        oldest = self.store.oldest_unsynced()
        age = None
        if oldest:
            try:
                age = max(0, round((now - datetime.fromisoformat(oldest)).total_seconds()))
            except ValueError:
                age = None
        try:
            disk_free: int | None = shutil.disk_usage(self.store.path.parent).free
        except OSError:
            disk_free = None
        config_version = self.store.get_meta(META_CONFIG_VERSION)
        out: dict[str, Any] = {
            "v": protocol.PROTOCOL_VERSION, "device": self.identity.id,
            "site": self.identity.site, "state": "online", "at": now.isoformat(timespec="seconds"),
            "software": __version__, "survey": self._survey_info,
            "config_version": int(config_version) if config_version else None,
            "config_error": self.store.get_meta(META_CONFIG_ERROR),
            "queue_depth": self.store.queue_depth(), "oldest_unsynced": oldest,
            "oldest_unsynced_age_s": age, "last_sync": self.store.get_meta(META_LAST_SYNC),
            "rejected": int(self.store.get_meta(META_REJECTED, "0") or 0),
            "disk_free_bytes": disk_free,
        }
        for extra in self.status_extras:
            try:
                out.update(extra(self.store))
            except Exception:  # another part's bug must not stop the heartbeat
                log.exception("status extra %r failed", extra)
        return out

    def publish_status(self) -> None:
        """Publish the retained status now and schedule the next heartbeat."""
        self._next_heartbeat = self.monotonic() + self.settings.heartbeat_seconds
        payload = protocol.encode(self.status(), gzip_min=1 << 30)
        self._publish(str(self._topic.sibling("status")), payload, retain=True)

    # -- remote configuration ----------------------------------------------------------------

    def _apply_stored_settings(self) -> None:
        raw = self.store.get_meta(META_SETTINGS)
        if raw:
            try:
                self._apply_settings(json.loads(raw))
            except (ValueError, TypeError):
                log.warning("ignored stored remote settings that do not parse")

    def _apply_settings(self, values: dict[str, Any]) -> None:
        # Checked again: settings stored by an earlier release may be out of today's range.
        known = {k: v for k, v in values.items() if protocol.setting_problem(k, v) is None}
        if "heartbeat_seconds" in known:
            known["heartbeat_seconds"] = float(known["heartbeat_seconds"])
        self.settings = replace(self.settings, **known)

    def _handle_config(self, payload: bytes) -> None:
        self.stats.configs += 1
        try:
            config = protocol.parse_config(payload)
        except ProtocolError as exc:
            self._config_failed(None, str(exc))
            return
        applied = self.store.get_meta(META_CONFIG_VERSION)
        if applied and config.version <= int(applied):
            if config.version < int(applied):
                # E.g. a stale retained message: never go back to an older configuration.
                log.warning("ignored remote configuration version %d (version %s is applied)",
                            config.version, applied)
            return
        error = self.apply_config(config)
        if error:
            self._config_failed(config.version, error)
        else:
            log.info("applied remote configuration version %d", config.version)
            self.store.set_meta(META_CONFIG_VERSION, str(config.version))
            self.store.set_meta(META_CONFIG_ERROR, "")
        self.publish_status()

    def _config_failed(self, version: int | None, error: str) -> None:
        label = f"version {version}" if version is not None else "message"
        log.error("remote configuration %s refused, keeping the previous one: %s", label, error)
        self.store.set_meta(META_CONFIG_ERROR, f"{label}: {error}"[:500])

    def apply_config(self, config: RemoteConfig) -> str | None:
        """Check and apply a remote configuration; the reason when it was refused."""
        if config.survey is not None:
            if self.survey_path is None:
                return "this device has no [survey] file to replace"
            try:
                problems = self.survey_checker(config.survey, f"config v{config.version}")
            except Exception as exc:  # a checker crash is a refusal, not a dead agent
                return f"survey check failed: {exc}"
            if problems:
                return "survey has problems: " + "; ".join(str(p) for p in problems[:5])
            try:
                write_atomically(self.survey_path, config.survey.encode("utf-8"))
            except OSError as exc:
                return f"cannot write {self.survey_path}: {exc.strerror or exc}"
            self._survey_info = survey_version_of(self.survey_path)
        self.store.set_meta(META_SETTINGS, json.dumps(config.settings, sort_keys=True))
        self._apply_settings(config.settings)
        return None

    # -- stopping -------------------------------------------------------------------------------

    def _shutdown(self) -> None:
        try:
            if self.connected.is_set():
                offline = protocol.offline_status(self.identity.id, self.identity.site)
                info = self.client.publish(str(self._topic.sibling("status")),
                                           protocol.encode(offline), qos=1, retain=True)
                # Bounded: a broker that went away must not keep us from stopping.
                info.wait_for_publish(timeout=2.0)
        except (RuntimeError, ValueError) as exc:
            log.debug("offline status not sent: %s", exc)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self.connected.clear()


def agent_from_config(config: Config, store: Store,
                      status_extras: Sequence[StatusExtra] = ()) -> SyncAgent:
    """A SyncAgent set up from a device config file and its opened store."""
    identity = config.identity()
    survey_path = config.survey_path() if config.has("survey") else None
    mqtt_settings = load_mqtt_settings(config, default_client_id=f"palaute-sync-{identity.id}")
    return SyncAgent(
        store, identity, mqtt_settings, load_sync_settings(config), survey_path=survey_path,
        status_extras=status_extras,
    )
