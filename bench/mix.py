"""The reference mix of the speed benchmarks: NPS, two statements, free text in 25 %.

The texts are the labelled feedback texts of tests/data/topics_dev.tsv (Finnish, Swedish,
English; short and long), taken in turn, so that the central's text work (redaction,
topic labels) is measured on real-looking texts, not one repeated sentence.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from survey.config import DeviceIdentity
from survey.response import Response, decode_response
from survey.store import Store

TEXTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "topics_dev.tsv"
START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
TEXT_SHARE = 4  # one response in 4 has a text


def texts() -> list[tuple[str, str]]:
    """(lang, text) of every labelled text, in file order."""
    out = []
    for line in TEXTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, _topics, _tone, text = line.split("\t")
            out.append((lang, text))
    return out


def device_id(at: datetime) -> str:
    """A response id as a device makes it (survey.store.new_response_id: time-ordered,
    UUIDv7 layout), at the time the response began."""
    ms = int(at.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    return str(uuid.UUID(int=value | (0b10 << 62) | (rand & ((1 << 62) - 1))))


def wire_responses(n: int, device: str = "tays-lobby-0", site: str = "tays",
                   first_seq: int = 1) -> list[dict[str, Any]]:
    """`n` final responses in their wire form, the reference mix: one every minute and a
    half or so, each taking from half a minute to three minutes to answer."""
    pool = texts()
    out = []
    for i in range(n):
        finished = START + timedelta(seconds=97 * i + (i * 37) % 60)
        started = finished - timedelta(seconds=30 + (i * 53) % 150)
        answers: dict[str, Any] = {"nps": {"value": (i * 7) % 11}, "s1": {"value": 1 + i % 5},
                                   "s2": {"value": 1 + (i * 3) % 5}}
        lang = "fi"
        if i % TEXT_SHARE == 0:
            lang, text = pool[(i // TEXT_SHARE) % len(pool)]
            answers["open"] = {"text": text}
        out.append({
            "id": device_id(started), "device": device, "site": site,
            "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
            "survey": "national", "survey_version": 3, "lang": lang,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"), "status": "complete",
            "seq": first_seq + i, "answers": answers,
            "flags": [],
        })
    return out


def responses(n: int, device: str = "tays-lobby-0", site: str = "tays") -> list[Response]:
    """The same as Response values."""
    return [decode_response(r) for r in wire_responses(n, device, site)]


def fill_device_store(store: Store, origin: DeviceIdentity, n: int) -> None:
    """Put `n` final responses of the mix into a device store in one transaction."""
    with store.write() as c:
        seq = int(c.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
        for r in wire_responses(n, origin.id, origin.site, seq):
            c.execute(
                "INSERT INTO responses (id, device, site, area, unit, channel, survey, "
                "survey_version, lang, started_at, finished_at, status, seq, flags) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (r["id"], origin.id, origin.site, origin.area, origin.unit, r["channel"],
                 r["survey"], r["survey_version"], r["lang"], r["started_at"],
                 r["finished_at"], r["status"], r["seq"], "[]"))
            c.executemany(
                "INSERT INTO answers (response_id, question, value, text, answered_at) "
                "VALUES (?,?,?,?,?)",
                [(r["id"], q, a.get("value"), a.get("text"), r["finished_at"])
                 for q, a in r["answers"].items()])
            seq += 1
        c.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq),))
