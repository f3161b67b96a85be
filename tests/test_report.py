"""The central report against hand-computed figures, in SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_data import COUNTY, NOON, direct_and_daily, insert, report_params, response, spread

from central.report_render import render
from central.reports import build_report
from central.store import CentralStore, open_central
from palaute.cli import main


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'central.sqlite'}"


@pytest.fixture
def db(central_url: str) -> Iterator[CentralStore]:
    with open_central(central_url) as store:
        yield store


def report_json(url: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    assert main(["central", "report", "--db", url, "--format", "json", "--out", str(out),
                 "--now", "2025-06-01", *args]) == 0
    data: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return data


def test_county_distribution_gives_the_published_figures(
        db: CentralStore, central_url: str, tmp_path: Path) -> None:
    assert insert(db, spread(COUNTY, datetime(2025, 1, 1, tzinfo=UTC),
                             timedelta(seconds=100))) == 57814
    data = report_json(central_url, tmp_path, "--from", "2025-01-01", "--to", "2025-03-31")
    # By hand: n = 57814; promoters 11079 + 39503 = 50582; detractors
    # 522+230+217+186+479+484+300 = 2418; NPS = (50582 - 2418) / 57814 = 83.308 %;
    # mean = 539836 / 57814 = 9.3375.
    assert data["total"] == {"key": "total", "n": 57814, "counts": list(COUNTY),
                             "mean": 9.34, "nps": 83.3}
    assert data["groups"] == [{**data["total"], "key": "sairaalapalvelut"}]
    assert set(data["groups"][0]) == {"key", "n", "counts", "mean", "nps"}


def _values(counts: list[int]) -> list[int]:
    return [v for v, c in enumerate(counts) for _ in range(c)]


def test_groups_small_group_suppressed_in_json(db: CentralStore, central_url: str,
                                               tmp_path: Path) -> None:
    big = [0, 0, 0, 1, 0, 0, 1, 2, 1, 3, 2]  # n 10: promoters 5, detractors 2 -> 30.0
    small = [10, 9, 9]
    rows = [response(NOON + timedelta(minutes=i), v, area="perhe")
            for i, v in enumerate(_values(big))]
    rows += [response(NOON + timedelta(minutes=i), v, area="vanhus", text="Hyvä")
             for i, v in enumerate(small)]
    insert(db, rows)
    data = report_json(central_url, tmp_path, "--from", "2025-03-01", "--to", "2025-03-31")
    # perhe is big, but total minus perhe would be vanhus: perhe is protected (n only).
    assert data["groups"] == [
        {"key": "perhe", "n": 10, "counts": None, "mean": None, "nps": None},
        {"key": "vanhus", "n": "<5", "counts": None, "mean": None, "nps": None},
    ]
    assert data["protected"]["groups"] == ["perhe"]
    # Total over 13: promoters 8, detractors 2 -> 46.2; mean (78 + 28) / 13 = 8.15
    assert data["total"]["n"] == 13 and data["total"]["nps"] == 46.2
    assert data["total"]["mean"] == 8.15
    shares = {row["key"]: row for row in data["free_text"]}
    assert shares["vanhus"] == {"key": "vanhus", "responses": "<5", "with_text": None,
                                "share": None}
    assert shares["perhe"] == {"key": "perhe", "responses": 10, "with_text": None,
                               "share": None}
    assert shares["total"]["share"] == 23.1  # 3 of 13


def test_small_total_is_suppressed_too(db: CentralStore, central_url: str, tmp_path: Path) -> None:
    insert(db, [response(NOON + timedelta(minutes=i), 9) for i in range(4)])
    data = report_json(central_url, tmp_path, "--from", "2025-03-01", "--to", "2025-03-31")
    assert data["total"] == {"key": "total", "n": "<5", "counts": None, "mean": None,
                             "nps": None}
    assert data["groups"][0]["n"] == "<5"


def test_monthly_trend_and_rolling_30_days(db: CentralStore, central_url: str,
                                           tmp_path: Path) -> None:
    jan = datetime(2025, 1, 10, 10, tzinfo=UTC)
    feb = datetime(2025, 2, 20, 10, tzinfo=UTC)
    insert(db, [response(jan + timedelta(minutes=i), v)
                for i, v in enumerate([10] * 5 + [3] * 5)])  # NPS 0.0
    insert(db, [response(feb + timedelta(minutes=i), 10) for i in range(10)])  # NPS 100.0
    insert(db, [response(feb + timedelta(minutes=i), 7, device="lobby-2", unit="lab")
                for i in range(3)])  # a small unit
    data = report_json(central_url, tmp_path, "--from", "2025-01-01", "--to", "2025-02-28",
                       "--by", "unit")
    assert data["trend"]["months"] == ["2025-01", "2025-02"]
    rows = {r["key"]: r for r in data["trend"]["rows"]}
    # February's lab is small, so ensiapu's February is protected (total minus it is lab).
    assert rows["ensiapu"]["months"] == [{"label": "2025-01", "n": 10, "nps": 0.0},
                                         {"label": "2025-02", "n": 10, "nps": None}]
    assert data["protected"]["trend"]["months"] == {"2025-02": ["ensiapu"]}
    assert rows["lab"]["months"] == [{"label": "2025-01", "n": 0, "nps": None},
                                     {"label": "2025-02", "n": "<5", "nps": None}]
    # February in total: 10 tens and 3 sevens -> 76.9
    assert [m["nps"] for m in rows["total"]["months"]] == [0.0, 76.9]
    # The 30 days ending 2025-02-28 start on 2025-01-30: January is out of the window,
    # so ensiapu's 10 and lab's 3 are the window's rows, and ensiapu is protected.
    assert rows["ensiapu"]["rolling_30d"] == {"label": "2025-01-30..2025-02-28", "n": 10,
                                              "nps": None}
    assert rows["total"]["rolling_30d"]["nps"] == 76.9
    rolling = {p["label"]: p for p in data["rolling_30d"]}
    assert rolling["2025-01-31"] == {"label": "2025-01-31", "n": 10, "nps": 0.0}
    assert rolling["2025-02-09"]["nps"] is None and rolling["2025-02-09"]["n"] == 0
    assert rolling["2025-02-28"] == {"label": "2025-02-28", "n": 13, "nps": 76.9}


def test_statements_mean_n_and_agreeing(db: CentralStore, central_url: str, tmp_path: Path) -> None:
    s1 = [5, 4, 3, 5, 2, 4]
    insert(db, [response(NOON + timedelta(minutes=i), 9, statements={"s1": v, **(
        {"s2": 5} if i < 3 else {})}) for i, v in enumerate(s1)])
    # The relatives' survey has its own s1 ("Läheiseni sai apua…"): never mixed in.
    relatives = [replace(response(NOON + timedelta(minutes=i), 9, statements={"s1": 1}),
                         survey="relatives") for i in range(5)]
    insert(db, relatives)
    data = report_json(central_url, tmp_path, "--from", "2025-03-01", "--to", "2025-03-31")
    rows = {(r["key"], r["survey"], r["question"]): r for r in data["statements"]}
    # national s1 (5, 4, 3, 5, 2, 4): mean 23 / 6 = 3.83; agreeing 4 of 6 = 66.7 %;
    # fives 2 of 6 = 33.3 %; one 2 and one 3 (16.7 % each), no 1s
    assert rows[("sairaalapalvelut", "national", "s1")] == {
        "key": "sairaalapalvelut", "survey": "national", "question": "s1",
        "label": "Sain apua, kun sitä tarvitsin.", "n": 6, "mean": 3.83, "agree_share": 66.7,
        "top_share": 33.3, "shares": [0.0, 16.7, 16.7, 33.3, 33.3]}
    assert rows[("total", "national", "s1")]["mean"] == 3.83
    assert rows[("total", "relatives", "s1")]["label"].startswith("Läheiseni sai apua")
    assert (rows[("total", "relatives", "s1")]["n"],
            rows[("total", "relatives", "s1")]["mean"]) == (5, 1.0)
    assert rows[("total", "national", "s2")] == {
        "key": "total", "survey": "national", "question": "s2",
        "label": "Minulle jäi tunne, että minusta välitettiin kokonaisvaltaisesti.",
        "n": "<5", "mean": None, "agree_share": None, "top_share": None, "shares": None}


def test_anomalies_found_in_data_made_to_contain_them(db: CentralStore, central_url: str,
                                                      tmp_path: Path) -> None:
    normal = [0, 0, 0, 1, 1, 2, 2, 3, 4, 6, 6]  # 25 a week, one value at most 24 %
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)  # a Monday
    rows: list[dict[str, Any]] = []
    for week in range(6):  # four normal weeks, then two where staff enter 5
        counts = normal if week < 4 else [0, 0, 0, 0, 1, 20, 1, 1, 1, 1, 0]
        rows += spread(counts, start + timedelta(weeks=week), timedelta(minutes=7),
                       device="asumis-1", unit="asumispalvelu")
        rows += spread(normal, start + timedelta(weeks=week), timedelta(minutes=7),
                       device="lobby-ok", unit="ensiapu")
    burst_at = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)
    rows += [response(burst_at + timedelta(seconds=20 * i), 10, device="lobby-ok",
                      unit="ensiapu", flags=["repeat_press"]) for i in range(12)]
    insert(db, rows)
    now = datetime(2025, 4, 14, 12, tzinfo=UTC)
    db.upsert_device_status("lobby-ok", "tays", {"online": True}, now - timedelta(hours=1))
    db.upsert_device_status("gw-quiet", "tays", {"online": True}, now - timedelta(hours=50))
    # An SMS gateway whose answers fell from 20 % to 2 % of sent invitations last week.
    end = date(2025, 4, 13)
    daily = {(end - timedelta(days=i)).isoformat(): {"sent": 50, "answered": 1 if i < 7 else 10}
             for i in range(35)}
    db.upsert_device_status("gw-drop", "tays", {"sms": {"daily": daily}}, now)
    data = report_json(central_url, tmp_path, "--from", "2025-03-31", "--to", "2025-04-13",
                       "--now", now.isoformat(), "--silent-hours", "48")
    found = {(a["kind"], a["subject"]): a["evidence"] for a in data["anomalies"]}
    trap = found[("concentration", "device asumis-1")]
    assert trap["value"] == 5 and trap["week"] == "2025-03-31"
    assert (trap["count"], trap["n"], trap["share"]) == (20, 25, 80.0)
    assert (trap["baseline_count"], trap["baseline_n"]) == (8, 100)  # 2 of 25, four weeks
    assert ("concentration", "unit asumispalvelu") in found
    assert not any(s.endswith("lobby-ok") for k, s in found if k == "concentration")
    burst = found[("burst", "device lobby-ok")]
    assert burst["worst_hour"] == "2025-04-09T12:00Z" and burst["flagged"] == 12
    assert found[("silent", "device gw-quiet")]["hours_silent"] == 50.0
    assert ("silent", "device lobby-ok") not in found
    drop = found[("rate_drop", "device gw-drop")]
    assert (drop["recent_sent"], drop["recent_answered"], drop["recent_rate"]) == (350, 7, 2.0)
    assert (drop["baseline_sent"], drop["baseline_answered"]) == (1400, 280)


def test_sms_funnel_from_gateway_status(db: CentralStore, central_url: str, tmp_path: Path) -> None:
    insert(db, [response(NOON + timedelta(minutes=i), 9, channel="sms") for i in range(5)])
    at = datetime(2025, 3, 31, 12, tzinfo=UTC)
    cumulative = {"invited": 120, "sent": 100, "delivered": 96, "answered": 20,
                  "completed": 15, "opted_out": 2, "expired": 5, "rested": 11}
    db.upsert_device_status("gw-1", "tays", {"sms": cumulative, "last_seen": at.isoformat()}, at)
    daily = {"2025-02-28": {"sent": 1000, "answered": 1000},  # before the period
             "2025-03-02": {"invited": 10, "sent": 10, "delivered": 9, "answered": 4,
                            "completed": 3}, "2025-03-03": {"sent": 30, "answered": 6}}
    db.upsert_device_status("gw-2", "satakunta", {"sms": {"daily": daily}}, at)
    db.upsert_device_status("lobby-1", "tays", {"online": True}, at)
    data = report_json(central_url, tmp_path, "--from", "2025-03-01", "--to", "2025-03-31",
                       "--now", "2025-04-01")
    funnel = data["sms_funnel"]
    gws = {g["device"]: g for g in funnel["gateways"]}
    assert set(gws) == {"gw-1", "gw-2"}
    assert gws["gw-1"] == {"device": "gw-1", "basis": "cumulative", **cumulative,
                           "response_rate": 20.0, "completion_rate": 75.0}
    assert gws["gw-2"]["basis"] == "period" and gws["gw-2"]["sent"] == 40
    assert gws["gw-2"]["rested"] == 0 and funnel["total"]["rested"] == 11  # none reported
    assert gws["gw-2"]["response_rate"] == 25.0  # 10 of 40
    assert funnel["total"]["sent"] == 140 and funnel["total"]["answered"] == 30
    assert funnel["total"]["response_rate"] == 21.4  # 30 / 140
    assert "phone" not in json.dumps(funnel)


def test_period_filter_is_by_local_date(db: CentralStore, central_url: str, tmp_path: Path) -> None:
    # 2025-02-28 22:30 UTC is already 1 March in Helsinki.
    late = datetime(2025, 2, 28, 22, 30, tzinfo=UTC)
    insert(db, [response(late + timedelta(seconds=i), 10) for i in range(5)])
    data = report_json(central_url, tmp_path, "--from", "2025-03-01", "--to", "2025-03-01")
    assert data["total"]["n"] == 5
    assert date.fromisoformat(data["period"]["from"]) == date(2025, 3, 1)


def test_rolling_window_of_the_first_trend_day_reaches_back_30_days(db: CentralStore) -> None:
    # Ten promoters on 5 February; five detractors on 25 March. A report from 20 March
    # starts its trend (and the daily rolling line) on 1 March, whose 30-day window is
    # 31 January .. 1 March: it holds the ten promoters -> n 10, NPS 100.0.
    # On 6 March the window is 5 February .. 6 March: still n 10; on 7 March it is empty.
    feb5 = datetime(2025, 2, 5, 10, 0, tzinfo=UTC)
    mar25 = datetime(2025, 3, 25, 10, 0, tzinfo=UTC)
    insert(db, [response(feb5 + timedelta(minutes=i), 10) for i in range(10)]
           + [response(mar25 + timedelta(minutes=i), 0) for i in range(5)])
    for data in direct_and_daily(db, report_params(date(2025, 3, 20), date(2025, 3, 31))):
        rolling = {p["label"]: p for p in data["rolling_30d"]}
        assert rolling["2025-03-01"] == {"label": "2025-03-01", "n": 10, "nps": 100.0}
        assert rolling["2025-03-06"] == {"label": "2025-03-06", "n": 10, "nps": 100.0}
        assert rolling["2025-03-07"] == {"label": "2025-03-07", "n": 0, "nps": None}
        # 25 March: window 24 Feb .. 25 Mar holds the five detractors only.
        assert rolling["2025-03-25"] == {"label": "2025-03-25", "n": 5, "nps": -100.0}


def test_a_group_without_nps_answers_shows_n_0_and_its_texts(db: CentralStore) -> None:
    # A smileys-only kiosk (area "kioski"): six responses with text, none with NPS. It has
    # no NPS figures (n 0, not "<5": nobody was hidden), but six responses are enough to
    # show its text share (6/6 = 100.0 %) and, in HTML, its texts.
    insert(db, [response(NOON + timedelta(minutes=i), None, area="kioski", text=f"Hyvä {i}",
                         statements={"s1": 5}) for i in range(6)]
           + [response(NOON + timedelta(minutes=i), 10, area="perhe") for i in range(10)])
    params = report_params(date(2025, 3, 1), date(2025, 3, 31))
    for data in direct_and_daily(db, params):
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
    for data in direct_and_daily(db, report_params(date(2025, 1, 1), date(2025, 5, 31))):
        gws = {g["device"]: g for g in data["sms_funnel"]["gateways"]}
        assert gws["gw-old"]["basis"] == "from 2025-05-02"
        assert (gws["gw-old"]["sent"], gws["gw-old"]["answered"]) == (60, 15)
        assert gws["gw-new"]["basis"] == "period" and gws["gw-new"]["sent"] == 10
        assert data["sms_funnel"]["total"]["basis"] == "mixed"
    # A period that starts on the oldest day counted is a plain period.
    may = direct_and_daily(db, report_params(date(2025, 5, 2), date(2025, 5, 31)))[0]
    assert {g["basis"] for g in may["sms_funnel"]["gateways"]} == {"period"}


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
    for data in direct_and_daily(db, report_params(date(2025, 3, 1), date(2025, 5, 31))):
        gw = data["sms_funnel"]["gateways"][0]
        assert (gw["device"], gw["basis"], gw["sent"], gw["answered"]) == (
            "gw-1", "from 2025-05-10", 30, 9)
    # March alone lies wholly before the counters: "from 2025-05-10" and nothing counted.
    march = direct_and_daily(db, report_params(date(2025, 3, 1),
                                               date(2025, 3, 31)))[0]["sms_funnel"]
    assert (march["gateways"][0]["basis"], march["gateways"][0]["sent"]) == (
        "from 2025-05-10", 0)


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
    unit = direct_and_daily(db, report_params(date(2025, 3, 1), end,
                                              filters=(("unit", "ensiapu"),)))
    for data in unit:
        gws = data["sms_funnel"]["gateways"]
        assert [(g["device"], g["basis"], g["sent"], g["answered"]) for g in gws] == [
            ("gw-a", "period, whole gateway", 1550, 310)]
        assert not any(a["subject"] == "device gw-b" for a in data["anomalies"])
    everyone = direct_and_daily(db, report_params(date(2025, 3, 1), end))[0]
    assert [g["basis"] for g in everyone["sms_funnel"]["gateways"]] == ["period", "period"]
    assert any(a["kind"] == "rate_drop" and a["subject"] == "device gw-b"
               for a in everyone["anomalies"])


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
    for data in direct_and_daily(db, report_params(date(2025, 1, 1), date(2025, 12, 31))):
        drops = {a["subject"]: a["evidence"] for a in data["anomalies"]
                 if a["kind"] == "volume_drop"}
        assert set(drops) == {"device lobby-2"}
        ev = drops["device lobby-2"]
        assert (ev["recent_from"], ev["recent_to"]) == ("2025-05-25", "2025-05-31")
        assert (ev["recent_responses"], ev["baseline_responses"]) == (7, 280)


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
    for data in direct_and_daily(db, report_params(date(2025, 3, 31), date(2025, 4, 6))):
        found = {a["subject"]: a["evidence"] for a in data["anomalies"]
                 if a["kind"] == "concentration"}
        assert set(found) == {"device lobby-9"}
        ev = found["device lobby-9"]
        assert (ev["value"], ev["week"], ev["n"], ev["count"], ev["share"]) == (
            5, "2025-03-31", 16, 16, 100.0)
        assert (ev["baseline_n"], ev["baseline_count"]) == (40, 0)
