"""One segment per message: every SMS a shipped survey sends, composed as the gateway
sends it, is one SMS in every language; `palaute survey check` measures the composed
invitation and re-asks, not only each text alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from palaute.cli import main
from sms_gateway import conversation as conv
from sms_gateway.pdu import count_segments, segments
from survey.definition import SHIPPED_SURVEYS, check_text, load_survey, shipped_survey_path
from survey.sms_texts import sms_fit


def every_sms(name: str, lang: str) -> list[str]:
    """What the gateway can send for survey `name` in `lang`, composed by the gateway."""
    survey = load_survey(shipped_survey_path(name))
    sms = survey.questions_for("sms")
    texts = [conv.invitation_text(survey, lang)]
    texts += [q.prompt(lang, "sms") for q in sms[1:]]
    texts += [conv.clarify_text(survey, q, lang) for q in sms]
    texts += [survey.message(m, lang) for m in ("sms_thanks", "sms_optout")]
    return texts


@pytest.mark.parametrize("name", SHIPPED_SURVEYS)
@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_every_shipped_sms_is_one_segment(name: str, lang: str) -> None:
    for text in every_sms(name, lang):
        # Counted by the PDU encoder the gateway sends with, not by the checker.
        encoding, parts = segments(text)
        assert (encoding, len(parts)) == ("gsm7", 1), text


@pytest.mark.parametrize("name", SHIPPED_SURVEYS)
def test_invitation_is_intro_and_first_question_on_two_lines(name: str) -> None:
    survey = load_survey(shipped_survey_path(name))
    first = survey.questions_for("sms")[0]
    for lang in survey.languages:
        intro, question = conv.invitation_text(survey, lang).split("\n")
        assert intro == survey.message("sms_intro", lang) and "STOP" in intro
        assert question == first.prompt(lang, "sms")


def test_checker_and_encoder_agree_on_the_limits() -> None:
    for text, parts in [("a" * 160, 1), ("a" * 161, 2), ("ä" * 160, 1), ("€" * 80, 1),
                        ("€" * 81, 2), ("’" * 70, 1), ("’" * 71, 2), ("😊" * 35, 1),
                        ("😊" * 36, 2)]:
        assert count_segments(text) == parts, text
        assert sms_fit(text).fits == (parts == 1), text


def test_survey_check_refuses_a_two_segment_invitation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: intro and question fit one SMS each, not together."""
    text = shipped_survey_path("national").read_text(encoding="utf-8")
    long_intro = ("Hei! Hyvinvointialue pyytää palautetta saamastasi palvelusta. "
                  "Vastaaminen on maksutonta. Vastaa STOP, jos et halua kyselyjä.")
    old = 'fi = "Hyvinvointialue kysyy palautetta. Vastaaminen on maksutonta. STOP = ei kyselyjä."'
    assert old in text
    bad = tmp_path / "national.toml"
    bad.write_text(text.replace(old, f'fi = "{long_intro}"'), encoding="utf-8")

    assert main(["survey", "check", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    line = text.split("\n").index(old) + 1
    assert len(out) == 1 and out[0].startswith(f"{bad}:{line}: messages.sms_intro.fi: ")
    assert "the invitation" in out[0] and "one SMS holds 160" in out[0]
    assert "questions[1].sms_text.fi" in out[0]


MINI = """\
id = "mini"
version = 1
languages = ["fi"]
title = {{ fi = "Palaute" }}

[[questions]]
id = "nps"
kind = "nps"
text.fi = "Suosittelisitko palvelua? Vastaa 0-10."

[channels]
sms = ["nps"]

[messages]
sms_intro = {{ fi = "{intro}" }}
sms_thanks = {{ fi = "{thanks}" }}
sms_optout = {{ fi = "Selvä." }}
sms_clarify = {{ fi = "Vastaa numerolla." }}
kiosk_welcome = {{ fi = "Tervetuloa!" }}
kiosk_thanks = {{ fi = "Kiitos!" }}
kiosk_still_there = {{ fi = "Oletko vielä siellä?" }}
"""


def test_ucs2_texts_fit_in_70() -> None:
    """A text GSM-7 cannot carry goes as UCS-2: one SMS holds 70 of it, composed too."""
    ok = check_text(MINI.format(intro="Hei! Vastaa STOP.", thanks="Kiitos! 😊"), "mini")
    assert ok == []
    intro = "Hei! Hyvinvointialue kysyy 😊 Vastaa STOP."
    assert sms_fit(intro).fits and sms_fit(intro).encoding == "UCS-2"
    problems = check_text(MINI.format(intro=intro, thanks="Kiitos!"), "mini")
    assert [(p.key, p.line) for p in problems] == [("messages.sms_intro.fi", 15)]
    assert "U+1F60A" in problems[0].message and "one SMS holds 70" in problems[0].message
