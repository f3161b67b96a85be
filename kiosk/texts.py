"""The kiosk's own words in fi/sv/en: buttons, audio-mode phrases, scale labels.

Survey texts (prompts, welcome, thanks) come from the survey definition; these
are the words around them. Scale labels come from survey.labels.
"""

from __future__ import annotations

from typing import Any

from survey import labels
from survey.labels import LANGUAGE_NAMES

__all__ = ["LANGUAGE_NAMES", "key_help", "likert_labels", "nps_end_labels", "smiley_labels",
           "ui"]

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
    "audio_hint": {"fi": "Ääniopastus: kytke kuulokkeet tai paina",
                   "sv": "Ljudguide: anslut hörlurar eller tryck",
                   "en": "Audio guide: plug in headphones or press"},
    "audio_button": {"fi": "Ääni", "sv": "Ljud", "en": "Audio"},
    "choose_to_start": {"fi": "Valitse kieli aloittaaksesi", "sv": "Välj språk för att börja",
                        "en": "Choose a language to start"},
    "start": {"fi": "Aloita", "sv": "Börja", "en": "Start"},
    "still_answering": {"fi": "Vastaatko vielä?", "sv": "Svarar du fortfarande?",
                        "en": "Are you still answering?"},
    "continue": {"fi": "Jatka", "sv": "Fortsätt", "en": "Continue"},
    "stop": {"fi": "Lopeta", "sv": "Avsluta", "en": "Stop"},
    "stop_ask": {"fi": "Haluatko lopettaa?", "sv": "Vill du avsluta?",
                 "en": "Do you want to stop?"},
    "paused": {"fi": "Hetkinen…", "sv": "Ett ögonblick…", "en": "One moment…"},
    "progress": {"fi": "{n} / {m}", "sv": "{n} / {m}", "en": "{n} / {m}"},
    "more_up": {"fi": "▲", "sv": "▲", "en": "▲"},
    "more_down": {"fi": "▼", "sv": "▼", "en": "▼"},
    # Audio mode: spoken phrases. Keys are named as printed on a USB numeric keypad.
    "audio_on": {
        "fi": "Äänitila. Valitse numeronäppäimellä ja vahvista Enterillä. Tähti toistaa, "
              "kauttaviiva palaa takaisin, plus ja miinus säätävät äänenvoimakkuutta, piste "
              "puhenopeutta. Pidä näppäintä pohjassa, niin kuulet mitä se tekee.",
        "sv": "Ljudläge. Välj med en siffertangent och bekräfta med Enter. Stjärna upprepar, "
              "snedstreck går tillbaka, plus och minus ändrar volymen, punkt talhastigheten. "
              "Håll ner en tangent för att höra vad den gör.",
        "en": "Audio mode. Choose with a number key and confirm with Enter. Star repeats, "
              "slash goes back, plus and minus change the volume, dot the speech rate. "
              "Hold a key down to hear what it does.",
    },
    "audio_off": {"fi": "Äänitila pois.", "sv": "Ljudläget av.", "en": "Audio mode off."},
    "language_how": {"fi": "Valitse kielen numero ja paina Enter.",
                     "sv": "Välj språkets nummer och tryck Enter.",
                     "en": "Press the language's number, then Enter."},
    "welcome_back": {"fi": "Jatketaan.", "sv": "Vi fortsätter.", "en": "Let's continue."},
    "stop_confirm": {"fi": "Haluatko lopettaa? Enter lopettaa, muu näppäin jatkaa.",
                     "sv": "Vill du avsluta? Enter avslutar, en annan tangent fortsätter.",
                     "en": "Do you want to stop? Enter stops, any other key continues."},
    "stopped": {"fi": "Lopetettu. Kiitos.", "sv": "Avslutat. Tack.", "en": "Stopped. Thank you."},
    "hint_two_digits": {"fi": "Valitse numeronäppäimellä ja vahvista Enterillä. {hi}: paina "
                              "1 ja heti perään 0.",
                        "sv": "Välj med en siffertangent och bekräfta med Enter. {hi}: tryck 1 "
                              "och genast 0.",
                        "en": "Choose with a number key and confirm with Enter. For {hi}, "
                              "press 1 then 0."},
    "hint": {"fi": "Valitse numeronäppäimellä ja vahvista Enterillä.",
             "sv": "Välj med en siffertangent och bekräfta med Enter.",
             "en": "Choose with a number key and confirm with Enter."},
    "scale_ends": {"fi": "{lo} tarkoittaa: {low}. {hi} tarkoittaa: {high}.",
                   "sv": "{lo} betyder {low}, {hi} betyder {high}.",
                   "en": "{lo} means {low}, {hi} means {high}."},
    "of_range": {"fi": "{value}, asteikolla {lo}–{hi}", "sv": "{value}, av {lo} till {hi}",
                 "en": "{value}, of {lo} to {hi}"},
    "of_range_label": {"fi": "{value}, {label}, asteikolla {lo}–{hi}",
                       "sv": "{value}, {label}, av {lo} till {hi}",
                       "en": "{value}, {label}, of {lo} to {hi}"},
    "language_item": {"fi": "{name}: paina {pos}", "sv": "{name}: tryck {pos}",
                      "en": "{name}: press {pos}"},
    "you_chose": {
        "fi": "Valitsit {choice}. Lähetä painamalla Enter, muuta painamalla kauttaviivaa.",
        "sv": "Du valde {choice}. Tryck Enter för att skicka, snedstreck för att ändra.",
        "en": "You chose {choice}. Press Enter to send, slash to change.",
    },
    "you_chose_button": {
        "fi": "Nappi {n}: {choice}. Lähetä painamalla samaa nappia uudelleen tai Enter.",
        "sv": "Knapp {n}: {choice}. Tryck på samma knapp igen eller Enter för att skicka.",
        "en": "Button {n}: {choice}. Press the same button again or Enter to send.",
    },
    "hint_buttons": {
        "fi": "Tai paina kasvonappia: vasemmalla surullisin, oikealla iloisin.",
        "sv": "Eller tryck på en ansiktsknapp: längst till vänster den ledsnaste, längst "
              "till höger den gladaste.",
        "en": "Or press a face button: the saddest on the left, the happiest on the right.",
    },
    "saved": {"fi": "Tallennettu.", "sv": "Sparat.", "en": "Saved."},
    "choose_first": {"fi": "Valitse ensin numeronäppäimellä.",
                     "sv": "Välj först med en siffertangent.",
                     "en": "Choose first with a number key."},
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
    "kiosk_faces": {"fi": "Millainen oli käyntisi tänään?", "sv": "Hur var ditt besök i dag?",
                    "en": "How was your visit today?"},
    "kiosk_welcome": {"fi": "Kerro meille kokemuksestasi", "sv": "Berätta om din upplevelse",
                      "en": "Tell us about your visit"},
    "kiosk_thanks": {"fi": "Kiitos palautteestasi!", "sv": "Tack för din respons!",
                     "en": "Thank you for your feedback!"},
    "kiosk_still_there": {"fi": "Oletko vielä siellä? Paina mitä tahansa näppäintä.",
                          "sv": "Är du kvar? Tryck på valfri knapp.",
                          "en": "Are you still there? Press any key."},
}

# Keys as printed on a USB numeric keypad (and a keyboard's few extra keys), and what
# each does; said when a key is held down.
KEY_LABELS: dict[str, dict[str, str]] = {
    "enter": {"fi": "Enter", "sv": "Enter", "en": "Enter"},
    "back": {"fi": "Kauttaviiva", "sv": "Snedstreck", "en": "Slash"},
    "repeat": {"fi": "Tähti", "sv": "Stjärna", "en": "Star"},
    "vol+": {"fi": "Plus", "sv": "Plus", "en": "Plus"},
    "vol-": {"fi": "Miinus", "sv": "Minus", "en": "Minus"},
    "rate": {"fi": "Piste", "sv": "Punkt", "en": "Dot"},
    "rate+": {"fi": "Page Up", "sv": "Page Up", "en": "Page Up"},
    "rate-": {"fi": "Page Down", "sv": "Page Down", "en": "Page Down"},
    "up": {"fi": "Nuoli ylös", "sv": "Pil upp", "en": "Up arrow"},
    "right": {"fi": "Nuoli oikealle", "sv": "Pil höger", "en": "Right arrow"},
    "down": {"fi": "Nuoli alas", "sv": "Pil ner", "en": "Down arrow"},
    "left": {"fi": "Nuoli vasemmalle", "sv": "Pil vänster", "en": "Left arrow"},
    "esc": {"fi": "Esc", "sv": "Esc", "en": "Esc"},
    "audio": {"fi": "Äänitilan näppäin", "sv": "Ljudlägets tangent", "en": "Audio key"},
    "digit": {"fi": "Numero {d}", "sv": "Siffran {d}", "en": "Number {d}"},
}
KEY_FUNCTIONS: dict[str, dict[str, str]] = {
    "enter": {"fi": "valitsee ja vahvistaa", "sv": "väljer och bekräftar",
              "en": "chooses and confirms"},
    "back": {"fi": "palaa takaisin tai muuttaa valintaa", "sv": "går tillbaka eller ändrar valet",
             "en": "goes back or changes the choice"},
    "repeat": {"fi": "toistaa", "sv": "upprepar", "en": "says it again"},
    "vol+": {"fi": "kovemmalle", "sv": "högre volym", "en": "louder"},
    "vol-": {"fi": "hiljemmalle", "sv": "lägre volym", "en": "quieter"},
    "rate": {"fi": "vaihtaa puhenopeutta", "sv": "byter talhastighet",
             "en": "changes the speech rate"},
    "rate+": {"fi": "nopeampi puhe", "sv": "snabbare tal", "en": "faster speech"},
    "rate-": {"fi": "hitaampi puhe", "sv": "långsammare tal", "en": "slower speech"},
    "up": {"fi": "seuraava vaihtoehto", "sv": "nästa alternativ", "en": "next option"},
    "right": {"fi": "seuraava vaihtoehto", "sv": "nästa alternativ", "en": "next option"},
    "down": {"fi": "edellinen vaihtoehto", "sv": "föregående alternativ",
             "en": "previous option"},
    "left": {"fi": "edellinen vaihtoehto", "sv": "föregående alternativ",
             "en": "previous option"},
    "esc": {"fi": "lopettaa kyselyn, kysyy ensin", "sv": "avslutar enkäten, frågar först",
            "en": "stops the survey, asking first"},
    "audio": {"fi": "äänitila päälle tai pois", "sv": "ljudläget på eller av",
              "en": "audio mode on or off"},
    "digit": {"fi": "valitsee vaihtoehdon {d}", "sv": "väljer alternativ {d}",
              "en": "chooses option {d}"},
}


def key_help(key: str, lang: str) -> tuple[str, str]:
    """(the key's label as printed, what it does) in `lang`."""
    name = "digit" if key.isdigit() else key
    label, function = KEY_LABELS[name], KEY_FUNCTIONS[name]
    return (label.get(lang, label["en"]).format(d=key),
            function.get(lang, function["en"]).format(d=key))


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
