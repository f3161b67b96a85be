"""Complementary suppression: a small group can never be read off the total by subtraction.

The data repeat a real run: channels kiosk n=6, kiosk-audio n=1, sms n=21, total 28.
Without the rule the audio patient's answer is the total minus kiosk and sms, per value.
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from report_data import NOON, insert, response

from central.i18n import Lang
from central.report_render import PROTECTED_MARK, protected_note, render
from central.reports import MIN_N, Report, ReportParams, build_report, secondary_suppression
from central.store import open_central
from palaute.cli import main

# -- the pure rule, by value ----------------------------------------------------------------


def test_one_small_group_hides_the_smallest_shown_one() -> None:
    assert secondary_suppression({"kiosk": 6, "kiosk-audio": 1, "sms": 21}) == {"kiosk"}


def test_two_small_groups_under_five_together_hide_one_more() -> None:
    assert secondary_suppression({"a": 2, "b": 2, "c": 9, "d": 6}) == {"d"}
    assert secondary_suppression({"a": 1, "b": 1, "c": 2, "d": 30, "e": 7}) == {"e"}


def test_two_small_groups_of_five_or_more_together_hide_nothing_more() -> None:
    assert secondary_suppression({"a": 3, "b": 2, "c": 9}) == set()
    assert secondary_suppression({"a": 4, "b": 4, "c": 5, "d": 40}) == set()


def test_only_one_group_or_no_small_group_hides_nothing() -> None:
    assert secondary_suppression({"a": 3}) == set()
    assert secondary_suppression({"a": 30}) == set()
    assert secondary_suppression({"a": 5, "b": 6, "c": 7}) == set()
    assert secondary_suppression({}) == set()
    assert secondary_suppression({"a": 1, "b": 2}) == set()  # nothing shown to protect


def test_ties_are_broken_by_key() -> None:
    assert secondary_suppression({"z": 6, "m": 6, "small": 2, "big": 50}) == {"m"}
    assert secondary_suppression({"b": 8, "a": 8, "c": 4}) == {"a"}


def test_empty_groups_are_neither_small_nor_picked() -> None:
    assert secondary_suppression({"none": 0, "small": 3, "x": 5, "y": 9}) == {"x"}
    assert secondary_suppression({"none": 0, "x": 7}) == set()


def test_min_n_is_a_parameter() -> None:
    assert secondary_suppression({"a": 9, "b": 10, "c": 30}, min_n=10) == {"b"}


def test_no_small_group_is_ever_alone_or_under_five_among_the_hidden() -> None:
    rnd = random.Random(7)
    for _ in range(3000):
        sizes = {f"g{i}": rnd.choice([0, 1, 2, 3, 4, 5, 6, 8, 13, 40])
                 for i in range(rnd.randint(1, 6))}
        extra = secondary_suppression(sizes)
        small = {k for k, n in sizes.items() if 0 < n < MIN_N}
        hidden = small | extra
        shown = {k for k, n in sizes.items() if n >= MIN_N} - extra
        assert extra <= {k for k, n in sizes.items() if n >= MIN_N}, sizes
        if small and shown:  # what total minus the shown rows leaves is never one small group
            assert len(hidden) >= 2 and sum(sizes[k] for k in hidden) >= MIN_N, sizes
        if extra:  # and nothing is hidden that need not be: each extra was the smallest left
            assert max(sizes[k] for k in extra) <= min((sizes[k] for k in shown), default=99)


# -- through the report, in every format ---------------------------------------------------

KIOSK = [10, 9, 9, 8, 7, 3]
AUDIO = [2]
SMS = [10, 10, 10, 9, 9, 9, 9, 8, 8, 7, 7, 6, 5, 10, 10, 9, 4, 10, 9, 10, 0]
CHANNELS = {"kiosk": KIOSK, "kiosk-audio": AUDIO, "sms": SMS}
KIOSK_TEXT, AUDIO_TEXT, SMS_TEXT = "Kioskin teksti", "Äänikioskin teksti", "Tekstiviestin teksti"


def counts_of(values: list[int]) -> list[int]:
    return [values.count(v) for v in range(11)]


PARAMS = ReportParams(date(2025, 3, 1), date(2025, 3, 31), now=datetime(2025, 4, 1, tzinfo=UTC),
                      by="channel", filters=(("unit", "ensiapu"),), lang="en")
PROTECTED_NOTE = protected_note(Lang("en"))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One unit in March 2025 by channel, as in the run where the leak was seen."""
    u = f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'c.sqlite'}"
    with open_central(u) as db:
        rows = []
        for day, (channel, values) in enumerate(CHANNELS.items()):
            text = {"kiosk": KIOSK_TEXT, "kiosk-audio": AUDIO_TEXT, "sms": SMS_TEXT}[channel]
            for i, v in enumerate(values):
                # s1 by everyone; s2 by 5 kiosk and 3 sms (and 2 audio, below).
                statements = {"s1": 1 + v % 5}
                if (channel == "kiosk" and i < 5) or (channel == "sms" and i < 3):
                    statements["s2"] = 4
                rows.append(response(NOON + timedelta(days=day, minutes=i), v, channel=channel,
                                     device=f"d-{channel}", text=text if i < 2 else None,
                                     statements=statements))
        # Two audio answers to s2 only (no NPS), so that s2 has two small groups of 5.
        rows += [response(NOON + timedelta(days=5, minutes=i), None, channel="kiosk-audio",
                          device="d-kiosk-audio", statements={"s2": 5}) for i in range(2)]
        insert(db, rows)
        at = datetime(2025, 3, 31, 12, tzinfo=UTC)
        for gw, answered in (("gw-small", 3), ("gw-big", 15), ("gw-mid", 9)):
            sms = {"invited": 50, "sent": 40, "delivered": 40, "answered": answered,
                   "completed": answered - 1, "opted_out": 1, "expired": 2}
            db.upsert_device_status(gw, "tays", {"sms": sms}, at)
    return u


@pytest.fixture(scope="module")
def report(url: str) -> Iterator[Report]:
    with open_central(url) as db:
        yield build_report(db, PARAMS)


def _counts(cells: list[str]) -> list[int] | None:
    return None if any(not c.isdigit() for c in cells) else [int(c) for c in cells]


def _section(text: str, title: str) -> list[list[str]]:
    """Rows (split into cells) of one section of the plain-text table."""
    body = text.split(f"\n\n{title}\n", 1)[1].split("\n\n", 1)[0]
    return [ln.split() for ln in body.splitlines()]


def nps_counts(report: Report, fmt: str) -> tuple[dict[str, list[int] | None], dict[str, str]]:
    """Counts 0..10 per row of the main table as each format shows them, and the n cells."""
    text = render(report, fmt)
    if fmt == "json":
        data = json.loads(text)
        rows = [*data["groups"], data["total"]]
        return {r["key"]: r["counts"] for r in rows}, {r["key"]: str(r["n"]) for r in rows}
    if fmt == "csv":
        lines = list(csv.reader(io.StringIO(text)))
        cells = lines[2:lines.index([])]
    elif fmt == "table":
        cells = _section(text, "NPS")[1:]
    else:
        table = re.search(r'<table id="nps-table">(.*?)</table>', text, re.S)
        assert table
        cells = [[html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr)]
                 for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1))][1:]
    rows = [c for c in cells if c and not c[0].startswith(PROTECTED_MARK)]
    key = {"kiosk, audio mode": "kiosk-audio", "SMS": "sms"}  # the page names the channels
    return ({key.get(c[0], c[0]): _counts(c[2:13]) for c in rows},
            {key.get(c[0], c[0]): c[1] for c in rows})


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "html"])
def test_the_small_group_cannot_be_worked_out_from_the_total(report: Report, fmt: str) -> None:
    shown, n = nps_counts(report, fmt)
    assert shown["kiosk-audio"] is None and n["kiosk-audio"] == "<5"
    assert shown["kiosk"] is None  # protected: big enough, hidden for audio's sake
    assert n["kiosk"] == ("6" if fmt == "json" else f"6{PROTECTED_MARK}")
    assert shown["sms"] == counts_of(SMS) and n["sms"] == "21"
    total = shown["total"]
    assert total == counts_of(KIOSK + AUDIO + SMS) and n["total"] == "28"
    residual = [t - sum(c[i] for k, c in shown.items() if k != "total" and c)
                for i, t in enumerate(total)]
    # What subtraction leaves is kiosk and audio together, not the audio answer.
    assert residual != counts_of(AUDIO)
    assert residual == counts_of(KIOSK + AUDIO) and sum(residual) >= MIN_N


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_protected_rows_are_marked_and_explained(report: Report, fmt: str) -> None:
    text = render(report, fmt)
    if fmt == "html":
        assert f'<td class="protected">6{PROTECTED_MARK}</td>' in text
        assert f'<p class="note">{PROTECTED_NOTE}</p>' in text
    else:
        assert PROTECTED_NOTE in text
    if fmt == "table":
        shares = {r[0]: r for r in _section(text, "Shares of answers")[1:]}
        assert shares["kiosk"][1:] == [f"6{PROTECTED_MARK}"] + ["–"] * 11
        trend = {r[0]: r for r in _section(text, "Monthly NPS")[1:]}
        assert trend["kiosk"][1:] == [f"–{PROTECTED_MARK}"] * 2  # March and the 30 days
        assert trend["kiosk-audio"][1:] == ["<5", "<5"]
        free = {r[0]: r for r in _section(text, "Free text")[1:]}
        assert free["kiosk"][1:] == [f"6{PROTECTED_MARK}", "–", "–"]


def test_json_keeps_the_group_shape_and_lists_the_protected(report: Report) -> None:
    data = json.loads(render(report, "json"))
    kiosk = next(g for g in data["groups"] if g["key"] == "kiosk")
    assert kiosk == {"key": "kiosk", "n": 6, "counts": None, "mean": None, "nps": None}
    assert all(set(g) == {"key", "n", "counts", "mean", "nps"} for g in data["groups"])
    assert data["protected"] == {
        "groups": ["kiosk"],
        "trend": {"months": {"2025-03": ["kiosk"]}, "rolling_30d": ["kiosk"]},
        "statements": [{"survey": "national", "question": "s1", "keys": ["kiosk"]}],
        "free_text": ["kiosk"],
        "sms_funnel": ["gw-mid"],
    }


def test_trend_month_column_hides_what_would_give_the_audio_nps(report: Report) -> None:
    data = json.loads(render(report, "json"))
    rows = {r["key"]: r for r in data["trend"]["rows"]}
    assert rows["kiosk"]["months"] == [{"label": "2025-03", "n": 6, "nps": None}]
    assert rows["kiosk-audio"]["months"] == [{"label": "2025-03", "n": "<5", "nps": None}]
    assert rows["sms"]["months"][0]["nps"] is not None
    assert rows["total"]["months"][0]["nps"] is not None
    for key in ("kiosk", "kiosk-audio"):
        assert rows[key]["rolling_30d"]["nps"] is None


def test_statements_are_protected_one_statement_at_a_time(report: Report) -> None:
    data = json.loads(render(report, "json"))
    rows = {(r["question"], r["key"]): r for r in data["statements"]}
    # s1: kiosk 6, audio 1, sms 21 -> kiosk protected (n shown, figures not).
    assert (rows[("s1", "kiosk")]["n"], rows[("s1", "kiosk")]["mean"]) == (6, None)
    assert rows[("s1", "kiosk")]["agree_share"] is None
    assert rows[("s1", "kiosk-audio")]["n"] == "<5"
    assert rows[("s1", "sms")]["mean"] is not None
    # s2: kiosk 5, audio 2, sms 3 -> two small groups of 5 together: kiosk stays shown.
    assert (rows[("s2", "kiosk")]["n"], rows[("s2", "kiosk")]["mean"]) == (5, 4.0)
    assert rows[("s2", "kiosk-audio")]["n"] == rows[("s2", "sms")]["n"] == "<5"


def test_free_text_shares_and_texts(report: Report) -> None:
    data = json.loads(render(report, "json"))
    shares = {r["key"]: r for r in data["free_text"]}
    assert shares["kiosk"] == {"key": "kiosk", "responses": 6, "with_text": None,
                               "share": None}
    assert shares["sms"]["share"] is not None
    page = render(report, "html")
    # Kiosk's texts under its name would count its texts, and the total's "with text" minus
    # them would be audio's: kiosk (protected) and audio (<5) share one unnamed list.
    assert SMS_TEXT in page
    pooled = page.split("Other groups together", 1)[1]
    named = page.split("Other groups together", 1)[0]
    assert KIOSK_TEXT in pooled and AUDIO_TEXT in pooled
    assert KIOSK_TEXT not in named and AUDIO_TEXT not in named
    assert "Texts are not shown here so that a small group cannot be worked out" in page


def test_sms_funnel_small_gateway_and_its_protector(report: Report) -> None:
    data = json.loads(render(report, "json"))
    gws = {g["device"]: g for g in data["sms_funnel"]["gateways"]}
    small, mid, big = gws["gw-small"], gws["gw-mid"], gws["gw-big"]
    assert (small["answered"], small["completed"], small["response_rate"],
            small["completion_rate"]) == ("<5", None, None, None)
    assert (mid["answered"], mid["completed"], mid["completion_rate"]) == (9, None, None)
    assert (big["answered"], big["completed"]) == (15, 14)
    total = data["sms_funnel"]["total"]
    # Total completed minus the shown ones is gw-small and gw-mid together (2 + 8).
    assert total["completed"] - big["completed"] == 10 != 2


def test_cli_monthly_page_of_the_unit_is_protected_too(url: str, tmp_path: Path) -> None:
    """The monthly per-unit page (by channel) is where the leak was seen."""
    folder = tmp_path / "monthly"
    assert main(["central", "report", "--db", url, "--monthly", "--out", str(folder),
                 "--now", "2025-04-15", "--lang", "en"]) == 0
    page = (folder / "ensiapu-2025-03.html").read_text("utf-8")
    table = re.search(r'<table id="nps-table">(.*?)</table>', page, re.S)
    assert table
    rows = {cells[0]: cells for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1))
            if (cells := re.findall(r'<t(?:d|h scope="row")[^>]*>(.*?)</t[dh]>', tr))}
    assert rows["kiosk"][1] == f"6{PROTECTED_MARK}" and set(rows["kiosk"][2:]) == {"–"}
    assert rows["kiosk, audio mode"][1] == "&lt;5"
    assert set(rows["kiosk, audio mode"][2:]) == {"–"}
    assert rows["SMS"][2:13] == [str(c) for c in counts_of(SMS)]
    assert PROTECTED_NOTE in page
