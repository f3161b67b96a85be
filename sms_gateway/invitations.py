"""Invitations in: rows of a CSV file, or items polled from the patient system over HTTP.

Reading is pure (`parse_csv`, `parse_item`): every good row becomes an
`Invitation`, every bad one a `BadInvitation` naming its line (or item id) and the
reason; nothing is dropped silently. `HttpIntake` is the thin shell that polls
an endpoint with requests and acknowledges an item only after it is stored.

The HTTP contract (the patient system implements it):
  GET  {url}            -> {"items": [{"id", "unit", "time", "kind", "phone", "lang"}, …]}
                           (a bare JSON list is accepted too)
  POST {ack_url}        <- {"accepted": [ids], "rejected": [{"id", "error"}]}
Both carry the configured auth header. Rejected items are acknowledged with
their reason so the patient system keeps them and knows why.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sms_gateway.errors import SmsGatewayError
from sms_gateway.phones import PhoneError, normalise
from sms_gateway.privacy import NOTE_LANGUAGE
from survey.redact import redact_text

if TYPE_CHECKING:
    import requests

    from survey.config import Section

log = logging.getLogger(__name__)

COLUMNS = ("unit", "time", "kind", "phone", "lang")
KINDS = ("visit", "call")
LANGS = ("fi", "sv", "en")


class IntakeError(SmsGatewayError):
    """The invitation source as a whole cannot be read (file, header, endpoint)."""


@dataclass(frozen=True)
class Invitation:
    """One survey invitation: who (E.164 phone), after what (unit, time, kind), which language."""

    unit: str
    event_at: datetime
    kind: str
    phone: str
    lang: str
    source: str


@dataclass(frozen=True)
class BadInvitation:
    """A row or item that was not accepted, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 time; one without a zone is local time in `tz`."""
    value = text.strip()
    if not value:
        raise ValueError("time is empty")
    try:
        t = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        raise ValueError(f"time {value!r} is not ISO 8601 (2025-03-04T10:15)") from None
    return t.replace(tzinfo=tz) if t.tzinfo is None else t


def parse_fields(fields: dict[str, Any], source: str, tz: ZoneInfo) -> Invitation:
    """One invitation from its fields, or ValueError with the first reason it is bad."""
    def text(name: str) -> str:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{name} is missing")
        if not isinstance(value, str):
            # Name the type only: the value may be a phone number, which is kept nowhere.
            kind = {bool: "true/false", int: "a number", float: "a number", list: "a list",
                    dict: "an object"}.get(type(value), "something else")
            raise ValueError(f"{name} must be text, not {kind}")
        return value.strip()

    unit = text("unit")
    event_at = parse_time(text("time"), tz)
    kind = text("kind").lower()
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not visit or call")
    try:
        phone = normalise(text("phone"))
    except PhoneError as exc:
        raise ValueError(f"phone {exc.reason}") from None
    lang = text("lang").lower() if fields.get("lang") else "fi"
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r} is not one of {', '.join(LANGS)}")
    return Invitation(unit, event_at, kind, phone, lang, source)


def parse_csv(text: str, name: str, tz: ZoneInfo) -> tuple[list[Invitation], list[BadInvitation]]:
    """Invitations and problems of a CSV text with a header row (unit,time,kind,phone,lang)."""
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise IntakeError(f"{name}: the file is empty (expected a header row {','.join(COLUMNS)})")
    columns = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in COLUMNS if c not in columns and c != "lang"]
    if missing:
        raise IntakeError(f"{name}:1: header lacks column(s) {', '.join(missing)} "
                          f"(expected {','.join(COLUMNS)})")
    good: list[Invitation] = []
    bad: list[BadInvitation] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}:{line}"
        if len(row) != len(columns):
            bad.append(BadInvitation(
                where, f"has {len(row)} fields, the header has {len(columns)}"))
            continue
        try:
            good.append(parse_fields(dict(zip(columns, row, strict=True)), f"csv:{where}", tz))
        except ValueError as exc:
            bad.append(BadInvitation(where, str(exc)))
    return good, bad


def parse_items(payload: Any, tz: ZoneInfo) -> tuple[list[tuple[str, Invitation]],
                                                      list[tuple[str, BadInvitation]]]:
    """(id, Invitation) and (id, BadInvitation) pairs of one polled JSON payload."""
    items = payload.get("items") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise IntakeError("the intake endpoint answered without an item list")
    good: list[tuple[str, Invitation]] = []
    bad: list[tuple[str, BadInvitation]] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            bad.append((f"#{n}", BadInvitation(f"item #{n}", "is not a JSON object")))
            continue
        raw_id = item.get("id")
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
            bad.append((f"#{n}", BadInvitation(f"item #{n}", "has no id")))
            continue
        item_id = str(raw_id)
        try:
            good.append((item_id, parse_fields(item, f"http:{item_id}", tz)))
        except ValueError as exc:
            bad.append((item_id, BadInvitation(f"item {item_id}", str(exc))))
    return good, bad


@dataclass(frozen=True)
class IntakeSettings:
    """`[sms.intake]`: url, ack_url (default url + '/ack'), auth_header, interval seconds."""

    url: str
    ack_url: str
    auth_header: str | None
    interval: float
    timeout: float = 10.0


def intake_from_config(intake: Section) -> IntakeSettings | None:
    """The settings of HTTP intake, or None when `[sms.intake] url` is not set."""
    if "url" not in intake:
        return None
    url = intake.get_str("url")
    if not url.startswith(("http://", "https://")):
        raise intake.error("url", "must be an http:// or https:// URL")
    return IntakeSettings(
        url=url,
        ack_url=intake.get_str("ack_url", url.rstrip("/") + "/ack"),
        auth_header=intake.get_str("auth_header", None),
        interval=intake.get_float("interval"),
        timeout=intake.get_float("timeout"),
    )


StoreItem = Callable[[Invitation], str]
Reject = Callable[[str, str], None]


class HttpIntake:
    """Polls the patient system; stores each item, then acknowledges what was handled."""

    def __init__(self, settings: IntakeSettings, session: requests.Session, tz: ZoneInfo) -> None:
        self.settings = settings
        self.session = session
        self.tz = tz

    def _headers(self) -> dict[str, str]:
        header = self.settings.auth_header
        if not header:
            return {}
        name, _, value = header.partition(":")
        return {name.strip(): value.strip()} if value else {"Authorization": header.strip()}

    def poll(self, store_item: StoreItem, reject: Reject) -> tuple[int, int]:
        """One poll: (stored, rejected). Raises IntakeError when the endpoint fails."""
        import requests

        s = self.settings
        try:
            reply = self.session.get(s.url, headers=self._headers(), timeout=s.timeout)
            reply.raise_for_status()
            payload = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise IntakeError(f"intake {s.url}: {exc}") from None
        good, bad = parse_items(payload, self.tz)
        accepted: list[str] = []
        rejected: list[dict[str, str]] = []
        for item_id, inv in good:
            # Only what store_item returned from (committed) is acknowledged.
            outcome = store_item(inv)
            accepted.append(item_id)
            log.debug("intake item %s: %s", item_id, outcome)
        for item_id, problem in bad:
            # The patient system gets the whole reason back; our log and table keep no number.
            reject(f"http:{item_id}", redact_text(problem.reason, NOTE_LANGUAGE))
            rejected.append({"id": item_id, "error": problem.reason})
            log.warning("intake %s rejected: %s", problem.where,
                        redact_text(problem.reason, NOTE_LANGUAGE))
        if accepted or rejected:
            self._ack(accepted, rejected)
        return len(accepted), len(rejected)

    def _ack(self, accepted: Iterable[str], rejected: list[dict[str, str]]) -> None:
        import requests

        s = self.settings
        body = {"accepted": list(accepted), "rejected": rejected}
        try:
            reply = self.session.post(s.ack_url, json=body, headers=self._headers(),
                                      timeout=s.timeout)
            reply.raise_for_status()
        except requests.RequestException as exc:
            # Not acknowledged: the items come again and are de-duplicated on arrival.
            raise IntakeError(f"intake ack {s.ack_url}: {exc}") from None
