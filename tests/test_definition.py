"""Survey definitions: shipped surveys load; every kind of breakage is reported precisely."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.definition import (
    REQUIRED_MESSAGES,
    SHIPPED_SURVEYS,
    Problem,
    check_file,
    check_text,
    load_survey,
    shipped_survey_path,
    survey_from_text,
)
from survey.errors import PalauteError, SurveyError
from survey.gsm import gsm7_length
from survey.labels import (
    LANGUAGE_NAMES,
    likert_labels,
    nps_end_labels,
    smiley_labels,
    smiley_values,
)
from survey.model import LANGUAGES, SMS_MAX_QUESTIONS
from survey.toml_lines import format_key, key_lines

BASE = """\
# a small valid survey
id = "mini"
version = 2
languages = ["fi", "sv"]

[title]
fi = "Palaute"
sv = "Respons"

[[questions]]
id = "nps"
kind = "nps"
text.fi = "Suosittelisitko palvelua?"
text.sv = "Skulle du rekommendera servicen?"

[[questions]]
id = "open"
kind = "text"
max_length = 200
text.fi = "Kerro lisää."
text.sv = "Berätta mer."

[[questions]]
id = "s1"
kind = "likert"
text.fi = "Sain apua."
text.sv = "Jag fick hjälp."

[[questions]]
id = "s2"
kind = "likert"
text.fi = "Tiedän, miten hoitoni jatkuu."
text.sv = "Jag vet hur min vård fortsätter."

[[questions]]
id = "s3"
kind = "likert"
text = { fi = "Koin oloni turvalliseksi.", sv = "Jag kände mig trygg." }

[channels]
kiosk = ["nps", "s1", "s2", "s3", "open"]
sms = ["nps", "open", "s1"]

[messages]
sms_intro = { fi = "Hei! Vastaa STOP, jos et halua kyselyjä.", sv = "Hej! Svara STOP." }
sms_thanks = { fi = "Kiitos!", sv = "Tack!" }
sms_optout = { fi = "Selvä.", sv = "Okej." }
sms_clarify = { fi = "Vastaa numerolla.", sv = "Svara med en siffra." }
kiosk_welcome = { fi = "Tervetuloa!", sv = "Välkommen!" }
kiosk_thanks = { fi = "Kiitos!", sv = "Tack!" }
kiosk_still_there = { fi = "Oletko vielä siellä?", sv = "Är du kvar?" }
"""

# 161 characters, all in the GSM-7 basic table: one over a single SMS.
TOO_LONG = ("Suosittelisitko palvelua läheisellesi? Vastaa 0-10. " * 4)[:161]
assert len(TOO_LONG) == 161 and not TOO_LONG.endswith(" ")


def nth_line(text: str, needle: str, n: int = 1) -> int:
    """1-based line of the n-th line of `text` that contains `needle` (found by the test)."""
    hits = [i for i, line in enumerate(text.split("\n"), 1) if needle in line]
    assert len(hits) >= n, f"{needle!r} occurs {len(hits)} times"
    return hits[n - 1]


def replace(old: str, new: str, n: int = 1) -> Callable[[str], str]:
    """An edit of BASE: the n-th `old` becomes `new` (which may span lines)."""

    def edit(text: str) -> str:
        parts = text.split(old)
        assert len(parts) > n, f"{old!r} not in BASE {n} times"
        return old.join(parts[:n]) + new + old.join(parts[n:])

    return edit


@dataclass
class Case:
    name: str
    edit: Callable[[str], str]
    # (key, where): where is (needle, n) giving the line in the edited text, or None.
    expect: list[tuple[str, tuple[str, int] | None]]
    message: str = ""


CASES = [
    Case("missing question kind", replace('kind = "likert"\n', "", 1),
         [("questions[3].kind", ("[[questions]]", 3))], "is missing"),
    Case("missing top-level version", replace("version = 2\n", ""),
         [("version", None)], "is missing"),
    Case("missing channels", replace("[channels]", "[chanels]"),
         [("channels", None), ("chanels", ("[chanels]", 1))]),
    Case("unknown question key", replace('kind = "nps"\n', 'kind = "nps"\ncolour = "red"\n'),
         [("questions[1].colour", ("colour", 1))], "is not a known key"),
    Case("unknown top-level key (typo)", replace("version = 2", "verison = 2"),
         [("version", None), ("verison", ("verison", 1))]),
    Case("wrong type: version as string", replace("version = 2", 'version = "2"'),
         [("version", ("version", 1))], "must be an integer"),
    Case("wrong type: version as boolean", replace("version = 2", "version = true"),
         [("version", ("version", 1))], "must be an integer, not true"),
    Case("wrong type: max_length", replace("max_length = 200", 'max_length = "200"'),
         [("questions[2].max_length", ("max_length", 1))], "must be an integer"),
    Case("wrong type: text not a table", replace('text.fi = "Sain apua."\ntext.sv = "Jag fick '
                                                 'hjälp."', 'text = "Sain apua."'),
         [("questions[3].text", ('text = "Sain apua."', 1))], "must be a table"),
    # The renamed question is gone from the kiosk list's point of view, too.
    Case("duplicate question id", replace('id = "s2"', 'id = "s1"'),
         [("questions[4].id", ('id = "s1"', 2)), ("channels.kiosk[3]", ("kiosk =", 1))],
         "used twice"),
    Case("channel names an unknown id", replace('kiosk = ["nps", "s1"', 'kiosk = ["nps", "s9"'),
         [("channels.kiosk[2]", ("kiosk =", 1))], "'s9', which is not defined"),
    Case("unknown id in a multi-line channel list",
         replace('kiosk = ["nps", "s1", "s2", "s3", "open"]',
                 'kiosk = [\n  "nps",\n  "s1",  # first statement\n  "sx",\n]'),
         [("channels.kiosk[3]", ('"sx"', 1))], "not defined"),
    Case("channel lists a question twice", replace('sms = ["nps", "open", "s1"]',
                                                   'sms = ["nps", "open", "nps"]'),
         [("channels.sms[3]", ("sms = [", 1))], "twice"),
    Case("sms has more than 4 questions", replace('sms = ["nps", "open", "s1"]',
                                                  'sms = ["nps", "open", "s1", "s2", "s3"]'),
         [("channels.sms", ("sms = [", 1))], f"at most {SMS_MAX_QUESTIONS}"),
    Case("unknown channel", replace("sms = [", "web = ["),
         [("channels.web", ("web = [", 1))], "is not a known key"),
    Case("missing language text", replace('text.sv = "Jag fick hjälp."\n', ""),
         [("questions[3].text.sv", ('text.fi = "Sain apua."', 1))], "is missing"),
    Case("missing language in an inline table",
         replace('text = { fi = "Koin oloni turvalliseksi.", sv = "Jag kände mig trygg." }',
                 'text = { fi = "Koin oloni turvalliseksi." }'),
         [("questions[5].text.sv", ("text = { fi", 1))], "is missing"),
    Case("text for an unknown language", replace('sv = "Respons"', 'sv = "Respons"\nde = "Rü"'),
         [("title.de", ('de = "Rü"', 1))], "not a known language"),
    Case("unknown language in languages", replace('["fi", "sv"]', '["fi", "sv", "de"]'),
         [("languages[3]", ("languages =", 1))], "not a known language"),
    Case("unknown question kind", replace('kind = "likert"', 'kind = "stars"', 2),
         [("questions[4].kind", ('kind = "stars"', 1))], "not a question kind"),
    Case("empty text", replace('text.fi = "Kerro lisää."', 'text.fi = "  "'),
         [("questions[2].text.fi", ('text.fi = "  "', 1))], "must not be empty"),
    Case("text question without max_length", replace("max_length = 200\n", ""),
         [("questions[2].max_length", ("[[questions]]", 2))], "is missing"),
    Case("max_length out of range", replace("max_length = 200", "max_length = 5000"),
         [("questions[2].max_length", ("max_length", 1))], "must be 1-2000"),
    Case("max_length on a likert question",
         replace('id = "s1"\nkind = "likert"\n', 'id = "s1"\nkind = "likert"\nmax_length = 9\n'),
         [("questions[3].max_length", ("max_length = 9", 1))], "only for text"),
    Case("sms prompt too long", replace('text.sv = "Skulle du rekommendera servicen?"',
                                        'text.sv = "Skulle du rekommendera servicen?"\n'
                                        f'sms_text.fi = "{TOO_LONG}"'),
         [("questions[1].sms_text.fi", ("sms_text.fi", 1))], "is 161 GSM-7 characters"),
    Case("text of an sms question too long without sms_text",
         replace('text.fi = "Sain apua."', f'text.fi = "{TOO_LONG}"'),
         [("questions[3].text.fi", ("Vastaa 0-10", 1))], "sms_text.fi"),
    Case("every problem of one question", replace(
        'text.fi = "Sain apua."\ntext.sv = "Jag fick hjälp."',
        f'text.fi = "Sain apua."\nsms_text.fi = "{TOO_LONG}"'),
         [("questions[3].text.sv", ('text.fi = "Sain apua."', 1)),
          ("questions[3].sms_text.fi", ("sms_text.fi", 1))]),
    Case("sms prompt outside GSM-7 and over one UCS-2 SMS",
         replace('text.fi = "Kerro lisää."',
                 'text.fi = "Kerro lisää."\n'
                 'sms_text.fi = "Kerro \u201comin sanoin\u201d, mikä käynnissä onnistui ja mikä'
                 ' ei onnistunut. Kiitos vastauksestasi!"'),
         [("questions[2].sms_text.fi", ("sms_text.fi", 1))], "U+201C"),
    Case("invitation over one SMS once composed",
         replace('sms_intro = { fi = "Hei! Vastaa STOP, jos et halua kyselyjä."',
                 f'sms_intro = {{ fi = "{TOO_LONG[:140]}"'),
         [("messages.sms_intro.fi", ("sms_intro", 1))], "the invitation"),
    Case("invitation in UCS-2 over 70 once composed",
         replace('sms_intro = { fi = "Hei! Vastaa STOP, jos et halua kyselyjä."',
                 'sms_intro = { fi = "Hei! \U0001f60a Vastaa STOP, jos et halua näitä kyselyjä."'),
         [("messages.sms_intro.fi", ("sms_intro", 1))], "where one SMS holds 70"),
    Case("re-ask over one SMS once its answers are added",
         replace('sms_clarify = { fi = "Vastaa numerolla."',
                 f'sms_clarify = {{ fi = "{TOO_LONG[:157]}"'),
         [("messages.sms_clarify.fi", ("sms_clarify", 1))], "the re-ask of question 'nps', 's1'"),
    Case("sms message too long", replace('sms_thanks = { fi = "Kiitos!"',
                                         f'sms_thanks = {{ fi = "{TOO_LONG}"'),
         [("messages.sms_thanks.fi", ("sms_thanks", 1))], "161 GSM-7"),
    Case("required message missing", replace('kiosk_still_there = { fi = "Oletko vielä siellä?",'
                                             ' sv = "Är du kvar?" }\n', ""),
         [("messages.kiosk_still_there", ("[messages]", 1))], "is missing"),
    Case("message missing a language", replace('sms_optout = { fi = "Selvä.", sv = "Okej." }',
                                               'sms_optout = { fi = "Selvä." }'),
         [("messages.sms_optout.sv", ("sms_optout", 1))], "is missing"),
    Case("invalid TOML", replace('kind = "likert"', "kind = likert", 2),
         [("", ("kind = likert", 1))], "invalid TOML"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_survey_reports_exact_key_and_line(case: Case, tmp_path: Path) -> None:
    text = case.edit(BASE)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    problems = check_file(path)
    expected = sorted(
        ((nth_line(text, *where) if where else 0), key) for key, where in case.expect
    )
    got = sorted((p.line or 0, p.key) for p in problems)
    assert got == expected, "\n".join(map(str, problems))
    assert all(p.file == str(path) for p in problems)
    assert case.message in " ".join(p.message for p in problems)
    with pytest.raises(SurveyError, match=r"broken\.toml"):
        load_survey(path)


def test_base_survey_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(BASE, encoding="utf-8")
    assert check_file(path) == []
    survey = load_survey(path)
    assert (survey.id, survey.version, survey.languages) == ("mini", 2, ("fi", "sv"))
    assert [q.id for q in survey.questions_for("sms")] == ["nps", "open", "s1"]
    assert survey.questions["open"].max_length == 200
    assert survey.questions["s3"].text == {"fi": "Koin oloni turvalliseksi.",
                                           "sv": "Jag kände mig trygg."}
    assert survey.message("sms_thanks", "sv") == "Tack!"
    assert survey.source == str(path)


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    text = BASE.replace("version = 2", "version = 0").replace("max_length = 200\n", "")
    text = text.replace('kiosk = ["nps"', 'kiosk = ["npx"')
    problems = check_text(text, "x.toml")
    assert [p.key for p in problems] == ["version", "questions[2].max_length",
                                         "channels.kiosk[1]"]
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    problems = check_file(path)
    assert problems == [Problem(str(path), None, "", "no such file")]
    assert str(path) in str(problems[0])
    with pytest.raises(SurveyError) as caught:
        load_survey(path)
    assert str(caught.value) == f"survey {path}: no such file"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace('sv = "Respons"', 'sv = "Respons \u00e5"').encode("latin-1"))
    (problem,) = check_file(path)
    assert problem.line == nth_line(BASE, 'sv = "Respons"')
    assert "UTF-8" in problem.message


def test_directory_is_one_problem(tmp_path: Path) -> None:
    (problem,) = check_file(tmp_path)
    assert "directory" in problem.message


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "windows.toml"
    broken = BASE.replace("max_length = 200\n", "").replace('sv = "Okej."', 'se = "Okej."')
    path.write_bytes(b"\xef\xbb\xbf" + broken.replace("\n", "\r\n").encode())
    assert [(p.line, p.key) for p in check_file(path)] == [
        (nth_line(broken, "[[questions]]", 2), "questions[2].max_length"),
        (nth_line(broken, "sms_optout"), "messages.sms_optout.se"),
        (nth_line(broken, "sms_optout"), "messages.sms_optout.sv"),
    ]
    path.write_bytes(b"\xef\xbb\xbf" + BASE.replace("\n", "\r\n").encode())
    assert load_survey(path).id == "mini"


def test_load_error_names_file_first_problems_and_count(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    text = BASE.replace("version = 2\n", "").replace('id = "mini"\n', "")
    text = text.replace("max_length = 200\n", "").replace('kind = "nps"', 'kind = "stars"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyError) as caught:
        load_survey(path)
    message = str(caught.value)
    assert isinstance(caught.value, PalauteError)
    assert str(path) in message and "4 problem(s)" in message and "and 1 more" in message
    assert "\n" not in message


def test_text_is_checked_exactly_as_a_file(tmp_path: Path) -> None:
    text = BASE.replace('sms = ["nps", "open", "s1"]', 'sms = ["nps", "open", "s1", "s2", "s3"]')
    path = tmp_path / "remote.toml"
    path.write_text(text, encoding="utf-8")
    assert check_text(text, str(path)) == check_file(path)
    with pytest.raises(SurveyError, match="mqtt:config"):
        survey_from_text(text, "mqtt:config")
    assert survey_from_text(BASE, "mqtt:config") == load_survey_from(tmp_path, BASE, "mqtt:config")


def load_survey_from(tmp_path: Path, text: str, source: str) -> object:
    path = tmp_path / "same.toml"
    path.write_text(text, encoding="utf-8")
    survey = load_survey(path)
    return type(survey)(**{**survey.__dict__, "source": source})


# -- shipped surveys -------------------------------------------------------------------------

GSM_SAFE = set(string.ascii_letters + string.digits + " .,:;!?'()/=-\"äöåÄÖÅ")


@pytest.mark.parametrize("name", SHIPPED_SURVEYS)
def test_shipped_survey_loads_in_all_languages(name: str) -> None:
    path = shipped_survey_path(name)
    assert check_file(path) == []
    survey = load_survey(path)
    assert survey.id == name
    assert survey.languages == LANGUAGES
    sms = survey.questions_for("sms")
    assert 1 <= len(sms) <= SMS_MAX_QUESTIONS
    assert survey.questions_for("kiosk")
    for lang in LANGUAGES:
        for message in REQUIRED_MESSAGES:
            assert survey.message(message, lang).strip()
        for question in sms:
            prompt = question.prompt(lang, "sms")
            # Independent of the GSM-7 table under test: plain letters fit one SMS.
            assert set(prompt) <= GSM_SAFE and len(prompt) <= 160, prompt
        assert "STOP" in survey.message("sms_intro", lang)


def test_national_survey_has_the_domain_wording() -> None:
    survey = load_survey(shipped_survey_path("national"))
    assert list(survey.questions) == ["nps", "open", *(f"s{i}" for i in range(1, 10))]
    assert survey.questions["nps"].kind == "nps"
    assert survey.questions["nps"].text["fi"].startswith(
        "Kuinka todennäköisesti suosittelisit saamaasi palvelua läheisellesi")
    assert survey.questions["open"].text["fi"] == "Mikä vaikutti kokemukseesi eniten?"
    assert survey.questions["open"].max_length == 500
    assert survey.questions["s1"].text["fi"] == "Sain apua, kun sitä tarvitsin."
    assert survey.questions["s9"].text["fi"] == (
        "Eri ammattilaisten välinen yhteistyö näkyi minulle sujuvana palveluna.")
    assert {q.kind for q in survey.questions.values() if q.id.startswith("s")} == {"likert"}
    assert survey.channels == {"kiosk": ("nps", "s1", "s2", "s3", "open"),
                               "sms": ("nps", "open", "s1")}
    assert "Vastaa 0-10" in survey.questions["nps"].prompt("fi", "sms")
    assert "Reply 0-10" in survey.questions["nps"].prompt("en", "sms")


def test_children_and_relatives_variants() -> None:
    children = load_survey(shipped_survey_path("children"))
    assert children.questions_for("kiosk")[0].kind == "smileys"
    assert "nps" not in {q.kind for q in children.questions.values()}
    assert children.questions["c1"].text["fi"] == "Työntekijä oli minulle kiva."
    relatives = load_survey(shipped_survey_path("relatives"))
    assert relatives.questions["s3"].text["fi"] == (
        "Läheiseni hoitoa koskevat päätökset tehtiin yhteistyössä kanssani.")
    assert relatives.questions_for("sms")[0].kind == "nps"


def test_unknown_shipped_name() -> None:
    with pytest.raises(SurveyError, match="national"):
        shipped_survey_path("adults")


def test_deleting_any_line_of_a_shipped_survey_never_crashes() -> None:
    lines = shipped_survey_path("national").read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        problems = check_text("\n".join(lines[:i] + lines[i + 1:]), "cut.toml")
        # The only lines whose loss leaves a valid survey are optional ones.
        if not problems:
            assert line.startswith(("sms_text.", "sms = ", "kiosk = "))
        for p in problems:
            assert p.line is None or 1 <= p.line <= len(lines)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('[]{}="\'.#,\n abc12äq_')), max_size=80))
def test_check_text_never_raises(text: str) -> None:
    problems = check_text(text, "fuzz.toml")
    assert problems and all(isinstance(p, Problem) for p in problems)


# -- the key locator ------------------------------------------------------------------------

def _leaves(value: object, path: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [leaf for i, v in enumerate(value, 1) for leaf in _leaves(v, (*path, i))]
    return [path]


@pytest.mark.parametrize("name", SHIPPED_SURVEYS)
def test_key_lines_find_every_key_of_a_shipped_survey(name: str) -> None:
    text = shipped_survey_path(name).read_text(encoding="utf-8")
    lines = key_lines(text)
    source = text.split("\n")
    for path in _leaves(tomllib.loads(text), ()):
        line = source[lines[path] - 1]
        last = path[-1]
        # The key's own name is on its line (as a key or as a header part).
        assert str(last) in line, (format_key(path), line)


def test_key_lines_follow_tables_arrays_and_strings() -> None:
    text = (
        'a = """\n[[questions]]\nfake = 1\n"""\n'  # a header inside a string is not one
        '"quoted.key" = 1\n'
        "[[questions]]\n"
        "id = 'x'  # comment [not]\n"
        "[questions.text]\n"
        "fi = 'y'\n"
        "[[questions]]\n"
        "list = [\n  1,\n  { b = 2 },\n]\n"
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("quoted.key",)] == 5
    assert lines[("questions", 1)] == 6
    assert lines[("questions", 1, "id")] == 7
    assert lines[("questions", 1, "text", "fi")] == 9
    assert lines[("questions", 2, "list", 2, "b")] == 13
    assert ("questions", 1, "fake") not in lines
    assert format_key(("questions", 1, "quoted.key", 2)) == 'questions[1]."quoted.key"[2]'


# -- labels and GSM-7 -----------------------------------------------------------------------

def test_likert_labels_are_the_national_ones() -> None:
    assert likert_labels("fi") == ("täysin eri mieltä", "osittain eri mieltä",
                                   "ei samaa eikä eri mieltä", "osittain samaa mieltä",
                                   "täysin samaa mieltä")
    assert likert_labels("sv")[0] == "Helt av annan åsikt"
    assert likert_labels("sv")[2] == "Varken av samma eller annan åsikt"
    assert likert_labels("en") == ("Completely disagree", "Partly disagree",
                                   "Neither agree nor disagree", "Partly agree",
                                   "Completely agree")
    assert nps_end_labels("en") == ("very unlikely", "very likely")
    assert LANGUAGE_NAMES == {"fi": "Suomi", "sv": "Svenska", "en": "English"}
    with pytest.raises(ValueError):
        likert_labels("de")


def test_smiley_labels_five_and_four_faces() -> None:
    assert smiley_labels("en") == ("very bad", "bad", "neutral", "good", "very good")
    assert smiley_labels("fi", faces=4) == ("tosi huono", "huono", "hyvä", "tosi hyvä")
    assert smiley_values(4) == (1, 2, 4, 5)
    for lang in LANGUAGES:
        assert len(smiley_labels(lang)) == 5 and len(smiley_labels(lang, 4)) == 4
    with pytest.raises(ValueError):
        smiley_labels("fi", faces=3)


@pytest.mark.parametrize(("text", "length"), [
    ("", 0), ("Hei", 3), ("äöåÄÖÅ", 6), ("5€", 3), ("[x]", 5), ("a{b}c~|^\\", 15),
    ("\u201cquoted\u201d", None), ("emoji \U0001f600", None), ("\u00e1", None),
])
def test_gsm7_length(text: str, length: int | None) -> None:
    assert gsm7_length(text) == length
