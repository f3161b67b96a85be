"""Free-text topics at the central: labels stored with each text, relabel, the report section."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from report_data import response

from central.i18n import Lang
from central.report_model import ReportParams
from central.report_render import render
from central.reports import build_report
from central.store import CentralStore, open_central
from central.text_labels import label_counts, relabel
from palaute.cli import main
from survey.response import Response
from survey.topics import MODEL_VERSION, Classification, Tone

DAY = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
PARAMS = ReportParams(date(2025, 3, 1), date(2025, 3, 31), now=datetime(2025, 4, 1, tzinfo=UTC),
                      by="unit")


def labels(store: CentralStore) -> dict[str, tuple[str, str, set[str]]]:
    """response id -> (tone, model version, topics) of its "open" text."""
    out = {str(rid): (str(tone), str(version), set[str]())
           for rid, tone, version in store.execute(
               "SELECT response_id, tone, model_version FROM text_labels")}
    for rid, topic in store.execute("SELECT response_id, topic FROM text_topics"):
        out[str(rid)][2].add(str(topic))
    return out


def test_storing_a_response_labels_its_text(central_url: str) -> None:
    mixed = response(DAY, 7, text="hyvä lääkäri mutta odotin kaksi tuntia")
    sami = replace(response(DAY, 9, text="Buorre"), lang="se")
    silent = response(DAY, 10)
    with open_central(central_url) as store:
        assert store.insert_responses([mixed, sami, silent]) == 3
        assert store.insert_responses([mixed]) == 0  # again: nothing new, labels the same
        assert labels(store) == {
            mixed.id: ("mixed", MODEL_VERSION, {"laakarit", "aikataulu"})}


def test_relabel_labels_what_is_missing_or_of_another_model(central_url: str) -> None:
    texts = ["Hoitaja oli ihana", "Odotin kolme tuntia", "Lasku oli liian suuri"]
    rows = [response(DAY, 8, text=t) for t in texts]
    with open_central(central_url) as store:
        store.insert_responses(rows)
        old, gone = rows[0].id, rows[1].id
        store.run_statements([
            f"UPDATE text_labels SET model_version = 'lex0-old' WHERE response_id = '{old}'",
            f"DELETE FROM text_topics WHERE response_id = '{gone}'",
            f"DELETE FROM text_labels WHERE response_id = '{gone}'",
        ])
        assert label_counts(store) == (1, 2)
        result = relabel(store, batch=1)
        assert (result.responses, result.texts) == (2, 2)
        assert {v[1] for v in labels(store).values()} == {MODEL_VERSION}
        assert labels(store)[rows[1].id] == ("negative", MODEL_VERSION, {"aikataulu"})
        assert relabel(store).texts == 0  # nothing left to do
        assert label_counts(store) == (3, 0)


def test_a_new_model_version_relabels_everything(tmp_path: Path) -> None:
    def says_ehdotus(text: str, lang: str) -> Classification:
        return Classification(("ehdotus",), Tone.NEUTRAL)

    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        store.insert_responses([response(DAY, 9, text=t) for t in ("Kiitos", "Hyvä")])
        assert relabel(store, classifier=says_ehdotus, version="lex9-new").texts == 2
        assert {v for v in labels(store).values() if v != ("neutral", "lex9-new", {"ehdotus"})} \
            == set()


def test_relabel_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_central(url) as store:
        store.insert_responses([response(DAY, 9, text="Kiitos hyvästä hoidosta")])
        store.run_statements(["UPDATE text_labels SET model_version = 'lex0-old'"])
    assert main(["central", "relabel", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out == (f"model {MODEL_VERSION}: labelled 1 texts of 1 responses; 1 texts carry "
                   "this model's labels, 0 responses to go\n")


def _report_store(path: Path) -> CentralStore:
    store = open_central(f"sqlite:///{path}")
    rows: list[Response] = []
    t = DAY
    for text, nps, count in [("Lääkäri oli ystävällinen", 10, 8), ("Odotin kolme tuntia", 3, 6)]:
        for _ in range(count):
            rows.append(response(t, nps, unit="ensiapu", text=text))
            t += timedelta(minutes=7)
    rows += [response(t, 9, unit="neuvola", text="Ajanvaraus netissä oli helppoa")
             for _ in range(6)]
    rows += [response(t, 9, unit="lasten", text="Hoitaja oli ihana") for _ in range(3)]
    store.insert_responses(rows)
    return store


def test_the_report_counts_topics_per_group_with_suppression(tmp_path: Path) -> None:
    with _report_store(tmp_path / "c.sqlite") as store:
        report = build_report(store, PARAMS)
    section = report.topics
    assert section is not None and section.unlabelled == 0
    # "lasten" (3) is under 5 and "neuvola" hidden too, so that 3 is not total minus the rest
    assert [g.key for g in section.groups] == ["ensiapu"]
    ensiapu = section.groups[0]
    assert ensiapu.texts == 14
    assert [(r.topic, r.count, r.share) for r in ensiapu.topics] == [
        ("kohtaaminen", 8, 57.1), ("laakarit", 8, 57.1), ("aikataulu", 6, 42.9)]
    nps = {r.topic: r.summary.nps for r in ensiapu.topics if r.summary}
    assert nps == {"kohtaaminen": 100.0, "laakarit": 100.0, "aikataulu": -100.0}
    assert ensiapu.tones == {"positive": 57.1, "neutral": 0.0, "negative": 42.9, "mixed": 0.0}
    total = {r.topic: r for r in section.total.topics}
    assert section.total.texts == 23
    assert total["hoitajat"].suppressed and total["hoitajat"].share is None
    assert total["ajanvaraus"].share == 26.1  # 6 of 23, multi-label: shares add up over 100
    assert sum(r.share or 0 for r in section.total.topics) > 100
    assert section.trend.months[-1] == "2025-03" and len(section.trend.months) == 13
    assert section.trend.texts[-1] == 23 and section.trend.shares["laakarit"][-1] == 34.8
    assert section.trend.shares["laakarit"][0] is None  # a month without texts
    # examples come from shown groups only: none of the hidden units' texts
    shown_texts = {x.text for xs in section.examples.values() for x in xs}
    assert shown_texts == {"Lääkäri oli ystävällinen", "Odotin kolme tuntia"}
    assert all(len(xs) <= 3 for xs in section.examples.values())


@pytest.mark.parametrize(("lang", "title", "doctors"), [
    ("fi", "Vapaiden vastausten aiheet", "Lääkärit"),
    ("sv", "Fritextsvarens ämnen", "Läkare"),
    ("en", "Topics of free text", "Doctors"),
])
def test_the_report_pages_show_topics_in_their_language(
        tmp_path: Path, lang: str, title: str, doctors: str) -> None:
    with _report_store(tmp_path / "c.sqlite") as store:
        report = build_report(store, PARAMS)
    tr = Lang(lang)
    page = render(report, "html", tr=tr)
    assert title in page and doctors in page and "Lääkäri oli ystävällinen" in page
    table = render(report, "table", tr=tr)
    assert title in table and doctors in table and "<5" in table
    assert not tr.missing


def test_the_report_json_has_the_topics_but_no_texts(tmp_path: Path) -> None:
    with _report_store(tmp_path / "c.sqlite") as store:
        report = build_report(store, PARAMS)
    data = json.loads(render(report, "json"))["topics"]
    assert data["model_version"] == MODEL_VERSION
    hoitajat = next(t for t in data["total"]["topics"] if t["topic"] == "hoitajat")
    assert hoitajat == {"topic": "hoitajat", "count": "<5", "share": None, "protected": False,
                        "nps": None, "mean": None}
    assert "Lääkäri oli" not in json.dumps(data, ensure_ascii=False)


def test_texts_not_labelled_by_this_model_are_counted(tmp_path: Path) -> None:
    with _report_store(tmp_path / "c.sqlite") as store:
        store.run_statements(["UPDATE text_labels SET model_version = 'lex0-old'"])
        report = build_report(store, PARAMS)
        assert report.topics is not None and report.topics.unlabelled == 23
        assert "palaute central relabel" in render(report, "html", tr=Lang("en"))


def test_example_texts_are_redacted(tmp_path: Path) -> None:
    text = "Lääkäri oli ystävällinen, soittakaa minulle 040 123 4567"
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        store.insert_responses([response(DAY, 10, text=text) for _ in range(6)])
        report = build_report(store, PARAMS)
    assert report.topics is not None
    examples = report.topics.examples["laakarit"]
    assert len(examples) == 3
    assert all("123 4567" not in x.text and x.text.startswith("Lääkäri oli") for x in examples)
