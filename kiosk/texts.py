"""The kiosk's own words in fi/sv/en: buttons, audio-mode phrases, scale labels.

Survey texts (prompts, welcome, thanks) come from the survey definition; these
are the words around them. Scale labels come from survey.labels.
"""

from __future__ import annotations

from typing import Any

from survey import labels
from survey.labels import LANGUAGE_NAMES

__all__ = ["LANGUAGE_NAMES", "likert_labels", "nps_end_labels", "smiley_labels", "ui"]

UI: dict[str, dict[str, str]] = {
    "touch_to_start": {"fi": "Kosketa aloittaaksesi", "sv": "Tryck för att börja",
                       "en": "Touch to start"},
    "choose_language": {"fi": "Valitse kieli", "sv": "Välj språk", "en": "Choose language"},
    "skip": {"fi": "Ohita", "sv": "Hoppa över", "en": "Skip"},
    "back": {"fi": "Takaisin", "sv": "Tillbaka", "en": "Back"},
    "send": {"fi": "Lähetä", "sv": "Skicka", "en": "Send"},
    "delete": {"fi": "Poista", "sv": "Radera", "en": "Delete"},
    "space": {"fi": "välilyönti", "sv": "mellanslag", "en": "space"},
    "night": {"fi": "Kosketa herättääksesi", "sv": "Tryck för att väcka", "en": "Touch to wake"},
    "audio_hint": {"fi": "Ääniopastus: paina kuulokemerkkiä",
                   "sv": "Ljudguide: tryck på hörlursknappen",
                   "en": "Audio guide: press the headphone key"},
    # Audio mode: spoken phrases.
    "audio_on": {
        "fi": "Äänitila. Valitse ylös- ja alas-näppäimillä, vahvista enterillä. "
              "Toista-näppäin toistaa.",
        "sv": "Ljudläge. Välj med upp och ner, bekräfta med enter. Repetera-knappen upprepar.",
        "en": "Audio mode. Choose with up and down, select with enter. "
              "The repeat key says it again.",
    },
    "audio_off": {"fi": "Äänitila pois.", "sv": "Ljudläget av.", "en": "Audio mode off."},
    "hint": {"fi": "Valitse ylös ja alas, vahvista enterillä.",
             "sv": "Välj med upp och ner, bekräfta med enter.",
             "en": "Choose with up and down, select with enter."},
    "scale_ends": {"fi": "{lo} tarkoittaa: {low}. {hi} tarkoittaa: {high}.",
                   "sv": "{lo} betyder {low}, {hi} betyder {high}.",
                   "en": "{lo} means {low}, {hi} means {high}."},
    "of_range": {"fi": "{value}, asteikolla {lo}–{hi}", "sv": "{value}, av {lo} till {hi}",
                 "en": "{value}, of {lo} to {hi}"},
    "of_range_label": {"fi": "{value}, {label}, asteikolla {lo}–{hi}",
                       "sv": "{value}, {label}, av {lo} till {hi}",
                       "en": "{value}, {label}, of {lo} to {hi}"},
    "language_item": {"fi": "{name}, {pos} / {n}", "sv": "{name}, {pos} av {n}",
                      "en": "{name}, {pos} of {n}"},
    "you_chose": {
        "fi": "Valitsit {choice}. Lähetä painamalla enter, muuta painamalla takaisin.",
        "sv": "Du valde {choice}. Tryck enter för att skicka, tillbaka för att ändra.",
        "en": "You chose {choice}. Press enter to send, back to change.",
    },
    "saved": {"fi": "Tallennettu.", "sv": "Sparat.", "en": "Saved."},
    "choose_first": {"fi": "Valitse ensin ylös- tai alas-näppäimellä.",
                     "sv": "Välj först med upp eller ner.",
                     "en": "Choose first with up or down."},
    "no_option": {"fi": "Vaihtoehtoa {value} ei ole. Vaihtoehdot ovat {lo}–{hi}.",
                  "sv": "Det finns inget alternativ {value}. Alternativen är {lo} till {hi}.",
                  "en": "There is no option {value}. The options are {lo} to {hi}."},
    "volume": {"fi": "Äänenvoimakkuus {n} / {m}", "sv": "Volym {n} av {m}",
               "en": "Volume {n} of {m}"},
    "rate": {"fi": "Puhenopeus {n} / {m}", "sv": "Talhastighet {n} av {m}",
             "en": "Speech rate {n} of {m}"},
    "first_question": {"fi": "Tämä on ensimmäinen kysymys.", "sv": "Det här är första frågan.",
                       "en": "This is the first question."},
    "text_skipped": {"fi": "Kirjoitettava kysymys ohitetaan äänitilassa.",
                     "sv": "Den skrivna frågan hoppas över i ljudläget.",
                     "en": "The written question is skipped in audio mode."},
    # Fallbacks when the survey has no such message.
    "kiosk_welcome": {"fi": "Kerro meille kokemuksestasi", "sv": "Berätta om din upplevelse",
                      "en": "Tell us about your visit"},
    "kiosk_thanks": {"fi": "Kiitos palautteestasi!", "sv": "Tack för din respons!",
                     "en": "Thank you for your feedback!"},
    "kiosk_still_there": {"fi": "Oletko vielä siellä? Paina mitä tahansa näppäintä.",
                          "sv": "Är du kvar? Tryck på valfri knapp.",
                          "en": "Are you still there? Press any key."},
}

def ui(key: str, lang: str, /, **values: Any) -> str:
    """A kiosk phrase in `lang` (English when missing), with {values} filled in."""
    texts = UI[key]
    return texts.get(lang, texts["en"]).format(**values)


def likert_labels(lang: str) -> list[str]:
    """The five Likert labels, 1 = completely disagree … 5 = completely agree."""
    return list(labels.likert_labels(lang))


def smiley_labels(lang: str, faces: int = 5) -> list[str]:
    """Labels of the smiley faces, saddest first."""
    return list(labels.smiley_labels(lang, faces=faces))


def nps_end_labels(lang: str) -> tuple[str, str]:
    """Labels of the NPS scale's ends (0 and 10), capitalised for the screen."""
    low, high = labels.nps_end_labels(lang)
    return low[:1].upper() + low[1:], high[:1].upper() + high[1:]
