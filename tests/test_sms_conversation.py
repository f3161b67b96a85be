"""The conversation state machine by value: state in, `now` in, state and effects out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sms_gateway import conversation as conv
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey(shipped_survey_path("national"))


def sends(step: conv.Transition) -> list[str]:
    return [e.text for e in step.effects if isinstance(e, conv.Send)]


def saved(step: conv.Transition) -> list[tuple[str, int | None, str | None]]:
    return [(e.question, e.value, e.text) for e in step.effects
            if isinstance(e, conv.SetSmsAnswer)]


def test_state_round_trips_through_json(survey: Survey) -> None:
    s = conv.begin(survey, "sv", T0)
    s = conv.on_reply(s, survey, "8", T0).state
    assert conv.ConversationState.from_json(s.to_json()) == s
    assert s.expires_at == T0 + timedelta(hours=72) and s.lang == "sv"


def test_unknown_language_falls_back_to_the_first(survey: Survey) -> None:
    assert conv.begin(survey, "se", T0).lang == "fi"


def test_first_answer_starts_the_response_then_asks_next(survey: Survey) -> None:
    s = conv.begin(survey, "fi", T0)
    step = conv.on_reply(s, survey, "kahdeksan", T0)
    assert isinstance(step.effects[0], conv.OpenSmsResponse)
    assert saved(step) == [("nps", 8, None)]
    assert sends(step) == [survey.questions["open"].prompt("fi", "sms")]
    step2 = conv.on_reply(step.state, survey, "Ystävällinen", T0)
    assert not any(isinstance(e, conv.OpenSmsResponse) for e in step2.effects)
    assert saved(step2) == [("open", None, "Ystävällinen")]


def test_score_with_comment_fills_open_question_and_skips_it(survey: Survey) -> None:
    step = conv.on_reply(conv.begin(survey, "fi", T0), survey, "9 hyvä palvelu", T0)
    assert saved(step) == [("nps", 9, None), ("open", None, "hyvä palvelu")]
    assert sends(step) == [survey.questions["s1"].prompt("fi", "sms")]


def test_comment_beside_a_score_when_no_open_question_follows(survey: Survey) -> None:
    s = conv.on_reply(conv.begin(survey, "fi", T0), survey, "9", T0).state
    s = conv.on_reply(s, survey, "ok", T0).state
    step = conv.on_reply(s, survey, "4 ihan hyvä", T0)
    assert saved(step) == [("s1", 4, "ihan hyvä")]
    assert sends(step) == [survey.message("sms_thanks", "fi")]
    assert [e for e in step.effects if isinstance(e, conv.FinaliseSmsResponse)] == [
        conv.FinaliseSmsResponse("complete", T0)]
    assert step.state.status == "complete"


def test_unclear_reasks_once_naming_answers_then_skips(survey: Survey) -> None:
    s = conv.begin(survey, "en", T0)
    step = conv.on_reply(s, survey, "what?", T0)
    assert step.outcome == "unclear" and saved(step) == []
    (text,) = sends(step)
    assert "0-10" in text and text.startswith(survey.message("sms_clarify", "en")[:20])
    step = conv.on_reply(step.state, survey, "dunno", T0)
    assert step.outcome == "skipped"
    assert sends(step) == [survey.questions["open"].prompt("en", "sms")]


def test_free_text_is_saved_as_written_for_the_store_to_redact(survey: Survey) -> None:
    s = conv.on_reply(conv.begin(survey, "fi", T0), survey, "9", T0).state
    step = conv.on_reply(s, survey, "Olen 131052-308T, hoito oli hyvä", T0)
    assert saved(step) == [("open", None, "Olen 131052-308T, hoito oli hyvä")]


def test_optout_in_the_middle(survey: Survey) -> None:
    s = conv.on_reply(conv.begin(survey, "sv", T0), survey, "7", T0).state
    step = conv.on_reply(s, survey, "SLUTA", T0)
    assert step.outcome == "optout" and step.state.status == "optedout"
    assert sends(step) == [survey.message("sms_optout", "sv")]
    # What was answered reaches the central as stopped by the person, not as expired.
    assert conv.OptOut(T0) in step.effects
    assert conv.FinaliseSmsResponse("abandoned", T0, ("optout",)) in step.effects
    assert conv.on_reply(step.state, survey, "5", T0).outcome == "closed"


def test_late_reply_inside_lifetime_and_expiry(survey: Survey) -> None:
    s = conv.begin(survey, "fi", T0)
    late = T0 + timedelta(hours=71)
    step = conv.on_reply(s, survey, "6", late)
    assert saved(step) == [("nps", 6, None)]
    assert conv.on_tick(step.state, late).effects == []
    gone = conv.on_tick(step.state, T0 + timedelta(hours=72))
    assert gone.state.status == "expired"
    assert gone.effects == [conv.FinaliseSmsResponse("expired", T0 + timedelta(hours=72))]
    assert conv.on_reply(gone.state, survey, "7", T0 + timedelta(hours=73)).outcome == "closed"


def test_expiry_without_answers_writes_nothing(survey: Survey) -> None:
    s = conv.begin(survey, "fi", T0)
    step = conv.on_tick(s, T0 + timedelta(hours=73))
    assert step.state.status == "expired" and step.effects == []


def test_invitation_text_is_intro_and_first_question(survey: Survey) -> None:
    text = conv.invitation_text(survey, "fi")
    assert text == (survey.message("sms_intro", "fi") + "\n"
                    + survey.questions["nps"].prompt("fi", "sms"))


def test_question_gone_from_an_updated_survey_is_skipped(survey: Survey) -> None:
    s = conv.on_reply(conv.begin(survey, "fi", T0), survey, "9", T0).state
    assert s.current == "open"
    questions = {k: v for k, v in survey.questions.items() if k != "open"}
    newer = replace(survey, questions=questions,
                    channels={**survey.channels, "sms": ("nps", "s1")})
    step = conv.on_reply(s, newer, "whatever", T0)
    assert step.outcome == "skipped" and step.state.current == "s1"
    assert sends(step) == [survey.questions["s1"].prompt("fi", "sms")]
