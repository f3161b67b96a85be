"""The demo's simulated people by value: population, replies, and what they should lead to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from palaute.demo_people import (
    STYLES,
    Expected,
    Persona,
    Phone,
    classify,
    expected,
    invitation_csv,
    make_population,
    on_sms,
    tally,
)
from sms_gateway.conversation import clarify_text, invitation_text
from sms_gateway.invitations import parse_csv
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey
from survey.replies import read_reply


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey(shipped_survey_path("national"))


def person(style: str, lang: str = "fi", nps: int = 9, likert: int = 4,
           comment: str = "Ystävällinen hoitaja") -> Persona:
    return Persona(phone="+358401234567", local_phone="040 123 4567", lang=lang, style=style,
                   nps=nps, likert=likert, comment=comment, first_delay=2.0, next_delay=1.0,
                   unit="ensiapu", kind="visit")


def converse(survey: Survey, p: Persona) -> list[str | None]:
    """What `p` answers to the invitation and then to each SMS question in turn."""
    phone = Phone(p)
    later = survey.questions_for("sms")[1:]
    if p.style == "comment_emoji":
        # The score carried the comment: the gateway does not ask the open question.
        later = [q for q in later if q.kind != "text"]
    out: list[str | None] = []
    for text in [invitation_text(survey, p.lang)] + [q.prompt(p.lang, "sms") for q in later]:
        phone, reply = on_sms(phone, survey, text)
        out.append(reply.text if reply else None)
    return out


def test_same_seed_same_people_other_seed_other_people() -> None:
    assert make_population(30, seed=7) == make_population(30, seed=7)
    assert make_population(30, seed=7) != make_population(30, seed=8)
    assert make_population(30, seed=7, wave=1) != make_population(30, seed=7, wave=2)


def test_every_style_once_in_a_small_population_and_numbers_unique() -> None:
    people = make_population(len(STYLES), seed=3)
    assert sorted(p.style for p in people) == sorted(STYLES)
    many = make_population(200, seed=3) + make_population(200, seed=3, wave=1)
    assert len({p.phone for p in many}) == 400


def test_the_csv_is_what_the_gateway_reads(survey: Survey) -> None:
    people = make_population(20, seed=5)
    now = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    good, bad = parse_csv(invitation_csv(people, now), "demo.csv", ZoneInfo("Europe/Helsinki"))
    assert bad == []
    assert [(i.phone, i.lang, i.kind, i.unit) for i in good] == [
        (p.phone, p.lang, p.kind, p.unit) for p in people]
    assert all(i.event_at < now for i in good)


def test_classify_each_gateway_message(survey: Survey) -> None:
    _nps, open_q, s1 = survey.questions_for("sms")
    assert classify(survey, invitation_text(survey, "sv")) == ("question", "nps")
    assert classify(survey, open_q.prompt("en", "sms")) == ("question", "open")
    assert classify(survey, clarify_text(survey, s1, "fi")) == ("clarify", None)
    assert classify(survey, survey.message("sms_thanks", "sv")) == ("thanks", None)
    assert classify(survey, survey.message("sms_optout", "en")) == ("optout", None)
    assert classify(survey, "Muistutus: aikasi on huomenna") == ("other", None)


@pytest.mark.parametrize(("p", "replies"), [
    (person("digits"), ["9", "Ystävällinen hoitaja", "4"]),
    (person("words"), ["yhdeksän", "Ystävällinen hoitaja", "osittain samaa mieltä"]),
    (person("words", "sv", 8, 5, "Bra bemötande"), ["åtta", "Bra bemötande",
                                                    "Helt av samma åsikt"]),
    (person("words", "en", 10, 4, "Kind staff"), ["ten", "Kind staff", "Partly agree"]),
    (person("colloquial", nps=8, likert=5), ["kasi", "Ystävällinen hoitaja", "vitonen!"]),
    (person("typo"), ["yhdeksn", "Ystävällinen hoitaja", "4"]),
    (person("comment_emoji", comment="Ihana hoitaja 😊"), ["9 Ihana hoitaja 😊", "4"]),
    (person("optout_first"), ["LOPETA", None, None]),
    (person("optout_first", "sv"), ["SLUTA", None, None]),
    (person("optout_mid", "en"), ["9", "Stop please", None]),
    (person("partial"), ["9", None, None]),
    (person("never"), [None, None, None]),
])
def test_replies_by_style(survey: Survey, p: Persona, replies: list[str | None]) -> None:
    assert converse(survey, p) == replies


def test_unclear_first_then_a_number_on_the_re_ask(survey: Survey) -> None:
    phone, reply = on_sms(Phone(person("unclear_first", nps=7)), survey,
                          invitation_text(survey, "fi"))
    assert reply is not None and reply.text == "hmm, en osaa sanoa"
    phone, reply = on_sms(phone, survey, clarify_text(survey, survey.questions["nps"], "fi"))
    assert reply is not None and reply.text == "7"
    phone, reply = on_sms(phone, survey, survey.questions["open"].prompt("fi", "sms"))
    assert reply is not None and reply.text == "Ystävällinen hoitaja"


def test_thanks_ends_it_and_delays_are_the_persona_s(survey: Survey) -> None:
    p = replace(person("late"), first_delay=14.0, next_delay=1.5)
    phone, first = on_sms(Phone(p), survey, invitation_text(survey, "fi"))
    phone, second = on_sms(phone, survey, survey.questions["open"].prompt("fi", "sms"))
    assert (first and first.delay, second and second.delay) == (14.0, 1.5)
    phone, reply = on_sms(phone, survey, survey.message("sms_thanks", "fi"))
    assert reply is None and phone.done
    assert on_sms(phone, survey, survey.questions["s1"].prompt("fi", "sms"))[1] is None


def test_late_people_really_are_late() -> None:
    people = make_population(200, seed=1)
    assert min(p.first_delay for p in people if p.style == "late") >= 10
    assert max(p.first_delay for p in people if p.style != "late") <= 3


def test_every_reply_is_read_as_the_person_meant(survey: Survey) -> None:
    """The people's words and the gateway's reply reader agree (else a re-ask would follow)."""
    for p in make_population(300, seed=11):
        if p.style in ("never", "optout_first", "unclear_first"):
            continue
        replies = converse(survey, p)
        kinds = ["nps", "likert"] if p.style == "comment_emoji" else ["nps", "text", "likert"]
        for text, kind in zip(replies, kinds, strict=False):
            if text is None or kind == "text":
                continue
            want = p.nps if kind == "nps" else p.likert
            if p.style == "optout_mid" and text != replies[0]:
                assert read_reply(text, kind, p.lang).kind == "optout", text
                continue
            got = read_reply(text, kind, p.lang)
            assert (got.kind, got.value) == ("answer", want), (p.style, p.lang, text)


def test_expected_outcome_by_style() -> None:
    assert expected(person("digits")) == expected(person("multipart"))
    assert expected(person("digits")).status == "complete"
    assert (expected(person("partial")).status, expected(person("partial")).nps) == \
        ("expired", 9)
    mid = expected(person("optout_mid"))
    assert (mid.status, mid.flags, mid.opted_out) == ("abandoned", ("optout",), True)
    assert expected(person("optout_first")).status is None
    assert expected(person("optout_first")).opted_out
    assert expected(person("never")) == Expected(False, False, False, None, None)


def test_tally_counts_people() -> None:
    people = [person("digits"), person("never"), person("optout_first"),
              person("optout_mid"), person("partial")]
    assert tally(people) == {"invited": 5, "sent": 5, "answered": 3, "completed": 1,
                             "opted_out": 2}
