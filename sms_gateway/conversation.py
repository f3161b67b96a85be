"""One SMS survey conversation as a pure state machine.

A session asks the survey's SMS questions one at a time. Each step takes the
state, the survey, the reply text and `now`, and returns the next state plus
effects for the shell to carry out (send a text, write an answer, finalise
the response, record an opt-out). Nothing here touches a clock or a port.

Rules: an unclear reply gets one clarifying re-ask that names the valid
answers, then the conversation moves on; a score with a comment fills the
score and the survey's open question (which is then not asked), or the
comment lands beside the score when the survey has no open question; a
decline ("ei kiitos") ends this survey politely, keeping what was answered
(complete, flagged `declined`), and asks nothing more; an opt-out ends the
session for good with one confirmation, and what was answered reaches the
central as `abandoned` with the flag `optout` (the person stopped it; `expired`
is kept for time running out); replies are accepted until the session
expires; free text is redacted by the store as it is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from survey import sms_texts
from survey.model import Question, Survey
from survey.replies import Reply, read_reply
from survey.response import Status

SessionStatus = Literal["live", "complete", "expired", "optedout", "declined"]
Outcome = Literal["answer", "unclear", "skipped", "optout", "decline", "closed"]
OPTOUT_FLAG = "optout"
DECLINED_FLAG = "declined"
Reader = Callable[[str, str, str | None], Reply]
DEFAULT_LIFETIME = timedelta(hours=72)


@dataclass(frozen=True)
class Send:
    """Send `text` to the session's number; `purpose` names it in the outbox."""

    text: str
    purpose: str


@dataclass(frozen=True)
class OpenSmsResponse:
    """Write the response row (the first answer has come)."""

    at: datetime


@dataclass(frozen=True)
class SetSmsAnswer:
    """Write one answer of the response."""

    question: str
    value: int | None
    text: str | None
    at: datetime


@dataclass(frozen=True)
class FinaliseSmsResponse:
    """Finalise the response (only emitted when one was started), with its flags."""

    status: Status
    at: datetime
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptOut:
    """Record the number's opt-out for good."""

    at: datetime


Effect = Send | OpenSmsResponse | SetSmsAnswer | FinaliseSmsResponse | OptOut


@dataclass(frozen=True)
class ConversationState:
    """Where one conversation is: which question waits for its reply, what is answered."""

    lang: str
    order: tuple[str, ...]
    expires_at: datetime
    index: int = 0
    reasked: bool = False
    answered: tuple[str, ...] = ()
    started: bool = False
    status: SessionStatus = "live"

    @property
    def is_live(self) -> bool:
        return self.status == "live"

    @property
    def current(self) -> str | None:
        """The id of the question awaiting a reply, or None when all are done."""
        return self.order[self.index] if self.index < len(self.order) else None

    def to_json(self) -> str:
        """The state as JSON text for the sessions table."""
        data: dict[str, Any] = {
            "lang": self.lang, "order": list(self.order),
            "expires_at": self.expires_at.isoformat(), "index": self.index,
            "reasked": self.reasked, "answered": list(self.answered),
            "started": self.started, "status": self.status,
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ConversationState:
        """The state stored by `to_json`."""
        d = json.loads(text)
        return cls(
            lang=d["lang"], order=tuple(d["order"]),
            expires_at=datetime.fromisoformat(d["expires_at"]), index=d["index"],
            reasked=d["reasked"], answered=tuple(d["answered"]), started=d["started"],
            status=d["status"],
        )


@dataclass(frozen=True)
class Transition:
    """The result of one step: the next state, the effects, and what the reply was."""

    state: ConversationState
    effects: list[Effect] = field(default_factory=list)
    outcome: Outcome = "answer"


def _question(survey: Survey, qid: str) -> Question:
    return survey.questions[qid]


def invitation_text(survey: Survey, lang: str) -> str:
    """The first SMS: the survey's intro and its first SMS question."""
    return sms_texts.invitation(survey, lang)


def begin(survey: Survey, lang: str, now: datetime,
          lifetime: timedelta = DEFAULT_LIFETIME) -> ConversationState:
    """A fresh session whose invitation (with the first question) is sent at `now`."""
    if lang not in survey.languages:
        lang = survey.languages[0]
    order = tuple(q.id for q in survey.questions_for("sms"))
    return ConversationState(lang=lang, order=order, expires_at=now + lifetime)


def clarify_text(survey: Survey, question: Question, lang: str) -> str:
    """The re-ask: the survey's sms_clarify message, naming the valid answers."""
    return sms_texts.clarify(survey, question, lang)


def _open_question(survey: Survey, state: ConversationState) -> str | None:
    """A later text question not yet answered: where a comment beside a score goes."""
    for qid in state.order[state.index + 1:]:
        q = survey.questions.get(qid)
        if q is not None and q.kind == "text" and qid not in state.answered:
            return qid
    return None


def _skip(survey: Survey, state: ConversationState, qid: str) -> bool:
    # A question answered already, or gone from a survey updated while the session lived.
    return qid in state.answered or qid not in survey.questions


def _advance(survey: Survey, state: ConversationState, now: datetime,
             effects: list[Effect]) -> ConversationState:
    """Move to the next unanswered question, or thank and finish."""
    index = state.index + 1
    while index < len(state.order) and _skip(survey, state, state.order[index]):
        index += 1
    state = replace(state, index=index, reasked=False)
    if index < len(state.order):
        q = _question(survey, state.order[index])
        effects.append(Send(q.prompt(state.lang, "sms"), "question"))
        return state
    effects.append(Send(survey.message("sms_thanks", state.lang), "thanks"))
    if state.started:
        effects.append(FinaliseSmsResponse(Status.COMPLETE, now))
    return replace(state, status="complete")


def _answer(survey: Survey, state: ConversationState, q: Question, reply: Reply, raw: str,
            now: datetime) -> tuple[ConversationState, list[Effect]]:
    effects: list[Effect] = []
    if not state.started:
        effects.append(OpenSmsResponse(now))
        state = replace(state, started=True)
    # Texts are redacted by the store as they are written (survey.store.set_answer).
    comment = reply.comment.strip() if reply.comment and reply.comment.strip() else None
    answered = list(state.answered)
    if q.kind == "text":
        text = comment or raw.strip()
        effects.append(SetSmsAnswer(q.id, None, text, now))
    else:
        target = _open_question(survey, state) if comment else None
        if target is not None:
            effects.append(SetSmsAnswer(q.id, reply.value, None, now))
            effects.append(SetSmsAnswer(target, None, comment, now))
            answered.append(target)
        else:
            effects.append(SetSmsAnswer(q.id, reply.value, comment, now))
    answered.append(q.id)
    state = replace(state, answered=tuple(answered))
    return _advance(survey, state, now, effects), effects


def on_reply(state: ConversationState, survey: Survey, text: str, now: datetime,
             reader: Reader = read_reply) -> Transition:
    """One incoming reply to a session; a closed or expired session changes nothing."""
    if not state.is_live or now >= state.expires_at or state.current is None:
        return Transition(state, [], "closed")
    if state.current not in survey.questions:
        effects: list[Effect] = []
        return Transition(_advance(survey, state, now, effects), effects, "skipped")
    q = _question(survey, state.current)
    reply = reader(text, q.kind, state.lang)
    if reply.kind == "optout":
        effects = [OptOut(now), Send(survey.message("sms_optout", state.lang),
                                                   "optout")]
        if state.started:
            effects.append(FinaliseSmsResponse(Status.ABANDONED, now, (OPTOUT_FLAG,)))
        return Transition(replace(state, status="optedout"), effects, "optout")
    if reply.kind == "decline":
        effects = [Send(decline_text(survey, state.lang), "decline")]
        if state.started:
            effects.append(FinaliseSmsResponse(Status.COMPLETE, now, (DECLINED_FLAG,)))
        return Transition(replace(state, status="declined"), effects, "decline")
    if reply.kind == "answer" and (q.kind == "text" or reply.value is not None):
        new_state, effects = _answer(survey, state, q, reply, text, now)
        return Transition(new_state, effects, "answer")
    if not state.reasked:
        return Transition(replace(state, reasked=True),
                    [Send(clarify_text(survey, q, state.lang), "clarify")], "unclear")
    effects = []
    return Transition(_advance(survey, state, now, effects), effects, "skipped")


def on_tick(state: ConversationState, now: datetime) -> Transition:
    """Time passing: a live session past its lifetime expires (no message: no spam)."""
    if not state.is_live or now < state.expires_at:
        return Transition(state, [], "closed")
    effects: list[Effect] = (
        [FinaliseSmsResponse(Status.EXPIRED, now)] if state.started else [])
    return Transition(replace(state, status="expired"), effects, "closed")


def decline_text(survey: Survey, lang: str) -> str:
    """The answer to "ei kiitos": the survey's sms_decline, or its sms_thanks without one."""
    name = "sms_decline" if "sms_decline" in survey.messages else "sms_thanks"
    return survey.message(name, lang)


def optout_confirmation(survey: Survey, lang: str | None) -> str:
    """The confirmation sent to a number that opts out without a live session."""
    use = lang if lang in survey.languages else survey.languages[0]
    return survey.message("sms_optout", use)
