"""What the audio mode says, as pure functions of the settings: menus, options, key help.

The session (kiosk.session) speaks these; kiosk.audio_mode lists them all so
that provisioning renders every prompt ahead of time.
"""

from __future__ import annotations

from kiosk.events import KeyName, Utterance
from kiosk.state import SessionSettings, options_for
from kiosk.texts import LANGUAGE_NAMES, key_help, ui


def language_item(s: SessionSettings, i: int) -> Utterance:
    """Language `i` of the menu, spoken in that language: "Svenska: tryck 2"."""
    lang = s.languages[i]
    name = LANGUAGE_NAMES.get(lang, lang)
    return Utterance(ui("language_item", lang, name=name, pos=i + 1, n=len(s.languages)), lang)


def language_menu(s: SessionSettings) -> list[Utterance]:
    """The spoken language choice: every language in its own words, then how to choose."""
    parts = [language_item(s, i) for i in range(len(s.languages))]
    return [*parts, Utterance(ui("language_how", s.default_lang), s.default_lang)]


def intro(s: SessionSettings, lang: str) -> Utterance:
    """How the audio mode works, naming the keys as printed on a numeric keypad."""
    return Utterance(ui("audio_on", lang), lang)


def question_hint(s: SessionSettings, index: int, lang: str) -> Utterance:
    """How to answer this question: digits and Enter (two digits for 10); on a face
    kiosk also the face buttons, named by where they are."""
    opts = options_for(s, index, lang)
    if opts and opts[-1].value >= 10:
        return Utterance(ui("hint_two_digits", lang, hi=opts[-1].value), lang)
    text = ui("hint", lang)
    if s.buttons and len(opts) == s.buttons:
        text += " " + ui("hint_buttons", lang)
    return Utterance(text, lang)


def scale_ends(s: SessionSettings, index: int, lang: str) -> Utterance | None:
    """What the ends of question `index`'s scale mean: "0 means very unlikely, 10 …"."""
    opts = options_for(s, index, lang)
    if len(opts) < 2 or not (opts[0].label and opts[-1].label):
        return None
    return Utterance(ui("scale_ends", lang, lo=opts[0].value, low=opts[0].label,
                        hi=opts[-1].value, high=opts[-1].label), lang)


def announce(s: SessionSettings, index: int, lang: str, i: int) -> Utterance:
    """Option `i` of question `index` as spoken while moving: "7, of 0 to 10"."""
    opts = options_for(s, index, lang)
    o = opts[i]
    lo, hi = opts[0].value, opts[-1].value
    if o.label and s.questions[index].kind != "nps":
        text = ui("of_range_label", lang, value=o.value, label=o.label, lo=lo, hi=hi)
    else:
        text = ui("of_range", lang, value=o.value, lo=lo, hi=hi)
    return Utterance(text, lang)


def choice_words(s: SessionSettings, index: int, lang: str, i: int) -> str:
    """How the confirm step names option `i`: "7" or "4, Partly agree"."""
    o = options_for(s, index, lang)[i]
    if o.label and s.questions[index].kind != "nps":
        return f"{o.value}, {o.label}"
    return str(o.value)


def describe_key(key: KeyName, lang: str) -> Utterance:
    """A held key's name as printed on a numeric keypad, and what it does."""
    label, function = key_help(key, lang)
    return Utterance(f"{label}: {function}", lang)
