"""Review of the central report's figures: edge cases found wrong, with hand-computed answers."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from report_data import insert, response

from central import report_daily
from central.report_render import render, report_json
from central.reports import ReportParams, build_report
from central.store import CentralStore, open_central
from survey.response import Response


@pytest.fixture
def db(central_url: str) -> Iterator[CentralStore]:
    with open_central(central_url) as store:
        yield store


def _params(start: date, end: date, **kw: Any) -> ReportParams:
    kw.setdefault("lang", "en")
    return ReportParams(start, end, now=datetime(2025, 6, 1, tzinfo=UTC), **kw)


def _both(db: CentralStore, params: ReportParams) -> list[dict[str, Any]]:
    """The report's JSON read directly and (once installed) through the daily aggregates."""
    out = [report_json(build_report(db, params, aggregates=False))]
    report_daily.ensure(db)
    out.append(report_json(build_report(db, params, aggregates=True)))
    return out


# -- rolling 30-day window --------------------------------------------------------------------


def test_rolling_window_of_the_first_trend_day_reaches_back_30_days(db: CentralStore) -> None:
    # Ten promoters on 5 February; five detractors on 25 March. A report from 20 March
    # starts its trend (and the daily rolling line) on 1 March, whose 30-day window is
    # 31 January .. 1 March: it holds the ten promoters -> n 10, NPS 100.0.
    # On 6 March the window is 5 February .. 6 March: still n 10; on 7 March it is empty.
    feb5 = datetime(2025, 2, 5, 10, 0, tzinfo=UTC)
    mar25 = datetime(2025, 3, 25, 10, 0, tzinfo=UTC)
    insert(db, [response(feb5 + timedelta(minutes=i), 10) for i in range(10)]
           + [response(mar25 + timedelta(minutes=i), 0) for i in range(5)])
    for data in _both(db, _params(date(2025, 3, 20), date(2025, 3, 31))):
        rolling = {p["label"]: p for p in data["rolling_30d"]}
        assert rolling["2025-03-01"] == {"label": "2025-03-01", "n": 10, "nps": 100.0}
        assert rolling["2025-03-06"] == {"label": "2025-03-06", "n": 10, "nps": 100.0}
        assert rolling["2025-03-07"] == {"label": "2025-03-07", "n": 0, "nps": None}
        # 25 March: window 24 Feb .. 25 Mar holds the five detractors only.
        assert rolling["2025-03-25"] == {"label": "2025-03-25", "n": 5, "nps": -100.0}


# -- responses without an NPS answer ----------------------------------------------------------


NOON = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


def test_a_group_without_nps_answers_shows_n_0_and_its_texts(db: CentralStore) -> None:
    # A smileys-only kiosk (area "kioski"): six responses with text, none with NPS. It has
    # no NPS figures (n 0, not "<5": nobody was hidden), but six responses are enough to
    # show its text share (6/6 = 100.0 %) and, in HTML, its texts.
    insert(db, [response(NOON + timedelta(minutes=i), None, area="kioski", text=f"Hyvä {i}",
                         statements={"s1": 5}) for i in range(6)]
           + [response(NOON + timedelta(minutes=i), 10, area="perhe") for i in range(10)])
    params = _params(date(2025, 3, 1), date(2025, 3, 31))
    for data in _both(db, params):
        assert data["groups"] == [
            {"key": "kioski", "n": 0, "counts": None, "mean": None, "nps": None},
            {"key": "perhe", "n": 10, "counts": [0] * 10 + [10], "mean": 10.0, "nps": 100.0}]
        assert data["total"]["n"] == 10
        shares = {t["key"]: t for t in data["free_text"]}
        assert shares["kioski"] == {"key": "kioski", "responses": 6, "with_text": 6,
                                    "share": 100.0}
    report = build_report(db, params)
    page = render(report, "html")
    assert "Hyvä 5" in page and "Hyvä 0" in page
    table = render(report, "table").splitlines()
    kioski = next(line for line in table if line.startswith("kioski "))
    assert kioski.split()[1] == "0"  # n, not "<5"


# -- the daily aggregates against the responses themselves ------------------------------------

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
    year = report_json(build_report(db, _params(date(2025, 1, 1), date(2025, 12, 31),
                                                by="month")))
    assert {g["key"]: g["counts"] for g in year["groups"]} == expected
    cases: list[tuple[date, date, str, tuple[tuple[str, str], ...]]] = [
        (date(2025, 3, 1), date(2025, 3, 31), "month", ()),
        (date(2025, 4, 1), date(2025, 4, 30), "unit", ()),
        (date(2025, 3, 30), date(2025, 10, 26), "device", ()),
        (date(2025, 10, 1), date(2025, 10, 31), "channel", ()),
        (date(2025, 1, 1), date(2025, 12, 31), "area", (("area", "sairaala"),))]
    for case in cases:
        params = _params(case[0], case[1], by=case[2], filters=case[3])
        direct = report_json(build_report(db, params, aggregates=False))
        summed = report_json(build_report(db, params, aggregates=True))
        assert summed == direct, case


# -- SMS funnel -------------------------------------------------------------------------------


def test_sms_funnel_says_when_daily_counters_do_not_reach_back_to_the_period_start(
        db: CentralStore) -> None:
    # A gateway reports its daily counters of the last active days only (62 of them) next
    # to its cumulative counters. A year's report must not present the last two months'
    # sums as the year's: cumulative sent 900 > 60 in the daily counters, so history is
    # missing and the row says from which day its figures are.
    at = datetime(2025, 5, 31, 12, tzinfo=UTC)
    insert(db, [response(at - timedelta(minutes=i), 9, channel="sms") for i in range(5)])
    daily = {"2025-05-02": {"sent": 20, "answered": 5, "completed": 5},
             "2025-05-20": {"sent": 40, "answered": 10, "completed": 8}}
    cumulative = {"invited": 900, "sent": 900, "delivered": 880, "answered": 300,
                  "completed": 250, "opted_out": 3, "expired": 40}
    db.upsert_device_status("gw-old", "tays", {"sms": {**cumulative, "daily": daily}}, at)
    # A gateway started on 10 May: its daily counters hold all it ever counted.
    young = {"2025-05-10": {"sent": 10, "answered": 6, "completed": 6}}
    db.upsert_device_status("gw-new", "tays", {"sms": {"sent": 10, "answered": 6,
                                                       "completed": 6, "daily": young}}, at)
    for data in _both(db, _params(date(2025, 1, 1), date(2025, 5, 31))):
        gws = {g["device"]: g for g in data["sms_funnel"]["gateways"]}
        assert gws["gw-old"]["basis"] == "from 2025-05-02"
        assert (gws["gw-old"]["sent"], gws["gw-old"]["answered"]) == (60, 15)
        assert gws["gw-new"]["basis"] == "period" and gws["gw-new"]["sent"] == 10
        assert data["sms_funnel"]["total"]["basis"] == "mixed"
    # A period that starts on the oldest day counted is a plain period.
    may = _both(db, _params(date(2025, 5, 2), date(2025, 5, 31)))[0]
    assert {g["basis"] for g in may["sms_funnel"]["gateways"]} == {"period"}


# -- anomalies ----------------------------------------------------------------------------------


def test_volume_drop_is_judged_on_days_that_have_happened(db: CentralStore) -> None:
    # Two lobby devices, 27 April .. 31 May: lobby-1 steady at 10 a day; lobby-2 at 10 a day
    # until 24 May, then 1 a day. On 1 June an analyst asks for the whole year (--to
    # 2025-12-31): the days after today have no responses yet, which is no drop. The
    # windows end on the last full day, 31 May: lobby-2's last 7 days hold 7 responses
    # (1.0 a day) against 280 in the 28 days before (10.0 a day); lobby-1 is fine.
    rows = []
    for day in range(35):
        at = datetime(2025, 4, 27, 8, 0, tzinfo=UTC) + timedelta(days=day)
        rows += [response(at + timedelta(minutes=i), 9, device="lobby-1") for i in range(10)]
        rows += [response(at + timedelta(minutes=i), 9, device="lobby-2")
                 for i in range(10 if day < 28 else 1)]
    insert(db, rows)
    for data in _both(db, _params(date(2025, 1, 1), date(2025, 12, 31))):
        drops = {a["subject"]: a["evidence"] for a in data["anomalies"]
                 if a["kind"] == "volume_drop"}
        assert set(drops) == {"device lobby-2"}
        ev = drops["device lobby-2"]
        assert (ev["recent_from"], ev["recent_to"]) == ("2025-05-25", "2025-05-31")
        assert (ev["recent_responses"], ev["baseline_responses"]) == (7, 280)


# -- number format --------------------------------------------------------------------------


def test_html_in_finnish_writes_a_decimal_comma_and_csv_json_stay_machine_readable(
        db: CentralStore) -> None:
    # Six answers 10, 10, 9, 8, 6, 0: promoters 3, detractors 2 -> NPS 1/6 = 16.7;
    # mean 43/6 = 7.17; share of 10s 2/6 = 33.3 %. A Finnish reader (and Finnish Excel,
    # where a pasted "1.5" becomes the 1st of May) expects "16,7", as the counties write.
    insert(db, [response(NOON + timedelta(minutes=i), v) for i, v in
                enumerate([10, 10, 9, 8, 6, 0])])
    fi = build_report(db, _params(date(2025, 3, 1), date(2025, 3, 31), lang="fi"))
    page = render(fi, "html")
    assert "NPS <strong>16,7</strong>, N = 6, keskiarvo 7,17" in page
    row = re.search(r'<table id="nps-table">.*?<tr class="total">(.*?)</tr>', page, re.S)
    assert row and re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[-2:] == ["7,17", "16,7"]
    assert "<td>33,3</td>" in page and "<td>33.3</td>" not in page
    en = render(build_report(db, _params(date(2025, 3, 1), date(2025, 3, 31), lang="en")),
                "html")
    assert "NPS <strong>16.7</strong>" in en and "<td>33,3</td>" not in en
    assert '"nps": 16.7' in render(fi, "json")
    total = next(r for r in csv.reader(io.StringIO(render(fi, "csv"))) if r[:1] == ["yhteensä"])
    assert total[-2:] == ["7.17", "16.7"]
    assert render(fi, "table").count("16.7") >= 1  # the terminal table, as before


def test_sms_funnel_notices_a_gateway_whose_store_was_replaced(db: CentralStore) -> None:
    # gw-1 answered SMS surveys in March (the central store has its responses), then its
    # store was replaced on 10 May: its counters, cumulative and daily, restarted at 0 and
    # agree with each other. Its funnel for March .. May is only 10 May on ("from").
    mar = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
    insert(db, [response(mar + timedelta(minutes=i), 8, device="gw-1", channel="sms")
                for i in range(6)])
    at = datetime(2025, 5, 31, 12, tzinfo=UTC)
    daily = {"2025-05-10": {"sent": 30, "answered": 9, "completed": 7}}
    db.upsert_device_status("gw-1", "tays", {"sms": {"sent": 30, "answered": 9, "completed": 7,
                                                     "daily": daily}}, at)
    for data in _both(db, _params(date(2025, 3, 1), date(2025, 5, 31))):
        gw = data["sms_funnel"]["gateways"][0]
        assert (gw["device"], gw["basis"], gw["sent"], gw["answered"]) == (
            "gw-1", "from 2025-05-10", 30, 9)
    # March alone lies wholly before the counters: "from 2025-05-10" and nothing counted.
    march = _both(db, _params(date(2025, 3, 1), date(2025, 3, 31)))[0]["sms_funnel"]
    assert (march["gateways"][0]["basis"], march["gateways"][0]["sent"]) == (
        "from 2025-05-10", 0)


def test_concentration_adds_up_a_device_whose_unit_changed_within_the_week(
        db: CentralStore) -> None:
    # lobby-9 gave 10 answers a week (6, 7, 8, 9, 10 twice each) for four weeks in unit
    # ensiapu. In the week of Monday 31 March staff entered 5 eight times on Monday; the
    # device was then moved to unit ensiapu-uusi and they entered 5 eight more times on
    # Wednesday. The device's week: n 16, all 5 (100.0 %), against 0 of 40 before.
    rows = []
    for week in range(4):
        monday = datetime(2025, 3, 3, 8, 0, tzinfo=UTC) + timedelta(weeks=week)
        rows += [response(monday + timedelta(minutes=i), v, device="lobby-9")
                 for i, v in enumerate([6, 7, 8, 9, 10] * 2)]
    rows += [response(datetime(2025, 3, 31, 8, i, tzinfo=UTC), 5, device="lobby-9")
             for i in range(8)]
    rows += [response(datetime(2025, 4, 2, 8, i, tzinfo=UTC), 5, device="lobby-9",
                      unit="ensiapu-uusi") for i in range(8)]
    insert(db, rows)
    for data in _both(db, _params(date(2025, 3, 31), date(2025, 4, 6))):
        found = {a["subject"]: a["evidence"] for a in data["anomalies"]
                 if a["kind"] == "concentration"}
        assert set(found) == {"device lobby-9"}
        ev = found["device lobby-9"]
        assert (ev["value"], ev["week"], ev["n"], ev["count"], ev["share"]) == (
            5, "2025-03-31", 16, 16, 100.0)
        assert (ev["baseline_n"], ev["baseline_count"]) == (40, 0)


def test_a_unit_report_shows_only_the_gateways_that_served_it_and_says_whole_gateway(
        db: CentralStore) -> None:
    # gw-a sent the surveys of ensiapu, gw-b those of neuvola. A gateway counts invitations
    # of every unit it serves together, so a report for unit ensiapu (as mailed monthly to
    # its leader) shows gw-a only, marked as counting the whole gateway; never gw-b's
    # counters, and no rate-drop anomaly of gw-b.
    at = datetime(2025, 3, 31, 12, tzinfo=UTC)
    insert(db, [response(NOON + timedelta(minutes=i), 9, device="gw-a", channel="sms")
                for i in range(6)]
           + [response(NOON + timedelta(minutes=i), 9, device="gw-b", channel="sms",
                       unit="neuvola") for i in range(6)])
    end = date(2025, 3, 31)
    for device, late in (("gw-a", 10), ("gw-b", 1)):  # gw-b's answers fell last week
        daily = {(end - timedelta(days=i)).isoformat(): {"sent": 50, "answered": late
                                                         if i < 7 else 10}
                 for i in range(35)}
        db.upsert_device_status(device, "tays", {"sms": {"daily": daily}}, at)
    # 31 days of March: sent 31 x 50 = 1550; gw-a answered 31 x 10 = 310.
    unit = _both(db, _params(date(2025, 3, 1), end, filters=(("unit", "ensiapu"),)))
    for data in unit:
        gws = data["sms_funnel"]["gateways"]
        assert [(g["device"], g["basis"], g["sent"], g["answered"]) for g in gws] == [
            ("gw-a", "period, whole gateway", 1550, 310)]
        assert not any(a["subject"] == "device gw-b" for a in data["anomalies"])
    everyone = _both(db, _params(date(2025, 3, 1), end))[0]
    assert [g["basis"] for g in everyone["sms_funnel"]["gateways"]] == ["period", "period"]
    assert any(a["kind"] == "rate_drop" and a["subject"] == "device gw-b"
               for a in everyone["anomalies"])


def test_an_nps_just_below_zero_reads_0_0_not_minus_0_0(db: CentralStore) -> None:
    # 1001 answers 0 and 1000 answers 10: NPS = -1/2001 = -0.05 points, rounded 0.0
    # (shown "-0.0" it reads as a negative score); mean 10000/2001 = 5.00.
    insert(db, [response(NOON + timedelta(seconds=20 * i), 0 if i < 1001 else 10)
                for i in range(2001)])
    report = build_report(db, _params(date(2025, 3, 1), date(2025, 3, 31)))
    for fmt in ("table", "csv", "html"):
        assert "-0.0" not in render(report, fmt) and "-0,0" not in render(report, fmt), fmt
    total = next(r for r in csv.reader(io.StringIO(render(report, "csv"))) if r[:1] == ["total"])
    assert total[-2:] == ["5.00", "0.0"]
