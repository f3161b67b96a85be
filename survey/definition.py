"""Loading and checking survey definitions (TOML files).

A survey file looks like survey/surveys/national.toml: top-level `id`, `version`,
`languages`, `[title]`; one `[[questions]]` table per question (id, kind, text.<lang>,
optional sms_text.<lang>, max_length for text questions); `[channels]` with the
question ids asked on `kiosk` and on `sms`, in order; `[messages.<name>]` with a
text per language. `check_text`/`check_file` report every problem with its line
and key (array positions 1-based: questions[3] is the third [[questions]]); the
loaders refuse a survey with any problem, so a service never starts on one.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey import sms_texts
from survey.errors import SurveyError
from survey.model import KINDS, LANGUAGES, SMS_MAX_QUESTIONS, Question, Survey
from survey.sms_texts import sms_fit
from survey.toml_lines import KeyPath, format_key, key_lines, line_of

SHIPPED_SURVEYS: tuple[str, ...] = ("national", "children", "relatives")
SURVEYS_DIR = Path(__file__).resolve().parent / "surveys"

CHANNELS = ("kiosk", "sms")
# Messages every survey must have, in every one of its languages. Other
# [messages.<name>] tables are allowed (a part may read more; the SMS gateway
# answers a decline, "ei kiitos", with sms_decline when there is one, else sms_thanks).
REQUIRED_MESSAGES = (
    "sms_intro",  # first line of an SMS invitation: who asks, free to answer, how to refuse
    "sms_thanks",
    "sms_optout",  # confirms an opt-out
    "sms_clarify",  # lead-in of the one re-ask after an unclear reply
    "kiosk_welcome",
    "kiosk_thanks",
    "kiosk_still_there",  # spoken/shown when a session goes idle
)
MAX_TEXT_LENGTH = 2000

_TOP_KEYS = ("id", "version", "languages", "title", "questions", "channels", "messages")
_QUESTION_KEYS = ("id", "kind", "text", "sms_text", "max_length")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class Problem:
    """One problem in a survey file: where (file, line, key) and what."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"

    def brief(self) -> str:
        """The problem without the file name: `line 12: questions[3].text.sv: is missing`."""
        parts = [f"line {self.line}"] if self.line else []
        if self.key:
            parts.append(self.key)
        parts.append(self.message)
        return ": ".join(parts)


def shipped_survey_path(name: str) -> Path:
    """Path of a survey shipped with palaute (one of SHIPPED_SURVEYS)."""
    if name not in SHIPPED_SURVEYS:
        raise SurveyError(
            f"no shipped survey {name!r} (shipped: {', '.join(SHIPPED_SURVEYS)})"
        )
    return SURVEYS_DIR / f"{name}.toml"


def check_file(path: str | Path) -> list[Problem]:
    """Every problem of the survey file at `path` (empty when it is valid)."""
    return _parse_file(path)[1]


def load_survey(path: str | Path) -> Survey:
    """Load a valid survey or raise SurveyError naming the file and its problems."""
    survey, problems = _parse_file(path)
    return _valid(survey, problems, str(path))


def check_text(text: str, source: str) -> list[Problem]:
    """Every problem of survey TOML `text` (e.g. received over MQTT); `source` names it."""
    return _parse_text(text, source)[1]


def survey_from_text(text: str, source: str) -> Survey:
    """The survey in TOML `text`, checked exactly as a file is; SurveyError if invalid."""
    survey, problems = _parse_text(text, source)
    return _valid(survey, problems, source)


def _valid(survey: Survey | None, problems: list[Problem], source: str) -> Survey:
    if survey is not None and not problems:
        return survey
    if len(problems) == 1 and not problems[0].key and problems[0].line is None:
        # The file as a whole (missing, unreadable): nothing for `check` to add.
        raise SurveyError(f"survey {source}: {problems[0].message}")
    shown = "; ".join(p.brief() for p in problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    if more > 0:
        shown += f"; and {more} more"
    raise SurveyError(
        f"survey {source} is not valid ({len(problems)} problem(s)): {shown}"
        f" - fix it (`palaute survey check {source}` lists every problem)"
    )


def _parse_file(path: str | Path) -> tuple[Survey | None, list[Problem]]:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None, [Problem(source, None, "", "no such file")]
    except IsADirectoryError:
        return None, [Problem(source, None, "", "is a directory, not a survey file")]
    except OSError as exc:
        return None, [Problem(source, None, "", f"cannot read: {exc.strerror or exc}")]
    try:
        # utf-8-sig: a byte-order mark from a Windows editor is harmless.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [Problem(source, line, "", f"is not UTF-8 text (byte {exc.start})"
                              " - save the file as UTF-8")]
    return _parse_text(text, source)


def _parse_text(text: str, source: str) -> tuple[Survey | None, list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = getattr(exc, "lineno", None)
        match = _TOML_AT.search(message)
        if match:
            message = message[: match.start()]
            line = line or int(match.group(1))
            message += f" (column {match.group(2)})"
        return None, [Problem(source, line, "", f"invalid TOML: {message}")]
    checker = _Checker(source, key_lines(text))
    survey = checker.survey(data)
    problems = sorted(checker.problems, key=lambda p: p.line or 0)
    return (survey if not problems else None), problems


class _Checker:
    """Walks the parsed TOML, collecting every problem and building the Survey."""

    def __init__(self, source: str, lines: dict[KeyPath, int]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []
        # Every question's texts, valid or not, so that SMS lengths are checked
        # even in a question that has other problems: (id, path, text, sms_text).
        self.prompts: list[tuple[str | None, KeyPath, dict[str, str], dict[str, str]]] = []

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.source, line_of(self.lines, path), format_key(path),
                                     message))

    # -- typed getters: None (and a problem) when absent or of the wrong type ---------------

    def known_keys(self, table: dict[str, Any], path: KeyPath, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                self.problem((*path, key), f"is not a known key (known: {', '.join(known)})")

    def get(self, table: dict[str, Any], path: KeyPath, key: str, kind: type,
            what: str, required: bool = True) -> Any:
        if key not in table:
            if required:
                self.problem((*path, key), "is missing")
            return None
        value = table[key]
        # TOML booleans are Python ints; an int field must not take true/false.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.problem((*path, key), f"must be {what}, not {_show(value)}")
            return None
        return value

    def string(self, value: Any, path: KeyPath) -> str | None:
        if not isinstance(value, str):
            self.problem(path, f"must be a string, not {_show(value)}")
            return None
        if not value.strip():
            self.problem(path, "must not be empty")
            return None
        return value

    def ident(self, table: dict[str, Any], path: KeyPath, what: str) -> str | None:
        value = self.get(table, path, "id", str, "a string")
        if value is not None and not _ID.match(value):
            self.problem((*path, "id"), f"{value!r} is not a valid {what} id"
                         " (lowercase letters, digits, - and _)")
            return None
        return value

    def texts(self, table: dict[str, Any], path: KeyPath, key: str, langs: tuple[str, ...],
              required: bool = True) -> dict[str, str]:
        """A table of text per language: every survey language required (when `required`)."""
        value = self.get(table, path, key, dict, "a table of texts per language", required)
        if value is None:
            return {}
        here = (*path, key)
        texts: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                self.problem((*here, lang), f"is not a known language (known: "
                             f"{', '.join(LANGUAGES)})")
            elif (checked := self.string(text, (*here, lang))) is not None and lang in langs:
                texts[lang] = checked
        if required:
            for lang in langs:
                if lang not in value:
                    self.problem((*here, lang), f"is missing (the survey is in "
                                 f"{', '.join(langs)})")
        return texts

    # -- the survey ------------------------------------------------------------------------

    def survey(self, data: dict[str, Any]) -> Survey | None:
        self.known_keys(data, (), _TOP_KEYS)
        survey_id = self.ident(data, (), "survey")
        version = self.get(data, (), "version", int, "an integer")
        if version is not None and version < 1:
            self.problem(("version",), f"must be at least 1, not {version}")
        langs = self.languages(data)
        title = self.texts(data, (), "title", langs)
        questions = self.questions(data, langs)
        channels = self.channels(data)
        self.sms_lengths(channels.get("sms", ()), langs)
        messages = self.messages(data, langs)
        if self.problems or survey_id is None or version is None:
            return None
        survey = Survey(id=survey_id, version=version, languages=langs, title=title,
                        questions=questions,
                        channels=channels, messages=messages, source=self.source)
        self.composed_lengths(survey)
        return None if self.problems else survey

    def composed_lengths(self, survey: Survey) -> None:
        """The invitation and the re-asks, composed as the gateway sends them, fit one SMS."""
        sms = survey.questions_for("sms")
        if not sms:
            return
        first = next(p for p in self.prompts if p[0] == sms[0].id)
        for lang in survey.languages:
            fit = sms_fit(sms_texts.invitation(survey, lang))
            if not fit.fits:
                key = "sms_text" if lang in first[3] else "text"
                self.problem(("messages", "sms_intro", lang),
                             f"the invitation (this intro, a line break and question "
                             f"{sms[0].id!r}, as sent) {fit.describe()} - shorten it or "
                             f"{format_key((*first[1], key, lang))}")
            fits = [(sms_fit(sms_texts.clarify(survey, q, lang)), q.id) for q in sms if q.scale]
            over = [(fit, qid) for fit, qid in fits if not fit.fits]
            if over:
                fit, _ = max(over, key=lambda o: o[0].length)
                names = ", ".join(repr(qid) for _, qid in over)
                self.problem(("messages", "sms_clarify", lang),
                             f"the re-ask of question {names} (with its answers, as sent) "
                             f"{fit.describe()} - shorten it")

    def languages(self, data: dict[str, Any]) -> tuple[str, ...]:
        value = self.get(data, (), "languages", list, "a list of languages")
        if value is None:
            return ()
        langs: list[str] = []
        for index, lang in enumerate(value, 1):
            path: KeyPath = ("languages", index)
            if lang not in LANGUAGES:
                self.problem(path, f"{_show(lang)} is not a known language (known: "
                             f"{', '.join(LANGUAGES)})")
            elif lang in langs:
                self.problem(path, f"{lang!r} is listed twice")
            else:
                langs.append(lang)
        if not value:
            self.problem(("languages",), "must list at least one language")
        return tuple(langs)

    def questions(self, data: dict[str, Any], langs: tuple[str, ...]) -> dict[str, Question]:
        """The valid questions by id, in file order."""
        value = self.get(data, (), "questions", list, "an array of tables ([[questions]])")
        if value is None:
            return {}
        if not value:
            self.problem(("questions",), "must have at least one [[questions]] table")
        found: dict[str, Question] = {}
        seen: set[str] = set()
        for index, table in enumerate(value, 1):
            path: KeyPath = ("questions", index)
            if not isinstance(table, dict):
                self.problem(path, f"must be a table ([[questions]]), not {_show(table)}")
                continue
            question = self.question(table, path, langs)
            qid = table.get("id")
            if isinstance(qid, str) and qid in seen:
                self.problem((*path, "id"), f"question id {qid!r} is used twice")
                continue
            if isinstance(qid, str):
                seen.add(qid)
            if question is not None:
                found[question.id] = question
        return found

    def question(self, table: dict[str, Any], path: KeyPath,
                 langs: tuple[str, ...]) -> Question | None:
        count = len(self.problems)
        self.known_keys(table, path, _QUESTION_KEYS)
        qid = self.ident(table, path, "question")
        kind = self.get(table, path, "kind", str, "a string")
        if kind is not None and kind not in KINDS:
            self.problem((*path, "kind"), f"{kind!r} is not a question kind (kinds: "
                         f"{', '.join(KINDS)})")
        text = self.texts(table, path, "text", langs)
        sms_text = self.texts(table, path, "sms_text", langs, required=False)
        max_length = self.max_length(table, path, kind)
        self.prompts.append((qid, path, text, sms_text))
        if len(self.problems) > count or qid is None or kind is None:
            return None
        return Question(id=qid, kind=kind, text=text, sms_text=sms_text, max_length=max_length)

    def max_length(self, table: dict[str, Any], path: KeyPath, kind: str | None) -> int | None:
        if kind != "text":
            if "max_length" in table and kind in KINDS:
                self.problem((*path, "max_length"), "is only for text questions")
            return None
        if "max_length" not in table:
            self.problem((*path, "max_length"), f"is missing (a text question needs its "
                         f"maximum length, 1-{MAX_TEXT_LENGTH})")
            return None
        value = self.get(table, path, "max_length", int, "an integer")
        if value is not None and not 1 <= value <= MAX_TEXT_LENGTH:
            self.problem((*path, "max_length"), f"must be 1-{MAX_TEXT_LENGTH}, not {value}")
            return None
        return value

    def channels(self, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        value = self.get(data, (), "channels", dict, "a table ([channels])")
        if value is None:
            return {}
        self.known_keys(value, ("channels",), CHANNELS)
        if not any(name in value for name in CHANNELS):
            self.problem(("channels",), f"must list the questions of at least one channel "
                         f"({', '.join(CHANNELS)})")
        # Ids of questions defined at all (even with problems), so that a broken
        # question does not also make every channel naming it wrong.
        tables = data.get("questions")
        defined = {q["id"] for q in tables if isinstance(q, dict) and isinstance(q.get("id"), str)
                   } if isinstance(tables, list) else set()
        out: dict[str, tuple[str, ...]] = {}
        for name in CHANNELS:
            ids = self.get(value, ("channels",), name, list, "a list of question ids",
                           required=False)
            if ids is not None:
                out[name] = self.channel(name, ids, defined)
        return out

    def channel(self, name: str, ids: list[Any], defined: set[str]) -> tuple[str, ...]:
        path: KeyPath = ("channels", name)
        if not ids:
            self.problem(path, "must list at least one question id")
        listed: list[str] = []
        for index, qid in enumerate(ids, 1):
            if not isinstance(qid, str):
                self.problem((*path, index), f"must be a question id, not {_show(qid)}")
            elif qid not in defined:
                self.problem((*path, index), f"names question {qid!r}, which is not defined"
                             f" (defined: {', '.join(sorted(defined)) or 'none'})")
            elif qid in listed:
                self.problem((*path, index), f"lists question {qid!r} twice")
            else:
                listed.append(qid)
        if name == "sms" and len(ids) > SMS_MAX_QUESTIONS:
            self.problem(path, f"has {len(ids)} questions; an SMS survey asks at most "
                         f"{SMS_MAX_QUESTIONS}")
        return tuple(listed)

    def sms_lengths(self, sms_ids: tuple[str, ...], langs: tuple[str, ...]) -> None:
        """Every SMS prompt (sms_text, or text of an SMS question without one) fits one SMS."""
        for qid, path, text, sms_text in self.prompts:
            for lang in langs:
                if lang in sms_text:
                    self.sms_fits((*path, "sms_text", lang), sms_text[lang])
                elif qid in sms_ids and lang in text:
                    self.sms_fits((*path, "text", lang), text[lang],
                                  hint=f" (or add a shorter sms_text.{lang})")

    def sms_fits(self, path: KeyPath, text: str, hint: str = "") -> None:
        fit = sms_fit(text)
        if not fit.fits:
            self.problem(path, f"{fit.describe()}; an SMS text must fit one SMS{hint}")

    def messages(self, data: dict[str, Any], langs: tuple[str, ...]) -> dict[str, dict[str, str]]:
        value = self.get(data, (), "messages", dict, "a table ([messages.<name>])")
        if value is None:
            return {}
        out: dict[str, dict[str, str]] = {}
        for name in value:
            if not _NAME.match(name):
                self.problem(("messages", name), "is not a valid message name"
                             " (lowercase letters, digits and _)")
                continue
            out[name] = self.texts(value, ("messages",), name, langs)
            if name.startswith("sms_"):
                for lang, text in out[name].items():
                    self.sms_fits(("messages", name, lang), text)
        for name in REQUIRED_MESSAGES:
            if name not in value:
                self.problem(("messages", name), "is missing")
        return out


def _show(value: Any) -> str:
    """A value as it would look in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
