"""The gateway's tables in the local store: invitations, sessions, outbox, inbox, opt-outs.

The tables are the gateway's own (sms_gateway/schema.py; GatewayStore creates or
migrates them when it opens). Reads go through `Store.read()`; every state change that
must survive a crash is one committed transaction (`Store.write()`), and the order of
writes gives the guarantees:

* at most once: a row is marked `sending` and committed before AT+CMGS; a row
  found `sending` at start-up becomes `unknown` and is never sent again unless
  an operator releases it;
* lost never: a received part is committed before it is deleted from the
  modem, and marked done in the same transaction that stores its effects.

Phone numbers are NULLed as soon as their row stops being live; only the
keyed hash stays. The connection deletes securely (zeroes what it frees) and the service
empties the write-ahead log after each step that changed the file (`forget_for_good`), so
a forgotten number is in neither the file nor its log. Messages that never became answers
are deleted after a retention period (`purge_replies`). Counters hold no numbers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sms_gateway.conversation import ConversationState
from sms_gateway.errors import SmsGatewayError
from sms_gateway.invitations import Invitation
from sms_gateway.privacy import NOTE_LANGUAGE, PhoneHasher
from sms_gateway.scheduler import Window, decide
from sms_gateway.scheduler import deadline as deadline_of
from sms_gateway.schema import SMS_SCHEMA
from survey.redact import redact_text
from survey.store import BUSY_TIMEOUT_MS, Store

log = logging.getLogger(__name__)

COUNTERS = ("invited", "sent", "delivered", "answered", "completed", "opted_out", "expired",
            "unknown", "rested", "declined")
# A person's quiet period after an invitation went out (`[sms] rest_days`).
DEFAULT_REST = timedelta(days=30)
# Daily counters are kept by the reports' calendar (the central's local_date).
REPORT_ZONE = ZoneInfo("Europe/Helsinki")
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=2)
MAX_ERRORS = 10
# How long after a timed-out multipart set its missing parts are still known as its own.
LATE_PART_WINDOW = timedelta(hours=24)


class ReleaseError(SmsGatewayError):
    """An operator's release that cannot be done (no such row, wrong state, too late)."""


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _scts(text: str) -> datetime | None:
    """A stored service-centre timestamp, or None when it is empty or has no zone."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


@dataclass(frozen=True)
class OutgoingSms:
    """A message to send: an invitation (invitation_id set) or an outbox row (outbox_id set)."""

    phone: str
    text: str
    invitation_id: int | None = None
    outbox_id: int | None = None
    purpose: str = "invite"


@dataclass(frozen=True)
class SessionRow:
    """A live (or just-ended) session: its id, number, response id and conversation state."""

    id: int
    phone: str | None
    phone_hash: str
    unit: str
    survey: str
    survey_version: int
    response_id: str
    state: ConversationState


@dataclass(frozen=True)
class Assembled:
    """One logical received message: part ids, sender, text, how many parts are missing."""

    part_ids: tuple[int, ...]
    sender: str | None
    sender_hash: str
    text: str
    parts: int
    missing: int
    received_at: datetime
    late: bool = False  # the rest of a set already processed without it (kept, not a reply)
    sent_at: datetime | None = None  # the SMSC's timestamp of the first part, when readable


class GatewayStore:
    """The SMS gateway's view of the local store (see module doc)."""

    def __init__(self, store: Store, hasher: PhoneHasher) -> None:
        store.ensure_schema(SMS_SCHEMA)  # creates or migrates the gateway's tables
        # Forgetting must be real: what this connection deletes or overwrites (a number
        # NULLed, a reply's raw text) is zeroed in the pages, not left in free space.
        store.conn.execute("PRAGMA secure_delete = ON")
        self.store = store
        self.hash = hasher
        self._checkpointed_at = -1

    def forget_for_good(self) -> bool:
        """After the gateway changed the file: copy the write-ahead log into it and empty the
        log, so that what was forgotten is in neither. False when another connection's
        reader or writer kept the log (the caller tries again a little later)."""
        changes = self.store.conn.total_changes
        if changes == self._checkpointed_at:
            return True
        conn = self.store.conn
        # A checkpoint that waits for readers holds back the other services' writes: it
        # does not wait; what it could copy is copied, the rest waits for the next try.
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if busy:
            log.debug("the store's log is in use: checkpoint after forgetting tried later")
            return False
        self._checkpointed_at = changes
        return True

    def purge_replies(self, before: datetime) -> int:
        """Delete the messages processed before `before` that never became an answer (their
        texts were kept only to explain the counters); returns how many."""
        with self.store.write() as c:
            return c.execute("DELETE FROM sms_messages WHERE outcome != 'answer' "
                             "AND processed_at < ?", (_iso(before),)).rowcount

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of one read query."""
        with self.store.read() as c:
            return c.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of one read query, or None."""
        with self.store.read() as c:
            return c.execute(sql, tuple(params)).fetchone()

    # -- counters and errors --------------------------------------------------

    @staticmethod
    def _bump(c: sqlite3.Connection, name: str, by: int = 1, now: datetime | None = None) -> None:
        c.execute("INSERT INTO sms_counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                  "DO UPDATE SET value = value + excluded.value", (name, by))
        day = (now or datetime.now(UTC)).astimezone(REPORT_ZONE).date().isoformat()
        c.execute("INSERT INTO sms_counters_daily (day, name, value) VALUES (?, ?, ?) "
                  "ON CONFLICT (day, name) DO UPDATE SET value = value + excluded.value",
                  (day, name, by))

    def counters(self) -> dict[str, int]:
        """Cumulative counters (invited, sent, delivered, answered, completed, …)."""
        out = dict.fromkeys(COUNTERS, 0)
        for name, value in self._all("SELECT name, value FROM sms_counters"):
            out[name] = int(value)
        return out

    def note_error(self, text: str, now: datetime) -> None:
        """Remember one of the last errors for `palaute sms status` (no phone numbers)."""
        errors = self.last_errors()
        errors.append({"at": _iso(now), "error": redact_text(text, NOTE_LANGUAGE)})
        self.store.set_meta("sms.errors", json.dumps(errors[-MAX_ERRORS:], ensure_ascii=False))

    def last_errors(self) -> list[dict[str, str]]:
        raw = self.store.get_meta("sms.errors")
        return list(json.loads(raw)) if raw else []

    # -- intake ---------------------------------------------------------------

    def is_opted_out(self, phone_hash: str) -> bool:
        return self._one("SELECT 1 FROM sms_optouts WHERE phone_hash = ?",
                         (phone_hash,)) is not None

    def last_lang(self, phone_hash: str) -> str | None:
        """The language of the number's latest invitation (for a reply outside a session)."""
        row = self._one("SELECT lang FROM sms_invitations WHERE phone_hash = ? "
                        "ORDER BY id DESC LIMIT 1", (phone_hash,))
        return row[0] if row else None

    def add_invitation(self, inv: Invitation, now: datetime, window: Window) -> str:
        """Queue one invitation: 'added', 'duplicate', 'opted out' or 'expired' (counted)."""
        h = self.hash(inv.phone)
        if self.is_opted_out(h):
            return "opted out"
        key = hashlib.sha256(
            f"{h}|{inv.unit}|{inv.kind}|{_iso(inv.event_at.astimezone(window.tz))}".encode()
        ).hexdigest()
        last = deadline_of(inv.event_at, inv.kind, window)
        with self.store.write() as c:
            cur = c.execute(
                "INSERT INTO sms_invitations (dedup, source, unit, kind, lang, event_at, "
                "deadline, phone, phone_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (dedup) DO NOTHING",
                (key, inv.source, inv.unit, inv.kind, inv.lang, _iso(inv.event_at), _iso(last),
                 inv.phone, h, _iso(now)),
            )
            if cur.rowcount == 0:
                return "duplicate"
            self._bump(c, "invited", now=now)
        return "added"

    def add_reject(self, source: str, reason: str, now: datetime) -> None:
        """Record an intake item that was refused (the source keeps it; we keep why)."""
        with self.store.write() as c:
            c.execute("INSERT INTO sms_rejects (source, reason, at) VALUES (?,?,?)",
                      (source, redact_text(reason, NOTE_LANGUAGE), _iso(now)))

    # -- scheduling invitations -------------------------------------------------

    def expire_due(self, now: datetime, window: Window) -> int:
        """Expire queued invitations that can no longer go out in time; returns how many."""
        rows = self._all("SELECT id, event_at, kind FROM sms_invitations WHERE state = 'queued'")
        gone = [r[0] for r in rows if decide(_dt(r[1]), r[2], now, window).action == "expire"]
        if gone:
            with self.store.write() as c:
                for inv_id in gone:
                    c.execute("UPDATE sms_invitations SET state = 'expired', phone = NULL "
                              "WHERE id = ? AND state = 'queued'", (inv_id,))
                self._bump(c, "expired", len(gone), now=now)
        with self.store.write() as c:
            # Unknown outcomes past their deadline can never be released: forget the number.
            c.execute("UPDATE sms_invitations SET phone = NULL WHERE state = 'unknown' "
                      "AND phone IS NOT NULL AND deadline <= ?", (_iso(now),))
            c.execute("UPDATE sms_outbox SET phone = NULL WHERE state = 'unknown' "
                      "AND phone IS NOT NULL AND created_at <= ?",
                      (_iso(now - timedelta(days=3)),))
        return len(gone)

    def due_invitations(self, now: datetime, window: Window,
                        limit: int = 20) -> list[tuple[int, str]]:
        """Ids of queued invitations sendable now (in window, no live session, not opted out)."""
        rows = self._all(
            "SELECT i.id, i.event_at, i.kind, i.not_before, i.lang FROM sms_invitations i "
            "WHERE i.state = 'queued' AND NOT EXISTS (SELECT 1 FROM sms_sessions s "
            "WHERE s.phone_hash = i.phone_hash AND s.status = 'live') "
            "ORDER BY i.event_at, i.id")
        out: list[tuple[int, str]] = []
        for inv_id, event_at, kind, not_before, lang in rows:
            if not_before and _dt(not_before) > now:
                continue
            if decide(_dt(event_at), kind, now, window).action == "send":
                out.append((inv_id, lang))
            if len(out) >= limit:
                break
        return out

    def claim_invitation(self, inv_id: int, state: ConversationState, text: str, survey: str,
                         survey_version: int, response_id: str, modem: str,
                         now: datetime, rest: timedelta = DEFAULT_REST) -> OutgoingSms | None:
        """Mark an invitation `sending` and open its session, committed before the send.

        None when it is no longer sendable (opted out meanwhile, already claimed, or the
        person had an invitation within `rest`: then it is `rested` for good)."""
        with self.store.write() as c:
            row = c.execute("SELECT phone, phone_hash, unit, state FROM sms_invitations "
                            "WHERE id = ?", (inv_id,)).fetchone()
            if row is None or row[3] != "queued" or row[0] is None:
                return None
            phone, h, unit = row[0], row[1], row[2]
            if c.execute("SELECT 1 FROM sms_optouts WHERE phone_hash = ?", (h,)).fetchone():
                c.execute("UPDATE sms_invitations SET state = 'optedout', phone = NULL "
                          "WHERE id = ?", (inv_id,))
                return None
            if c.execute("SELECT 1 FROM sms_sessions WHERE phone_hash = ? AND status = 'live'",
                         (h,)).fetchone():
                return None  # one survey at a time per number: this one waits
            if self._resting(c, h, inv_id, now, rest):
                c.execute("UPDATE sms_invitations SET state = 'rested', phone = NULL, "
                          "error = NULL WHERE id = ?", (inv_id,))
                self._bump(c, "rested", now=now)
                return None
            # The session exists from the moment of sending, so a reply that arrives after
            # a crash (outcome unknown, but delivered after all) is still taken.
            cur = c.execute(
                "INSERT INTO sms_sessions (invitation_id, phone, phone_hash, unit, survey, "
                "survey_version, lang, response_id, state, started_at, updated_at, expires_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (inv_id, phone, h, unit, survey, survey_version, state.lang, response_id,
                 state.to_json(), _iso(now), _iso(now),
                 _iso(state.expires_at.astimezone(UTC))),
            )
            c.execute("UPDATE sms_invitations SET state = 'sending', sending_at = ?, modem = ?, "
                      "session_id = ?, attempts = attempts + 1 WHERE id = ?",
                      (_iso(now), modem, cur.lastrowid, inv_id))
        return OutgoingSms(phone, text, invitation_id=inv_id)

    @staticmethod
    def _resting(c: sqlite3.Connection, phone_hash: str, inv_id: int, now: datetime,
                 rest: timedelta) -> bool:
        """True when another invitation went (or may have gone) to the number within `rest`.

        Kept by the keyed hash only: the invitations' phone_hash and sending time."""
        if rest <= timedelta(0):
            return False
        row = c.execute(
            "SELECT MAX(sending_at) FROM sms_invitations WHERE phone_hash = ? AND id != ? "
            "AND state IN ('sending', 'sent', 'unknown')", (phone_hash, inv_id)).fetchone()
        return row[0] is not None and now - _dt(row[0]) < rest

    def claim_outbox(self, modem: str, now: datetime) -> OutgoingSms | None:
        """The oldest queued outbox message, marked `sending` (committed before the send)."""
        with self.store.write() as c:
            row = c.execute(
                "SELECT id, phone, text, purpose FROM sms_outbox WHERE state = 'queued' "
                "AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 1",
                (_iso(now),)).fetchone()
            if row is None:
                return None
            c.execute("UPDATE sms_outbox SET state = 'sending', sending_at = ?, modem = ?, "
                      "attempts = attempts + 1 WHERE id = ?", (_iso(now), modem, row[0]))
        return OutgoingSms(row[1], row[2], outbox_id=row[0], purpose=row[3])

    def has_outbox(self, now: datetime) -> bool:
        return self._one(
            "SELECT 1 FROM sms_outbox WHERE state = 'queued' AND (not_before IS NULL OR "
            "not_before <= ?) LIMIT 1", (_iso(now),)) is not None

    def sent(self, out: OutgoingSms, modem: str, refs: Sequence[int], now: datetime) -> None:
        """The modem accepted every part: record refs for delivery reports, forget the number."""
        with self.store.write() as c:
            for ref in refs:
                c.execute("INSERT INTO sms_refs (modem, ref, invitation_id, outbox_id, sent_at) "
                          "VALUES (?,?,?,?,?)",
                          (modem, ref, out.invitation_id, out.outbox_id, _iso(now)))
            if out.invitation_id is not None:
                c.execute("UPDATE sms_invitations SET state = 'sent', sent_at = ?, phone = NULL, "
                          "error = NULL WHERE id = ?", (_iso(now), out.invitation_id))
                self._bump(c, "sent", now=now)
            else:
                c.execute("UPDATE sms_outbox SET state = 'sent', sent_at = ?, phone = NULL "
                          "WHERE id = ?", (_iso(now), out.outbox_id))

    def not_sent(self, out: OutgoingSms, error: str, now: datetime) -> None:
        """The modem refused the message (certainly not sent): retry later, or fail for good."""
        with self.store.write() as c:
            if out.invitation_id is not None:
                row = c.execute("SELECT attempts, session_id FROM sms_invitations WHERE id = ?",
                                (out.invitation_id,)).fetchone()
                final = row[0] >= MAX_ATTEMPTS
                c.execute("DELETE FROM sms_sessions WHERE id = ?", (row[1],))
                c.execute(
                    "UPDATE sms_invitations SET state = ?, error = ?, not_before = ?, "
                    "session_id = NULL, phone = CASE WHEN ? THEN NULL ELSE phone END "
                    "WHERE id = ?",
                    ("failed" if final else "queued", redact_text(error, NOTE_LANGUAGE),
                     _iso(now + RETRY_AFTER), final, out.invitation_id))
            else:
                row = c.execute("SELECT attempts FROM sms_outbox WHERE id = ?",
                                (out.outbox_id,)).fetchone()
                final = row[0] >= MAX_ATTEMPTS
                c.execute(
                    "UPDATE sms_outbox SET state = ?, error = ?, not_before = ?, "
                    "phone = CASE WHEN ? THEN NULL ELSE phone END WHERE id = ?",
                    ("failed" if final else "queued", redact_text(error, NOTE_LANGUAGE),
                     _iso(now + RETRY_AFTER),
                     final, out.outbox_id))

    def unknown(self, out: OutgoingSms, error: str) -> None:
        """The send may or may not have happened: never repeat it automatically."""
        with self.store.write() as c:
            self._mark_unknown(c, out.invitation_id, out.outbox_id, error)

    def _mark_unknown(self, c: sqlite3.Connection, inv_id: int | None, outbox_id: int | None,
                      error: str) -> None:
        if inv_id is not None:
            c.execute("UPDATE sms_invitations SET state = 'unknown', error = ? WHERE id = ?",
                      (redact_text(error, NOTE_LANGUAGE), inv_id))
            self._bump(c, "unknown")
        else:
            c.execute("UPDATE sms_outbox SET state = 'unknown', error = ? WHERE id = ?",
                      (redact_text(error, NOTE_LANGUAGE), outbox_id))

    def recover(self) -> int:
        """At start-up: rows left `sending` by a crash become `unknown`; returns how many."""
        with self.store.write() as c:
            invs = [r[0] for r in c.execute(
                "SELECT id FROM sms_invitations WHERE state = 'sending'")]
            outs = [r[0] for r in c.execute("SELECT id FROM sms_outbox WHERE state = 'sending'")]
            for inv_id in invs:
                self._mark_unknown(c, inv_id, None, "interrupted during the send (crash?)")
            for out_id in outs:
                self._mark_unknown(c, None, out_id, "interrupted during the send (crash?)")
        return len(invs) + len(outs)

    def release(self, inv_id: int, now: datetime, window: Window) -> str:
        """Operator: let an `unknown` invitation be sent again (it may reach the client twice)."""
        with self.store.write() as c:
            self._release(c, inv_id, now, window)
        return f"invitation {inv_id} released: it will be sent in its next allowed moment"

    def release_all_unknown(self, before: datetime, now: datetime, window: Window
                            ) -> tuple[list[int], list[tuple[int, str]]]:
        """Operator: release every `unknown` invitation whose send began before `before`.

        Each one is checked as `release` checks it (no reply came, the deadline has not
        passed); returns (released ids, [(id, why not)]). One transaction: a row that
        turns unknown while this runs is not touched."""
        released: list[int] = []
        refused: list[tuple[int, str]] = []
        with self.store.write() as c:
            rows = c.execute("SELECT id FROM sms_invitations WHERE state = 'unknown' AND "
                             "sending_at < ? ORDER BY id", (_iso(before),)).fetchall()
            for (inv_id,) in rows:
                try:
                    self._release(c, inv_id, now, window)
                except ReleaseError as exc:
                    refused.append((inv_id, str(exc)))
                else:
                    released.append(inv_id)
        return released, refused

    @staticmethod
    def _release(c: sqlite3.Connection, inv_id: int, now: datetime, window: Window) -> None:
        row = c.execute("SELECT state, phone, event_at, kind, session_id FROM "
                        "sms_invitations WHERE id = ?", (inv_id,)).fetchone()
        if row is None:
            raise ReleaseError(f"no invitation {inv_id}")
        state, phone, event_at, kind, session_id = row
        if state != "unknown":
            raise ReleaseError(f"invitation {inv_id} is {state}, not unknown; nothing to "
                               "release")
        s = c.execute("SELECT state, status FROM sms_sessions WHERE id = ?",
                      (session_id,)).fetchone() if session_id is not None else None
        if s is not None and (ConversationState.from_json(s[0]).answered or s[1] != "live"):
            raise ReleaseError(f"invitation {inv_id} did reach the client (they "
                               "replied); it is not sent again")
        if phone is None or decide(_dt(event_at), kind, now, window).action == "expire":
            raise ReleaseError(f"invitation {inv_id} is past its deadline; it cannot be "
                               "sent any more")
        if session_id is not None:
            c.execute("DELETE FROM sms_sessions WHERE id = ?", (session_id,))
        c.execute("UPDATE sms_invitations SET state = 'queued', session_id = NULL, "
                  "not_before = NULL, error = NULL WHERE id = ?", (inv_id,))

    # -- delivery reports -----------------------------------------------------

    def delivery_report(self, modem: str, ref: int, delivered: bool | None,
                        now: datetime) -> bool:
        """Apply a status report (True delivered, False failed, None pending); True if matched."""
        row = self._one(
            "SELECT invitation_id FROM sms_refs WHERE modem = ? AND ref = ? "
            "ORDER BY sent_at DESC, rowid DESC LIMIT 1", (modem, ref))
        if row is None:
            return False
        if row[0] is None or delivered is None:
            return True
        with self.store.write() as c:
            if delivered:
                cur = c.execute("UPDATE sms_invitations SET delivered_at = ?, delivery = "
                                "'delivered' WHERE id = ? AND delivered_at IS NULL",
                                (_iso(now), row[0]))
                if cur.rowcount:
                    self._bump(c, "delivered", now=now)
            else:
                c.execute("UPDATE sms_invitations SET delivery = 'failed' WHERE id = ? "
                          "AND delivered_at IS NULL", (row[0],))
        return True

    # -- inbox ------------------------------------------------------------------

    def store_part(self, modem: str, sender: str, scts: str, ref: int | None, total: int,
                   seq: int, text: str, now: datetime) -> bool:
        """Keep one received PDU durably; False when it was already stored (read twice)."""
        h = self.hash(sender)
        # SCTS has one-second resolution: two different texts in one second are two
        # messages; the same text read twice is one (the digest of the part's text).
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        with self.store.write() as c:
            cur = c.execute(
                "INSERT INTO sms_inbox (modem, sender, sender_hash, scts, ref, total, seq, "
                "digest, text, received_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (modem, sender, h, scts, -1 if ref is None else ref, total, seq, digest, text,
                 _iso(now)),
            )
        return cur.rowcount == 1

    def ready_messages(self, now: datetime, timeout: timedelta) -> list[Assembled]:
        """Complete multipart sets, single messages, and incomplete sets older than `timeout`."""
        rows = self._all(
            "SELECT id, sender, sender_hash, ref, total, seq, text, received_at, scts FROM "
            "sms_inbox WHERE state = 'pending' ORDER BY id")
        groups: dict[tuple[str, int, int], list[list[Any]]] = {}
        for r in rows:
            key = (r[2], r[3], r[4]) if r[3] >= 0 else (r[2], -1 - r[0], 1)
            # A reference reused by the sender: a second part with the same seq starts
            # another set (one dict by seq would silently drop a part's text).
            sets = groups.setdefault(key, [])
            for s in sets:
                if all(p[5] != r[5] for p in s):
                    s.append(r)
                    break
            else:
                sets.append([r])
        out: list[Assembled] = []
        for (_h, _ref, total), parts in ((k, s) for k, sets in groups.items() for s in sets):
            first = min(_dt(p[7]) for p in parts)
            by_seq = {p[5]: p for p in parts}
            late = _ref >= 0 and len(by_seq) < total and self._rest_of_processed(
                _h, _ref, total, set(by_seq), first)
            if len(by_seq) < total and now - first < timeout and not late:
                continue
            ordered = [by_seq[s] for s in sorted(by_seq)]
            out.append(Assembled(
                part_ids=tuple(p[0] for p in parts), sender=ordered[0][1], sender_hash=_h,
                text="".join(p[6] or "" for p in ordered), parts=total,
                missing=max(0, total - len(by_seq)), received_at=first, late=late,
                sent_at=min((t for p in parts if (t := _scts(p[8])) is not None), default=None)))
        out.sort(key=lambda a: (a.received_at, a.part_ids[0]))
        return out

    def _rest_of_processed(self, h: str, ref: int, total: int, seqs: set[int],
                           first: datetime) -> bool:
        """True when these parts complete the sender's latest set with this reference, which
        was processed (timed out) without them; a reused reference repeats a seq."""
        rows = self._all(
            "SELECT message_id, seq FROM sms_inbox WHERE state = 'done' AND sender_hash = ? "
            "AND ref = ? AND total = ? AND received_at >= ? ORDER BY message_id DESC",
            (h, ref, total, _iso(first - LATE_PART_WINDOW)))
        if not rows:
            return False
        latest = {seq for mid, seq in rows if mid == rows[0][0]}
        return not latest & seqs

    def first_pending(self, phone_hash: str) -> datetime | None:
        """When the number's oldest part still waiting for processing was received."""
        row = self._one("SELECT MIN(received_at) FROM sms_inbox WHERE state = "
                        "'pending' AND sender_hash = ?", (phone_hash,))
        return _dt(row[0]) if row and row[0] else None

    def live_session(self, phone_hash: str) -> SessionRow | None:
        """The number's live session, if any."""
        rows = self._sessions("WHERE phone_hash = ? AND status = 'live'", (phone_hash,))
        return rows[0] if rows else None

    def live_sessions(self) -> list[SessionRow]:
        """Every live session (for tests and tools: the service reads `sessions_due`)."""
        return self._sessions("WHERE status = 'live'", ())

    def sessions_due(self, now: datetime) -> list[SessionRow]:
        """The live sessions whose lifetime may be over at `now` (by the expiry index: the
        stored second is at or before the exact time, so the caller checks each exactly)."""
        return self._sessions("INDEXED BY sms_sessions_expiry WHERE status = 'live' "
                              "AND expires_at <= ?", (_iso(now.astimezone(UTC)),))

    def _sessions(self, where: str, params: tuple[Any, ...]) -> list[SessionRow]:
        return [SessionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                           ConversationState.from_json(r[7]))
                for r in self._all(
                    "SELECT id, phone, phone_hash, unit, survey, survey_version, response_id, "
                    f"state FROM sms_sessions {where} ORDER BY id", params)]

    def finish_message(self, msg: Assembled, outcome: str, now: datetime, *,
                       session: SessionRow | None = None,
                       new_state: ConversationState | None = None,
                       sends: Sequence[tuple[str, str]] = (), reply_to: str | None = None,
                       optout: bool = False, counters: Sequence[str] = ()) -> None:
        """Store the effects of one processed message and mark its parts done, atomically."""
        with self.store.write() as c:
            cur = c.execute(
                "INSERT INTO sms_messages (sender_hash, session_id, text, parts, missing, "
                "outcome, received_at, processed_at) VALUES (?,?,?,?,?,?,?,?)",
                (msg.sender_hash, session.id if session else None,
                 redact_text(msg.text, session.state.lang if session else NOTE_LANGUAGE),
                 msg.parts, msg.missing, outcome, _iso(msg.received_at), _iso(now)))
            marks = ",".join("?" * len(msg.part_ids))
            c.execute(f"UPDATE sms_inbox SET state = 'done', sender = NULL, text = NULL, "
                      f"message_id = ? WHERE id IN ({marks})", (cur.lastrowid, *msg.part_ids))
            if session is not None and new_state is not None:
                self._save_state(c, session.id, new_state, now)
            phone = reply_to or (session.phone if session else None)
            for text, purpose in sends:
                if phone is None:
                    break
                c.execute("INSERT INTO sms_outbox (session_id, phone, phone_hash, purpose, text, "
                          "created_at) VALUES (?,?,?,?,?,?)",
                          (session.id if session else None, phone, msg.sender_hash, purpose,
                           text, _iso(now)))
            if optout:
                c.execute("INSERT INTO sms_optouts (phone_hash, at) VALUES (?, ?) "
                          "ON CONFLICT DO NOTHING", (msg.sender_hash, _iso(now)))
                c.execute("UPDATE sms_invitations SET state = 'optedout', phone = NULL WHERE "
                          "phone_hash = ? AND state = 'queued'", (msg.sender_hash,))
                # Questions still waiting (modem down, rate limit) must not follow the STOP.
                c.execute("UPDATE sms_outbox SET state = 'failed', error = 'opted out', "
                          "phone = NULL WHERE phone_hash = ? AND state = 'queued' "
                          "AND purpose != 'optout'", (msg.sender_hash,))
                self._bump(c, "opted_out", now=now)
            for name in counters:
                self._bump(c, name, now=now)

    @staticmethod
    def _save_state(c: sqlite3.Connection, session_id: int, state: ConversationState,
                    now: datetime) -> None:
        status = "optedout" if state.status == "optedout" else state.status
        c.execute("UPDATE sms_sessions SET state = ?, status = ?, updated_at = ?, "
                  "phone = CASE WHEN ? = 'live' THEN phone ELSE NULL END WHERE id = ?",
                  (state.to_json(), status, _iso(now), status, session_id))
        if status != "live":
            # An unknown send of an ended session can never be released: forget the number.
            for table in ("sms_invitations", "sms_outbox"):
                c.execute(f"UPDATE {table} SET phone = NULL WHERE session_id = ? "
                          "AND state = 'unknown'", (session_id,))
            # A question still waiting for the modem asks for a reply nobody takes any more.
            c.execute("UPDATE sms_outbox SET state = 'failed', error = 'session ended', "
                      "phone = NULL WHERE session_id = ? AND state = 'queued' "
                      "AND purpose IN ('question', 'clarify')", (session_id,))

    def end_session(self, session: SessionRow, state: ConversationState, now: datetime,
                    counters: Sequence[str] = ()) -> None:
        """Store a session's final state (e.g. expired) and forget its number."""
        with self.store.write() as c:
            self._save_state(c, session.id, state, now)
            for name in counters:
                self._bump(c, name, now=now)

    # -- status -------------------------------------------------------------------

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """Queue depths by state, sessions by status, unknown rows (with their age and
        deadline at `now`), counters, last errors."""
        now = now or datetime.now(UTC)
        with self.store.read() as c:  # one snapshot: the figures add up
            def by_state(table: str, column: str = "state") -> dict[str, int]:
                return {s: int(n) for s, n in c.execute(
                    f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column} "
                    f"ORDER BY {column}")}

            def count(sql: str) -> int:
                return int(c.execute(sql).fetchone()[0])

            unknown = [
                {"id": r[0], "unit": r[1], "kind": r[2], "sending_at": r[3], "error": r[4],
                 "deadline": r[5], "age_s": _seconds(now, r[3]),
                 "left_s": int((_dt(r[5]) - now).total_seconds()),
                 "releasable": r[6] is not None and _dt(r[5]) > now}
                for r in c.execute("SELECT id, unit, kind, sending_at, error, deadline, phone "
                                   "FROM sms_invitations WHERE state = 'unknown' ORDER BY id")]
            sessions = by_state("sms_sessions", "status")
            out: dict[str, Any] = {
                "invitations": by_state("sms_invitations"),
                "outbox": by_state("sms_outbox"),
                "inbox_pending": count("SELECT COUNT(*) FROM sms_inbox WHERE state = 'pending'"),
                "live_sessions": sessions.get("live", 0),
                "sessions": sessions,
                "opted_out_numbers": count("SELECT COUNT(*) FROM sms_optouts"),
                "rejected_items": count("SELECT COUNT(*) FROM sms_rejects"),
                "unknown_invitations": unknown,
            }
        return {**out, "counters": self.counters(), "last_errors": self.last_errors(),
                "modems": json.loads(self.store.get_meta("sms.modems") or "[]")}


def _seconds(now: datetime, then: str | None) -> int | None:
    """Whole seconds from the stored time `then` to `now` (None when there is none)."""
    return None if then is None else int((now - _dt(then)).total_seconds())


def sms_daily_counters(store: Store, days: int = 62) -> dict[str, dict[str, int]]:
    """Counters per day (YYYY-MM-DD, Helsinki) for the last `days` days with activity."""
    if store.component_version(SMS_SCHEMA) < 2:
        return {}  # not a gateway (or one from before the daily counters)
    with store.read() as c:
        rows = c.execute(
            "SELECT day, name, value FROM sms_counters_daily WHERE day IN (SELECT DISTINCT day "
            "FROM sms_counters_daily ORDER BY day DESC LIMIT ?) ORDER BY day", (days,)
        ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for day, name, value in rows:
        out.setdefault(day, dict.fromkeys(COUNTERS, 0))[name] = int(value)
    return out


def sms_unknown_waiting(store: Store) -> int:
    """Invitations whose send outcome is unknown and that an operator can still release."""
    if not store.component_version(SMS_SCHEMA):
        return 0
    with store.read() as c:
        row = c.execute("SELECT COUNT(*) FROM sms_invitations WHERE state = 'unknown' "
                        "AND phone IS NOT NULL").fetchone()
    return int(row[0])


def sms_status_counters(store: Store) -> dict[str, int]:
    """Cumulative SMS counters for the sync agent's status heartbeat (no phone numbers)."""
    out = dict.fromkeys(COUNTERS, 0)
    if not store.component_version(SMS_SCHEMA):
        return out  # not a gateway: the file has no SMS tables
    with store.read() as c:
        rows = c.execute("SELECT name, value FROM sms_counters").fetchall()
    for name, value in rows:
        if name in out:
            out[name] = int(value)
    return out
