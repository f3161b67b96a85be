"""Free text is redacted wherever it is stored: the device store and the central store."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from test_import import wire, write_lines

from central.importer import import_jsonl
from central.store import open_central
from survey.config import DeviceIdentity
from survey.response import Channel, Status
from survey.store import Store

SECRET = ("hoitaja Maija Virtanen, 040 123 4567, 131052-308T, matti@example.fi, "
          "FI21 1234 5600 0007 85, Mannerheimintie 12 B 34, 00100 Helsinki")


def test_the_device_store_redacts_every_text_in_its_responses_language(
        store: Store, origin: DeviceIdentity, now: datetime, tmp_path: Path) -> None:
    for lang, marks in (("fi", "[nimi]"), ("sv", "[namn]"), ("en", "[name]")):
        rid = store.start_response(origin, channel=Channel.KIOSK, survey="national",
                                   survey_version=1, lang=lang, started_at=now)
        store.set_answer(rid, "open", text=SECRET, at=now)
        store.finalise(rid, Status.COMPLETE, now)
        resp = store.get(rid)
        assert resp is not None and resp.answers["open"].text is not None
        assert resp.answers["open"].text.startswith(f"hoitaja {marks}, ")
    store.close()
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    dump = repr(conn.execute("SELECT * FROM answers").fetchall())
    conn.close()
    for secret in ("Virtanen", "4567", "308T", "example", "5600", "Mannerheimintie", "00100"):
        assert secret not in dump, secret


def test_central_import_redacts_texts_from_older_systems(tmp_path: Path,
                                                          central_url: str) -> None:
    path = tmp_path / "history.jsonl"
    write_lines(path, [wire(0, answers={"nps": {"value": 9}, "open": {"text": SECRET}}),
                       wire(1, lang="sv", answers={"open": {"text": "jag heter Anna Berg"}})])
    with open_central(central_url) as db:
        report = import_jsonl(db, path, progress=False)
        assert report.inserted == 2
        # SQLite gives the JSON text, PostgreSQL the decoded JSONB.
        texts = sorted((json.loads(a) if isinstance(a, str) else a)["open"]["text"]
                       for (a,) in db.execute("SELECT answers FROM responses"))
    assert texts == [
        "hoitaja [nimi], [puhelinnumero], [hetu], [sähköposti], [tilinumero], [osoite]",
        "jag heter [namn]",
    ]
