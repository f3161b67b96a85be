"""The SMS survey service: the thin shell around the gateway's pure parts.

One loop (`Gateway.step`) does, in order: take modem events (+CMTI: read
storage; +CDS: delivery report), store received parts durably and only then
delete them from the modem, process complete messages through the
conversation state machine, expire invitations and sessions, send at most one
message per modem (rate-limited), poll the patient system, publish modem
state for `palaute sms status`. Several modems share the one queue in the
store. Every decision is made by the pure modules with the `now` given here.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sms_gateway import conversation as conv
from sms_gateway.errors import (
    AtCommandError,
    ModemError,
    PduError,
    SendError,
    SmsGatewayError,
)
from sms_gateway.gateway_store import (
    DEFAULT_REST,
    Assembled,
    GatewayStore,
    OutgoingSms,
    SessionRow,
)
from sms_gateway.invitations import HttpIntake, IntakeError, IntakeSettings, intake_from_config
from sms_gateway.modem import (
    SIM_WAIT_DEFAULT,
    IncomingMessage,
    Modem,
    NewMessage,
    Rescan,
    StatusReport,
)
from sms_gateway.pdu import Pdu
from sms_gateway.phones import PhoneError, mask, normalise
from sms_gateway.privacy import hasher_from_config
from sms_gateway.scheduler import RateLimit, Window, window_from_config
from survey.config import Config, DeviceIdentity, Section, load_config
from survey.definition import load_survey
from survey.errors import StoreError
from survey.model import Survey
from survey.replies import read_reply
from survey.response import Channel, Status
from survey.service import Runner
from survey.store import Store, new_response_id

log = logging.getLogger(__name__)

# How often replies past their retention are looked for (by the service's clock).
PURGE_INTERVAL = timedelta(hours=1)
# When another service's reader kept the store's log from being emptied after forgetting,
# the next try comes this much later (seconds).
FORGET_RETRY_S = 1.0


@dataclass(frozen=True)
class Received:
    """One SMS-DELIVER found on a modem: storage index, sender, text, SCTS, concat info."""

    index: int | None
    sender: str
    text: str
    scts: str
    concat: tuple[int, int, int] | None  # (ref, total, seq)


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery report: the message reference it is about and TP-Status."""

    index: int | None
    ref: int
    status: int

    @property
    def delivered(self) -> bool | None:
        """True delivered, False failed for good, None still trying (TS 23.040 §9.2.3.15)."""
        if self.status < 0x20:
            return True
        if self.status >= 0x40:
            return False
        return None


@dataclass(frozen=True)
class ReadStorage:
    """The modem's storage must be listed: a message was stored, or indications were missed."""

    reason: str


# What a modem port reports between two looks: something to keep, or a reason to read storage.
PortEvent = Received | DeliveryReport | ReadStorage


@dataclass
class Health:
    """What `palaute sms status` shows of one modem."""

    ok: bool = False
    signal: int | None = None
    registration: str | None = None
    error: str | None = None


class ModemPort(Protocol):
    """What the service needs of one modem (the driver, or a test twin)."""

    name: str

    def send(self, number: str, text: str) -> list[int]:
        """Send one logical message (all its parts); the message references."""

    def stored(self) -> list[Received | DeliveryReport]:
        """Everything in the modem's message storage."""

    def delete(self, index: int) -> None:
        """Delete one stored message."""

    def events(self) -> list[PortEvent]:
        """Pending unsolicited events: messages, reports, or ReadStorage."""

    def health(self) -> Health:
        """Signal, registration, and whether the modem can send."""

    def close(self) -> None:
        """Release the port."""


@dataclass
class GatewaySettings:
    """The service's settings from `[sms]` (see cli_service for keys and defaults)."""

    window: Window
    lifetime: timedelta = conv.DEFAULT_LIFETIME
    rate_per_minute: int = 10
    multipart_timeout: timedelta = timedelta(minutes=5)
    scan_interval: float = 60.0
    health_interval: float = 30.0
    retry_port: float = 10.0
    expire_interval: float = 5.0
    intake: IntakeSettings | None = None
    # How long the texts of replies that never became answers are kept.
    reply_retention: timedelta = timedelta(days=30)
    rest: timedelta = DEFAULT_REST  # no new invitation to a person within this


@dataclass
class Link:
    """One modem in the service: its port (None while down), rate limit and health."""

    url: str
    opener: Callable[[], ModemPort]
    rate: RateLimit
    port: ModemPort | None = None
    health: Health = field(default_factory=Health)
    next_open: float = 0.0
    next_health: float = 0.0
    next_scan: float = 0.0


class _AsService:
    """The gateway as survey.service.Runner sees it (watchdog only while a modem is healthy)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @property
    def healthy(self) -> bool:
        return self.gateway.healthy

    def start(self) -> str:
        self.gateway.start()
        return self.gateway._status_line()

    def step(self, stop: threading.Event) -> bool:
        if not self.gateway.step():
            stop.wait(0.2)  # nothing to do: look again soon
        return True

    def status_line(self) -> str:
        return self.gateway._status_line()

    def close(self) -> None:
        self.gateway.close()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Gateway:
    """The service loop (see module doc): `start()`, then `step()` until stopped."""

    def __init__(self, gs: GatewayStore, survey: Survey, origin: DeviceIdentity,
                 links: Sequence[Link], settings: GatewaySettings, *,
                 intake: HttpIntake | None = None,
                 clock: Callable[[], datetime] = utc_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 reader: conv.Reader = read_reply) -> None:
        self.gs = gs
        self.store: Store = gs.store
        self.survey = survey
        self.origin = origin
        self.links = list(links)
        self.settings = settings
        self.intake = intake
        self.clock = clock
        self.monotonic = monotonic
        self.reader = reader
        self.next_poll = 0.0
        self.next_expire = 0.0
        self.next_purge: datetime | None = None
        self.next_forget = 0.0
        self.stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Recover from a crash (sending -> unknown), open modems, read their storage."""
        n = self.gs.recover()
        if n:
            log.warning("%d message(s) were being sent when the service stopped: their outcome "
                        "is unknown and they are not sent again (see `palaute sms status`)", n)
            self.gs.note_error(f"{n} send(s) interrupted: outcome unknown", self.clock())
        for link in self.links:
            self._ensure_open(link)

    def close(self) -> None:
        """Close every modem port and the intake's HTTP session; safe to call twice."""
        for link in self.links:
            self._drop(link, None)
        if self.intake is not None:
            self.intake.session.close()

    @property
    def healthy(self) -> bool:
        """True while at least one modem is open, registered and answering."""
        return any(link.port is not None and link.health.ok for link in self.links)

    def run(self) -> None:
        """Loop until `stop` is set (the service runner); the command in flight finishes first."""
        Runner(stop=self.stop, monotonic=self.monotonic).run(_AsService(self))

    def _status_line(self) -> str:
        up = sum(1 for link in self.links if link.port is not None)
        return f"{up}/{len(self.links)} modem(s) open"

    # -- one step ---------------------------------------------------------------

    def step(self) -> bool:
        """One pass of the loop; True when it did work (so the loop goes on at once).

        What the pass decides is one durable transaction: the parts the modems hold, the
        replies they complete (each its own savepoint), expiries and the next message
        claimed per modem. Only after its commit are the parts deleted from the modems
        and the claimed messages sent (at most once: a claim is committed first)."""
        received = []
        for link in self.links:
            self._ensure_open(link)
            received.append(self._take_events(link))
        busy = any(seen for _link, seen, _items in received)
        now = self.clock()
        claims: list[tuple[Link, OutgoingSms]] = []
        with self.store.group():
            for link, _seen, items in received:
                if link.port is not None:
                    for item in items:
                        self._keep(link.port, item, now)
            busy |= self.process_inbox(now)
            if self.monotonic() >= self.next_expire:
                # Deadlines are minutes to hours long: a look every few seconds is plenty.
                self.next_expire = self.monotonic() + self.settings.expire_interval
                self.expire(now)
            for link in self.links:
                out = None if self.stop.is_set() else self._claim(link, now)
                if out is not None:
                    claims.append((link, out))
        for link, _seen, items in received:
            self._delete(link, items)
        for link, out in claims:
            if link.port is None:  # it went away while its parts were deleted
                self.gs.not_sent(out, "the modem went away before the send", self.clock())
                continue
            self._send(link, link.port, out, self.clock())
            busy = True
        self._poll_intake(self.clock())
        if self.monotonic() >= self.next_forget and not self.gs.forget_for_good():
            self.next_forget = self.monotonic() + FORGET_RETRY_S  # a reader had the log
        return busy

    # -- modems -----------------------------------------------------------------

    def _ensure_open(self, link: Link) -> None:
        mono = self.monotonic()
        if link.port is None and mono >= link.next_open:
            try:
                link.port = link.opener()
                link.next_scan = 0.0
                link.next_health = 0.0
                log.info("modem %s open", link.url)
            except (ModemError, OSError) as exc:
                link.next_open = mono + self.settings.retry_port
                link.health = Health(ok=False, error=str(exc))
                self._publish_modems()
                log.warning("modem %s cannot be opened: %s", link.url, exc)
                return
        if link.port is not None and mono >= link.next_health:
            link.next_health = mono + self.settings.health_interval
            try:
                link.health = link.port.health()
            except (ModemError, OSError) as exc:
                self._drop(link, exc)
            self._publish_modems()

    def _drop(self, link: Link, exc: BaseException | None) -> None:
        if link.port is not None:
            try:
                link.port.close()
            except (ModemError, OSError):
                log.debug("closing %s failed", link.url, exc_info=True)
        link.port = None
        if exc is not None:
            link.health = Health(ok=False, error=str(exc))
            link.next_open = self.monotonic() + self.settings.retry_port
            self.gs.note_error(f"modem {link.url}: {exc}", self.clock())
            log.warning("modem %s failed: %s", link.url, exc)

    def _publish_modems(self) -> None:
        state = [{"url": link.url, "open": link.port is not None, "ok": link.health.ok,
                  "signal": link.health.signal, "registration": link.health.registration,
                  "error": link.health.error, "at": self.clock().isoformat(timespec="seconds")}
                 for link in self.links]
        self.store.set_meta("sms.modems", json.dumps(state))

    def _take_events(self, link: Link) -> tuple[Link, bool, list[Received | DeliveryReport]]:
        """(link, whether anything happened, the items its modem holds): modem I/O only."""
        port = link.port
        if port is None:
            return link, False, []
        try:
            events = list(port.events())
            items = [e for e in events if not isinstance(e, ReadStorage)]
            if self.monotonic() >= link.next_scan or len(items) < len(events):
                link.next_scan = self.monotonic() + self.settings.scan_interval
                items += port.stored()
        except (ModemError, OSError) as exc:
            self._drop(link, exc)
            return link, False, []
        return link, bool(events or items), items

    def _keep(self, port: ModemPort, item: Received | DeliveryReport, now: datetime) -> None:
        """Store one received item (durable with the pass's transaction)."""
        if isinstance(item, DeliveryReport):
            self.gs.delivery_report(port.name, item.ref, item.delivered, now)
            return
        try:
            sender = normalise(item.sender)
        except PhoneError:
            sender = item.sender  # an alphanumeric sender: kept and hashed as it is
        ref, total, seq = item.concat or (None, 1, 1)
        fresh = self.gs.store_part(port.name, sender, item.scts, ref, total, seq, item.text, now)
        log.debug("received part from %s (%s)", mask(sender), "new" if fresh else "already stored")

    def _delete(self, link: Link, items: Sequence[Received | DeliveryReport]) -> None:
        """Delete stored items from the modem, once their storing has committed."""
        try:
            for item in items:
                if link.port is not None and item.index is not None:
                    link.port.delete(item.index)
        except (ModemError, OSError) as exc:
            self._drop(link, exc)

    # -- incoming messages --------------------------------------------------------

    def process_inbox(self, now: datetime) -> bool:
        """Run every complete (or timed-out) received message through its conversation."""
        ready = self.gs.ready_messages(now, self.settings.multipart_timeout)
        for msg in ready:
            try:
                self._handle(msg, now)
            except StoreError:
                raise  # the store itself fails: stop, systemd restarts us, nothing is lost
            except Exception as exc:
                # A bug must not crash-loop the service on one message: keep it, report it.
                log.exception("a received message could not be processed")
                self.gs.finish_message(msg, "error", now)
                self.gs.note_error(f"a received message could not be processed: {exc!r}", now)
        return bool(ready)

    def _origin(self, unit: str) -> DeviceIdentity:
        return replace(self.origin, unit=unit)

    def _handle(self, msg: Assembled, now: datetime) -> None:
        if msg.late:
            # Its set was answered already as what had arrived: keep it, do not re-read it as
            # the reply to the next question.
            self.gs.finish_message(msg, "late_part", now)
            log.info("late part(s) of an already processed message: kept, not a new reply")
            return
        session = self.gs.live_session(msg.sender_hash)
        # The session's lifetime is judged when the reply was sent (the SMSC's timestamp) or
        # stored: a reply in time but processed later (a multipart set waiting for its
        # timeout, the service down) is still an answer. Never before the session began.
        at = min(now, msg.received_at, msg.sent_at or now)
        if session is not None:
            at = max(at, session.state.expires_at - self.settings.lifetime)
        if session is not None and at >= session.state.expires_at:
            self._expire_session(session, now)
            session = None
        if session is None:
            self._no_session(msg, now)
            return
        step = conv.on_reply(session.state, self.survey, msg.text, at, self.reader)
        # One reply, one durable transaction: its answers, the conversation's new state,
        # the next question in the outbox and the parts marked done commit together.
        with self.store.group():
            sends, counters, optout = self._apply(session, step.effects)
            if step.outcome == "decline":
                counters.append("declined")
            self.gs.finish_message(msg, step.outcome, now, session=session,
                                   new_state=step.state, sends=sends, optout=optout,
                                   counters=counters)
        log.info("session %d: reply %s (%d part(s), %d missing)", session.id, step.outcome,
                 msg.parts, msg.missing)

    def _no_session(self, msg: Assembled, now: datetime) -> None:
        reply = self.reader(msg.text, "nps", None)
        if reply.kind == "optout" and msg.sender and not self.gs.is_opted_out(msg.sender_hash):
            text = conv.optout_confirmation(self.survey, self.gs.last_lang(msg.sender_hash))
            self.gs.finish_message(msg, "optout", now, sends=[(text, "optout")],
                                   reply_to=msg.sender, optout=True)
            log.info("opt-out from a number with no live session: recorded and confirmed")
            return
        self.gs.finish_message(msg, "no_session", now)
        log.info("message from a number with no live session: logged, not answered")

    def _apply(self, session: SessionRow, effects: Sequence[conv.Effect]
               ) -> tuple[list[tuple[str, str]], list[str], bool]:
        """Write a step's answers to the response store (idempotent: a crash may replay it)."""
        sends: list[tuple[str, str]] = []
        counters: list[str] = []
        optout = False
        rid = session.response_id
        for e in effects:
            if isinstance(e, conv.OpenSmsResponse):
                counters.append("answered")
                if self.store.get(rid) is None:
                    self.store.start_response(
                        self._origin(session.unit), channel=Channel.SMS, survey=session.survey,
                        survey_version=session.survey_version, lang=session.state.lang,
                        started_at=e.at, response_id=rid)
            elif isinstance(e, conv.SetSmsAnswer):
                resp = self.store.get(rid)
                if resp is not None and resp.status is Status.OPEN:
                    self.store.set_answer(rid, e.question, value=e.value, text=e.text, at=e.at)
            elif isinstance(e, conv.FinaliseSmsResponse):
                if e.status is Status.COMPLETE and conv.DECLINED_FLAG not in e.flags:
                    counters.append("completed")
                resp = self.store.get(rid)
                if resp is not None and resp.status is Status.OPEN:
                    if e.flags:
                        self.store.add_flags(rid, *e.flags)
                    self.store.finalise(rid, e.status, e.at)
            elif isinstance(e, conv.OptOut):
                optout = True
            elif isinstance(e, conv.Send):
                sends.append((e.text, e.purpose))
        return sends, counters, optout

    # -- time passing -------------------------------------------------------------

    def expire(self, now: datetime) -> None:
        """Expire invitations past their deadline and sessions past their lifetime."""
        n = self.gs.expire_due(now, self.settings.window)
        if n:
            log.info("%d invitation(s) expired unsent (deadline passed)", n)
        for session in self.gs.sessions_due(now):
            if now >= session.state.expires_at:
                waiting = self.gs.first_pending(session.phone_hash)
                if waiting is not None and waiting < session.state.expires_at:
                    continue  # a reply received in time is still being assembled
                self._expire_session(session, now)
        if self.next_purge is None or now >= self.next_purge:
            self.next_purge = now + PURGE_INTERVAL
            n = self.gs.purge_replies(now - self.settings.reply_retention)
            if n:
                log.info("%d message(s) that never became answers deleted (older than %s)",
                         n, self.settings.reply_retention)

    def _expire_session(self, session: SessionRow, now: datetime) -> None:
        step = conv.on_tick(session.state, now)
        with self.store.group():
            self._apply(session, step.effects)
            self.gs.end_session(session, step.state, now)
        log.info("session %d expired", session.id)

    # -- sending ------------------------------------------------------------------

    def _claim(self, link: Link, now: datetime) -> OutgoingSms | None:
        """The next message for this modem, marked sending, when it may send now."""
        port = link.port
        if port is None or not link.health.ok or link.rate.next_free(now) > now:
            return None
        out = self.gs.claim_outbox(port.name, now)
        if out is None:
            out = self._claim_invitation(port.name, now)
        return out

    def _claim_invitation(self, modem: str, now: datetime) -> OutgoingSms | None:
        for inv_id, lang in self.gs.due_invitations(now, self.settings.window, limit=5):
            state = conv.begin(self.survey, lang, now, self.settings.lifetime)
            text = conv.invitation_text(self.survey, state.lang)
            out = self.gs.claim_invitation(inv_id, state, text, self.survey.id,
                                           self.survey.version, new_response_id(), modem, now,
                                           rest=self.settings.rest)
            if out is not None:
                return out
        return None

    def _send(self, link: Link, port: ModemPort, out: OutgoingSms, now: datetime) -> None:
        what = (f"invitation {out.invitation_id}" if out.invitation_id is not None
                else f"message {out.outbox_id}")
        try:
            refs = port.send(out.phone, out.text)
        except PduError as exc:
            # The text or number cannot be encoded: certainly not sent.
            self.gs.not_sent(out, str(exc), now)
            self.gs.note_error(f"{what}: cannot be encoded: {exc}", now)
            log.error("%s cannot be encoded: %s", what, exc)
        except (SendError, AtCommandError) as exc:
            if isinstance(exc, SendError) and (exc.unknown or exc.sent_refs):
                # Some part may have gone out: the client may have it; never send it again.
                self.gs.unknown(out, f"not fully sent: {exc}")
            else:
                self.gs.not_sent(out, str(exc), now)
            self.gs.note_error(f"{what}: modem refused: {exc}", now)
            log.warning("%s: the send failed: %s", what, exc)
        except (ModemError, OSError) as exc:
            self.gs.unknown(out, str(exc))
            self._drop(link, exc)
            log.error("%s: send outcome unknown (%s); it will not be repeated", what, exc)
        else:
            for _ in refs:  # the operator's limit counts SMS, so every part
                link.rate.take(now)
            self.gs.sent(out, port.name, refs, now)
            log.info("%s sent (%d part(s))", what, len(refs))

    # -- intake -------------------------------------------------------------------

    def _poll_intake(self, now: datetime) -> None:
        if self.intake is None or self.monotonic() < self.next_poll:
            return
        self.next_poll = self.monotonic() + self.intake.settings.interval
        window = self.settings.window
        try:
            stored, rejected = self.intake.poll(
                lambda inv: self.gs.add_invitation(inv, self.clock(), window),
                lambda source, reason: self.gs.add_reject(source, reason, self.clock()))
        except (IntakeError, SmsGatewayError) as exc:
            self.gs.note_error(str(exc), now)
            log.warning("%s", exc)
            return
        if stored or rejected:
            log.info("intake: %d item(s) stored, %d rejected", stored, rejected)


def snapshot(gs: GatewayStore) -> dict[str, Any]:
    """The status dict of `palaute sms status`."""
    return gs.status()


def settings_from_config(sms: Section) -> GatewaySettings:
    """`[sms]` keys of the service, with defaults: session_hours 72, rate_per_minute 10,
    multipart_timeout_s 300, scan_interval_s 60, health_interval_s 30,
    reply_retention_days 30, rest_days 30 (0: no rest period), and `[sms.intake]`."""
    intake = intake_from_config(sms.table("intake"))
    return GatewaySettings(
        window=window_from_config(sms),
        lifetime=timedelta(hours=sms.get_float("session_hours")),
        rate_per_minute=sms.get_int("rate_per_minute"),
        multipart_timeout=timedelta(seconds=sms.get_float("multipart_timeout_s")),
        scan_interval=sms.get_float("scan_interval_s"),
        health_interval=sms.get_float("health_interval_s"),
        retry_port=sms.get_float("retry_port_s"),
        intake=intake,
        reply_retention=timedelta(days=sms.get_float("reply_retention_days")),
        rest=timedelta(days=sms.get_float("rest_days", DEFAULT_REST.days)),
    )


def driver_settings(sms: Section) -> dict[str, Any]:
    """Modem driver settings from `[sms]`: pin and smsc (optional; every modem gets them),
    and `sim_wait_s` (default 30): how long start-up waits for a busy SIM. The service,
    `modem-info` and `selftest` all take them from here."""
    out: dict[str, Any] = {}
    for key in ("pin", "smsc"):
        if key in sms:
            out[key] = sms.get_str(key)
    out["sim_wait"] = sms.get_float("sim_wait_s", SIM_WAIT_DEFAULT)
    return out


def open_gateway_store(config_path: str | Path, *, create: bool = True
                       ) -> tuple[Config, GatewayStore, GatewaySettings]:
    """The config, the gateway's store and its settings (for the CLI commands)."""
    config = load_config(config_path)
    sms = config.section("sms", required=True)
    settings = settings_from_config(sms)
    hasher = hasher_from_config(sms)
    store = Store(config.store_path(), create=create)
    return config, GatewayStore(store, hasher), settings


def build_gateway(config_path: str | Path,
                  opener: Callable[..., ModemPort] | None = None) -> Gateway:
    """The whole service from a device config: store, survey, modems, intake."""
    config, gs, settings = open_gateway_store(config_path)
    try:
        sms = config.section("sms", required=True)
        urls = sms.get_str_list("modems")
        if not urls:
            raise sms.error("modems", "must list at least one modem port URL")
        survey = load_survey(config.survey_path())
        if not survey.questions_for("sms"):
            raise SmsGatewayError(f"{survey.source or survey.id}: the survey has no SMS "
                                  "questions ([channels] sms)")
        links = [Link(url, functools.partial(opener or open_modem, url, **driver_settings(sms)),
                      RateLimit(settings.rate_per_minute)) for url in urls]
        intake = None
        if settings.intake is not None:
            import requests

            intake = HttpIntake(settings.intake, requests.Session(), settings.window.tz)
        return Gateway(gs, survey, config.identity(), links, settings, intake=intake)
    except BaseException:
        gs.store.close()
        raise


class DriverPort:
    """The modem driver (`sms_gateway.modem.Modem`) as the service's ModemPort."""

    def __init__(self, modem: Modem, name: str) -> None:
        self.modem = modem
        self.name = name
        self._reported: set[int] = set()

    def send(self, number: str, text: str) -> list[int]:
        return self.modem.send(number, text)

    def _received(self, index: int | None, pdu: Pdu) -> Received | DeliveryReport | None:
        if pdu.type == "status-report" and pdu.message_ref is not None:
            return DeliveryReport(index, pdu.message_ref, pdu.status or 0)
        if pdu.type != "deliver":
            return None
        scts = pdu.timestamp.isoformat() if pdu.timestamp else ""
        concat = (pdu.concat.ref, pdu.concat.total, pdu.concat.seq) if pdu.concat else None
        return Received(index, pdu.sender or "", pdu.text, scts, concat)

    def stored(self) -> list[Received | DeliveryReport]:
        out: list[Received | DeliveryReport] = []
        for m in self.modem.list_messages(4):
            if m.message is None:
                # The driver keeps it on the modem, raw; say so once per index.
                if m.index not in self._reported:
                    self._reported.add(m.index)
                    log.warning("%s: stored message %d does not decode and stays on the "
                                "modem: %s", self.name, m.index, m.error)
                continue
            item = self._received(m.index, m.message)
            if item is not None:
                out.append(item)
        return out

    def delete(self, index: int) -> None:
        self.modem.delete(index)

    def events(self) -> list[PortEvent]:
        out: list[PortEvent] = []
        for e in self.modem.poll_events(timeout=0):
            if isinstance(e, NewMessage):
                out.append(ReadStorage(f"message stored at {e.memory} {e.index}"))
            elif isinstance(e, Rescan):
                out.append(ReadStorage(e.reason))
            elif isinstance(e, IncomingMessage) and e.message is not None:
                item = self._received(None, e.message)
                if item is not None:
                    out.append(item)
            elif isinstance(e, StatusReport) and e.message_ref is not None:
                out.append(DeliveryReport(None, e.message_ref, e.status or 0))
        return out

    def health(self) -> Health:
        self.modem.health_check()
        signal = self.modem.signal()
        reg = self.modem.registration()
        return Health(ok=reg.registered, signal=signal.rssi, registration=reg.state)

    def close(self) -> None:
        self.modem.close()


def open_modem(url: str, **settings: Any) -> ModemPort:
    """Open and start the modem driver on `url` (driver settings as keywords)."""
    modem = Modem.from_url(url, **settings)
    try:
        modem.start()
    except BaseException:
        modem.close()
        raise
    return DriverPort(modem, url)
