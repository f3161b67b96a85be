"""The daily report aggregates: the same report as direct queries, redelivery changes nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from report_data import insert, report_params, response

from central import report_daily
from central.report_render import report_json
from central.reports import ReportParams, build_report
from central.store import CentralStore, open_central
from survey.response import Response


@pytest.fixture
def db(central_url: str) -> Iterator[CentralStore]:
    with open_central(central_url) as store:
        yield store


def rich_data(seed: int, n: int) -> list[dict[str, Any]]:
    """Responses over four months from five devices, with every kind of answer."""
    rnd = random.Random(seed)
    devices = [("lobby-1", "ensiapu", "sairaala", "kiosk"), ("lobby-2", "ensiapu", "sairaala",
               "kiosk-audio"), ("gw-1", "neuvola", "perhe", "sms"),
               ("lobby-3", "lab", "sairaala", "kiosk"), ("tiny", "pieni", "perhe", "kiosk")]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(n):
        device, unit, area, channel = rnd.choice(devices[:4]) if rnd.random() > 0.01 \
            else devices[4]
        at = start + timedelta(seconds=rnd.randrange(120 * 86400))
        nps = None if rnd.random() < 0.05 else rnd.choice([0, 3, 5, 6, 7, 8, 9, 9, 10, 10, 10])
        statements = {q: rnd.randint(1, 5) for q in ("s1", "s2") if rnd.random() < 0.4}
        out.append(response(at, nps, device=device, unit=unit, area=area, channel=channel,
                            text=f"teksti {rnd.random()}" if rnd.random() < 0.3 else None,
                            statements=statements,
                            flags=["repeat_press"] if rnd.random() < 0.02 else []))
    burst = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)  # a burst of misuse in one hour
    out += [response(burst + timedelta(seconds=30 * i), 10, device="lobby-3", unit="lab",
                     area="sairaala", flags=["burst", "repeat_press"]) for i in range(15)]
    return out


def both(db: CentralStore, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    params = ReportParams(date(2025, 1, 1), date(2025, 4, 30),
                          now=datetime(2025, 5, 2, tzinfo=UTC), **kw)
    direct = report_json(build_report(db, params, aggregates=False))
    summed = report_json(build_report(db, params, aggregates=True))
    return direct, summed


def test_aggregates_agree_with_direct_queries_through_backfill_triggers_and_redelivery(
        db: CentralStore) -> None:
    before, after = rich_data(1, 1500), rich_data(2, 1500)
    insert(db, before, chunk=400)
    assert not report_daily.installed(db)
    report_daily.install(db)  # fills from the rows already there
    assert report_daily.installed(db)
    insert(db, after, chunk=400)  # the triggers add these
    assert insert(db, before[:300] + after[-300:]) == 0  # redelivered: nothing new
    total = db.execute("SELECT SUM(responses) FROM report_daily")[0][0]
    assert int(total) == db.count_responses() == len(before) + len(after)
    statements = db.execute("SELECT SUM(answers) FROM report_statements_daily")[0][0]
    assert int(statements) == db.execute("SELECT COUNT(*) FROM statement_answers")[0][0]
    for by in ("area", "unit", "device", "channel", "month"):
        direct, summed = both(db, by=by)
        assert summed == direct, by
    direct, summed = both(db, by="channel", filters=(("unit", "lab"),))
    assert summed == direct
    kinds = {(a["kind"], a["subject"]) for a in summed["anomalies"]}
    assert ("burst", "device lobby-3") in kinds


def test_install_again_rebuilds_the_same_counts(db: CentralStore) -> None:
    insert(db, rich_data(3, 400))
    report_daily.install(db)
    first = sorted(db.execute("SELECT * FROM report_daily"))
    report_daily.install(db)
    assert sorted(db.execute("SELECT * FROM report_daily")) == first
    assert report_daily.ensure(db)


def test_ensure_falls_back_when_it_cannot_install(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with open_central(f"sqlite:///{path}") as db:
        insert(db, rich_data(4, 50))
    with open_central(f"sqlite:///{path}") as db:
        db.execute("PRAGMA query_only = 1")  # as a read-only database role would be
        assert report_daily.ensure(db) is False
        params = ReportParams(date(2025, 1, 1), date(2025, 4, 30),
                              now=datetime(2025, 5, 2, tzinfo=UTC))
        total = build_report(db, params).text_shares[-1]
        assert (total.key, total.responses) == ("total", 65)  # 50 and a burst of 15


def test_aggregates_of_an_older_version_are_rebuilt(db: CentralStore) -> None:
    insert(db, rich_data(5, 300))
    report_daily.install(db)
    expected = sorted(db.execute("SELECT * FROM report_statements_daily"))
    db.execute("UPDATE report_aggregates SET version = 1")
    db.execute("DELETE FROM report_statements_daily")  # as if made by an older palaute
    assert not report_daily.installed(db)
    assert report_daily.ensure(db)
    assert report_daily.installed(db)
    assert sorted(db.execute("SELECT * FROM report_statements_daily")) == expected


# Instants near the edges that matter: month ends in local time, both DST changes of 2025
# (30 March 03:00 -> 04:00, 26 October 04:00 -> 03:00) and UTC midnight.
_EDGES = [datetime(2025, 3, 31, 21, 0, tzinfo=UTC), datetime(2025, 3, 30, 0, 30, tzinfo=UTC),
          datetime(2025, 10, 25, 23, 30, tzinfo=UTC), datetime(2025, 10, 31, 22, 0, tzinfo=UTC),
          datetime(2025, 4, 30, 21, 0, tzinfo=UTC), datetime(2025, 2, 28, 22, 0, tzinfo=UTC),
          datetime(2025, 9, 30, 20, 59, tzinfo=UTC)]


_DEVICES = [("lobby-1", "ensiapu", "sairaala", "kiosk"), ("lobby-2", "lab", "sairaala", "kiosk"),
            ("gw-1", "neuvola", "perhe", "sms"), ("smiley", "pieni", "perhe", "kiosk"),
            ("audio", "ensiapu", "sairaala", "kiosk-audio")]


def _random_responses(rnd: random.Random, n: int) -> list[Response]:
    out = []
    for _ in range(n):
        device, unit, area, channel = rnd.choice(_DEVICES)
        at = rnd.choice(_EDGES) + timedelta(minutes=rnd.randrange(-150, 150))
        if rnd.random() < 0.3:
            at = datetime(2025, 2, 1, tzinfo=UTC) + timedelta(seconds=rnd.randrange(280 * 86400))
        nps = None if device == "smiley" or rnd.random() < 0.15 else rnd.randrange(11)
        statements = {q: rnd.randint(1, 5) for q in ("s1", "s2", "s3") if rnd.random() < 0.5}
        out.append(response(at, nps, device=device, unit=unit, area=area, channel=channel,
                            text="teksti" if rnd.random() < 0.3 else None, statements=statements,
                            flags=rnd.choice([[], [], [], ["repeat_press"], ["burst"]])))
    return out


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_aggregates_give_the_direct_report_for_random_data_with_redelivery(
        db: CentralStore, seed: int) -> None:
    rnd = random.Random(seed)
    before, after = _random_responses(rnd, 300), _random_responses(rnd, 300)
    insert(db, before, chunk=70)
    report_daily.install(db)
    # Later batches mix new responses with ones delivered before (and twice in one batch).
    again = rnd.sample(before, 60)
    batches = [after[:150] + again[:30] + again[:5], again[30:] + after[150:] + after[:20]]
    assert [db.insert_responses(b) for b in batches] == [150, 150]
    assert int(db.execute("SELECT SUM(responses) FROM report_daily")[0][0]) == 600
    # An oracle in Python: NPS counts per local month of the 600 distinct responses.
    helsinki = ZoneInfo("Europe/Helsinki")
    expected: dict[str, list[int]] = {}
    for r in before + after:
        assert r.finished_at is not None
        month = r.finished_at.astimezone(helsinki).strftime("%Y-%m")
        if r.nps is not None:
            expected.setdefault(month, [0] * 11)[r.nps] += 1
    year = report_json(build_report(db, report_params(date(2025, 1, 1), date(2025, 12, 31),
                                                by="month")))
    assert {g["key"]: g["counts"] for g in year["groups"]} == expected
    cases: list[tuple[date, date, str, tuple[tuple[str, str], ...]]] = [
        (date(2025, 3, 1), date(2025, 3, 31), "month", ()),
        (date(2025, 4, 1), date(2025, 4, 30), "unit", ()),
        (date(2025, 3, 30), date(2025, 10, 26), "device", ()),
        (date(2025, 10, 1), date(2025, 10, 31), "channel", ()),
        (date(2025, 1, 1), date(2025, 12, 31), "area", (("area", "sairaala"),))]
    for case in cases:
        params = report_params(case[0], case[1], by=case[2], filters=case[3])
        direct = report_json(build_report(db, params, aggregates=False))
        summed = report_json(build_report(db, params, aggregates=True))
        assert summed == direct, case
