"""The central receiver: MQTT batches → idempotent central store → ack.

Several receivers may run at once: they share the responses subscription
(`$share/central/…`), and the store keys responses by UUID, so a batch that
reaches two of them, or one twice, is stored once. The ack is published only
after the commit; a receiver that dies in between leaves the device to send the
batch again, which then changes nothing but gets its ack. No payload can stop
the receiver: a message it cannot use is kept in the quarantine table with why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from central import origin, registry
from central.scales import scale_problems, shipped_scales
from central.store import CentralStore, CentralStoreDataError, CentralStoreError, local_date_of
from survey.service import Runner
from sync import protocol
from sync.mqtt import MqttSettings, make_client, reason_failed, session_properties
from sync.protocol import Ack, ProtocolError, Topic

log = logging.getLogger(__name__)

# How long the broker keeps a receiver's session after it went away. While the session
# lives, the broker keeps giving it its share of the shared subscription (queued, not
# delivered): a dead receiver must not hold batches for long. Long enough for a restart.
DEFAULT_SESSION_EXPIRY = 120
# What one device's refused messages may take in the quarantine a day (four messages of
# the broker's largest size: enough to see what went wrong; the rest is only counted).
DEFAULT_QUARANTINE_BYTES_PER_DAY = 4 * 1024 * 1024
# How long stopping waits for the network thread (paho's loop wakes at least every second).
NETWORK_JOIN_SECONDS = 5.0


@dataclass(frozen=True)
class OutgoingAck:
    """A message the receiver wants published (an ack)."""

    topic: str
    payload: bytes


@dataclass
class ReceiverStats:
    """Counters for tests and logs."""

    batches: int = 0
    stored: int = 0
    acks: int = 0
    quarantined: int = 0
    statuses: int = 0
    errors: int = 0
    connects: int = 0
    quarantine_dropped: int = 0
    # "DEVICE DAY" of each device whose quarantine is full today (alarmed once each)
    quarantine_full: set[str] = field(default_factory=set)


def handle_message(
    store: CentralStore, topic_text: str, payload: bytes, now: datetime,
    stats: ReceiverStats | None = None,
    after_commit: Callable[[str], None] | None = None,
    quarantine_limit: int | None = DEFAULT_QUARANTINE_BYTES_PER_DAY,
) -> OutgoingAck | None:
    """Process one incoming message; returns the ack to publish, if any.

    Raises CentralStoreError only when the store itself fails (then nothing is
    acked and the device's resend brings the batch back). Refused messages are
    kept up to `quarantine_limit` bytes per device a day, then only counted.
    """
    stats = stats or ReceiverStats()
    q = _Quarantine(store, topic_text, payload, now, stats, quarantine_limit)
    try:
        topic = Topic.parse(topic_text)
    except ProtocolError as exc:
        q(str(exc))
        return None
    if topic.kind == "status":
        _handle_status(store, topic, payload, now, stats, q)
        return None
    if topic.kind != "responses":
        q(f"unexpected {topic.kind} message")
        return None
    stats.batches += 1
    check = protocol.check_batch(topic, payload)
    if check.accepted:
        claims = _place(store, topic.device, check, now)
        stats.stored += _store(store, check, now)
        kept = {r.id for r in check.accepted}
        registry.record_claims(store, [c for c in claims if c.response_id in kept], now)
    if check.error or check.rejected:
        q(check.error or "; ".join(f"{rid}: {err}" for rid, err in check.rejected[:10]))
    if check.batch_id is None:
        log.warning("%s: batch without a usable id cannot be acked: %s", topic_text, check.error)
        return None
    if after_commit is not None:
        after_commit(check.batch_id)
    ack = Ack(check.batch_id, tuple(r.id for r in check.accepted), tuple(check.rejected),
              check.error)
    stats.acks += 1
    return OutgoingAck(str(topic.sibling("ack")), protocol.encode(ack.to_dict()))


def _place(store: CentralStore, device: str, check: protocol.BatchCheck,
           now: datetime) -> list[origin.Claim]:
    """File the accepted responses under the device's registered origin, flagging what
    disagrees or has implausible times; the origins they claimed instead. A response
    with an answer off its (known) question's scale is rejected."""
    registered = registry.lookup(store, device)
    claims = []
    placed = []
    scales = shipped_scales()
    for resp in check.accepted:
        problems = scale_problems(resp, scales)
        if problems:
            check.rejected.append((resp.id, "; ".join(problems)))
            continue
        judged, claim = origin.judge(resp, registered, now)
        placed.append(judged)
        if claim is not None:
            claims.append(claim)
    check.accepted = placed
    if claims:
        log.warning("%s: %d responses claimed another origin than the registry's",
                    device, len(claims))
    return claims


def _store(store: CentralStore, check: protocol.BatchCheck, now: datetime) -> int:
    """Insert the accepted responses; one the database refuses is rejected, not retried."""
    try:
        return store.insert_responses(check.accepted, received_at=now)
    except CentralStoreDataError:
        pass
    # Some response holds what the database cannot take: find it, keep the rest.
    new = 0
    kept = []
    for resp in check.accepted:
        try:
            new += store.insert_responses([resp], received_at=now)
            kept.append(resp)
        except CentralStoreDataError as exc:
            check.rejected.append((resp.id, f"cannot be stored: {str(exc)[:200]}"))
    check.accepted = kept
    return new


def device_of_topic(topic: str) -> str:
    """The device segment of a `palaute/v1/SITE/DEVICE/…` topic ("" when there is none).

    The broker's ACL lets a device publish only under its own id, so this names
    whose quarantine budget a refused message is counted against.
    """
    parts = topic.split("/")
    if len(parts) >= 4 and "/".join(parts[:2]) == protocol.ROOT:
        return protocol.storable_text(parts[3][:200])
    return ""


@dataclass
class _Quarantine:
    """Keeps one incoming message in the quarantine with a reason, within its device's budget."""

    store: CentralStore
    topic: str
    payload: bytes
    now: datetime
    stats: ReceiverStats
    limit: int | None

    def __call__(self, reason: str) -> None:
        device = device_of_topic(self.topic)
        # The reason may quote what the device sent: no NUL or lone surrogate may reach
        # the table.
        kept = self.store.quarantine(
            protocol.storable_text(self.topic[:1000]), protocol.storable_text(reason[:2000]),
            self.payload, self.now, device=device, limit=self.limit)
        if kept:
            log.warning("quarantined a message on %s: %s", self.topic[:200], reason[:300])
            self.stats.quarantined += 1
            return
        self.stats.quarantine_dropped += 1
        key = f"{device} {local_date_of(self.now)}"
        if key not in self.stats.quarantine_full:
            day = key.split(" ")[1]
            self.stats.quarantine_full = {k for k in self.stats.quarantine_full
                                          if k.endswith(day)} | {key}
            log.error("quarantine full for device %r today (%d bytes a day): its further "
                      "refused messages are counted, not kept", device, self.limit)


def _quarantine(store: CentralStore, topic: str, reason: str, payload: bytes, now: datetime,
                stats: ReceiverStats, limit: int | None = DEFAULT_QUARANTINE_BYTES_PER_DAY
                ) -> None:
    _Quarantine(store, topic, payload, now, stats, limit)(reason)


def _handle_status(store: CentralStore, topic: Topic, payload: bytes, now: datetime,
                   stats: ReceiverStats, quarantine: Callable[[str], None]) -> None:
    if not payload:
        return  # a cleared retained status
    try:
        obj = protocol.decode(payload, max_bytes=256 * 1024)
    except ProtocolError as exc:
        quarantine(f"status: {exc}")
        return
    problems = protocol.status_problems(topic, obj)
    if problems:
        quarantine("status: " + "; ".join(problems))
        return
    store.upsert_device_status(topic.device, topic.site, obj, now)
    stats.statuses += 1


def status_line(stats: ReceiverStats) -> str:
    """The receiver's one-line status for systemd (`systemctl status`), with its alarms."""
    line = (f"batches {stats.batches}, stored {stats.stored}, "
            f"quarantined {stats.quarantined}, errors {stats.errors}")
    if stats.quarantine_dropped:
        line += (f"; ALARM quarantine full for {len(stats.quarantine_full)} device(s) today, "
                 f"{stats.quarantine_dropped} refused messages not kept")
    return line


class Receiver:
    """Subscribes to every device's batches and status; stores, quarantines, acks."""

    def __init__(
        self,
        store: CentralStore,
        mqtt_settings: MqttSettings,
        *,
        share_group: str = protocol.SHARED_GROUP,
        after_commit: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        session_expiry: int = DEFAULT_SESSION_EXPIRY,
        quarantine_limit: int | None = DEFAULT_QUARANTINE_BYTES_PER_DAY,
    ) -> None:
        self.store = store
        self.session_expiry = session_expiry
        self.quarantine_limit = quarantine_limit
        self.mqtt_settings = mqtt_settings
        self.share_group = share_group
        self.after_commit = after_commit
        self.clock = clock
        self.stats = ReceiverStats()
        self.beat = 1.0  # seconds between the main loop's looks at the network thread
        self.connected = threading.Event()
        self._network: threading.Thread | None = None
        client_id = mqtt_settings.client_id or "palaute-central"
        self.client = make_client(mqtt_settings, client_id, session_expiry=session_expiry)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_failed(reason_code):
            log.error("broker refused the receiver: %s", reason_code)
            return
        client.subscribe([
            (protocol.shared(protocol.RESPONSES_FILTER, self.share_group), 1),
            (protocol.STATUS_FILTER, 1),
        ])
        self.stats.connects += 1
        self.connected.set()
        log.info("receiver connected and subscribed")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self.connected.clear()
        log.info("receiver disconnected: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # Runs on paho's thread: the store commit happens before paho sends the PUBACK,
        # so a receiver that dies here gets the message again from the broker.
        # Nothing may escape: paho re-raises a callback's exception and its thread ends.
        try:
            topic = msg.topic
        except UnicodeDecodeError as exc:  # the topic's raw bytes come with the error
            raw = bytes(exc.object).decode("utf-8", "backslashreplace")
            _quarantine(self.store, raw, "topic is not UTF-8", bytes(msg.payload), self.clock(),
                        self.stats, self.quarantine_limit)
            return
        try:
            out = handle_message(self.store, topic, bytes(msg.payload), self.clock(),
                                 self.stats, self.after_commit, self.quarantine_limit)
        except CentralStoreError as exc:
            self.stats.errors += 1
            log.error("store failed on a message from %s (not acked): %s", topic[:200], exc)
            return
        except Exception:  # never let one message kill the receiver
            self.stats.errors += 1
            log.exception("unexpected failure on a message from %s", topic[:200])
            return
        if out is not None:
            client.publish(out.topic, out.payload, qos=1)

    def start(self) -> str:
        """Connect in the background: one network thread that also reconnects."""
        s = self.mqtt_settings
        self.client.connect_async(s.host, s.port, keepalive=s.keepalive, clean_start=False,
                                  properties=session_properties(self.session_expiry))
        # Our own thread running paho's loop (not loop_start): its liveness is ours to see.
        self._network = threading.Thread(target=self._network_loop, name="receiver-mqtt",
                                         daemon=True)
        self._network.start()
        return "receiving"

    def _network_loop(self) -> None:
        try:
            self.client.loop_forever(retry_first_connection=True)
        except Exception:  # logged here; network_alive turns false and the watchdog stops
            log.exception("the MQTT network loop failed")

    def stop(self) -> None:
        """Disconnect and stop the network thread; safe to call twice."""
        self.client.disconnect()
        network = self._network
        if network is not None and network is not threading.current_thread():
            network.join(timeout=NETWORK_JOIN_SECONDS)

    @property
    def network_alive(self) -> bool:
        """Whether the MQTT network thread (which also reconnects) is still running."""
        return self._network is not None and self._network.is_alive()

    # -- as a service (survey.service.Runner) ------------------------------------------

    @property
    def healthy(self) -> bool:
        """No watchdog pings once the network thread is gone: systemd restarts the receiver."""
        return self.network_alive

    def step(self, stop: threading.Event) -> bool:
        """Paho's thread does the work; the main loop only looks at it every `beat` seconds."""
        stop.wait(self.beat)
        return True

    def status_line(self) -> str:
        """Counters and alarms for `systemctl status`."""
        line = status_line(self.stats)
        return line if self.network_alive else "ALARM the MQTT network thread has stopped; " + line

    def close(self) -> None:
        """Stop receiving; safe to call twice."""
        self.stop()

    def run(self, stop: threading.Event, interval: float | None = None) -> None:
        """Receive until `stop` is set (`interval`: the watchdog beat, else WatchdogSec/2)."""
        runner = Runner(stop=stop) if interval is None else Runner(stop=stop, watchdog=interval)
        if interval is not None:
            self.beat = min(self.beat, interval)
        runner.run(self)
