"""The fixed answer labels of each scale, per language, and the language names.

Likert labels are those of the national form (DOMAIN.md); the kiosk shows them,
the audio mode speaks them and reports print them.
"""

from __future__ import annotations

from survey.model import LANGUAGES

LANGUAGE_NAMES: dict[str, str] = {"fi": "Suomi", "sv": "Svenska", "en": "English"}

# Values 1..5, exactly as on the national form.
LIKERT_LABELS: dict[str, tuple[str, str, str, str, str]] = {
    "fi": (
        "täysin eri mieltä",
        "osittain eri mieltä",
        "ei samaa eikä eri mieltä",
        "osittain samaa mieltä",
        "täysin samaa mieltä",
    ),
    "sv": (
        "Helt av annan åsikt",
        "Delvis av annan åsikt",
        "Varken av samma eller annan åsikt",
        "Delvis av samma åsikt",
        "Helt av samma åsikt",
    ),
    "en": (
        "Completely disagree",
        "Partly disagree",
        "Neither agree nor disagree",
        "Partly agree",
        "Completely agree",
    ),
}

# The two ends of the 0-10 recommendation scale: (0, 10).
NPS_END_LABELS: dict[str, tuple[str, str]] = {
    "fi": ("erittäin epätodennäköisesti", "erittäin todennäköisesti"),
    "sv": ("mycket osannolikt", "mycket sannolikt"),
    "en": ("very unlikely", "very likely"),
}

# Smiley faces, saddest first; values 1..5.
SMILEY_LABELS: dict[str, tuple[str, ...]] = {
    "fi": ("tosi huono", "huono", "ei hyvä eikä huono", "hyvä", "tosi hyvä"),
    "sv": ("mycket dåligt", "dåligt", "varken bra eller dåligt", "bra", "mycket bra"),
    "en": ("very bad", "bad", "neutral", "good", "very good"),
}

# A four-face device has no neutral face; its faces store 1, 2, 4, 5 so that
# answers stay on the same 1-5 scale as five-face devices and can be pooled.
SMILEY_VALUES: dict[int, tuple[int, ...]] = {5: (1, 2, 3, 4, 5), 4: (1, 2, 4, 5)}


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")


def likert_labels(lang: str) -> tuple[str, str, str, str, str]:
    """The five Likert labels in `lang`, for values 1..5."""
    _check_lang(lang)
    return LIKERT_LABELS[lang]


def nps_end_labels(lang: str) -> tuple[str, str]:
    """The labels of the NPS scale's ends in `lang`: (for 0, for 10)."""
    _check_lang(lang)
    return NPS_END_LABELS[lang]


def smiley_values(faces: int = 5) -> tuple[int, ...]:
    """The stored value of each face, saddest first, for a 5- or 4-face device."""
    if faces not in SMILEY_VALUES:
        raise ValueError(f"smileys come with 4 or 5 faces, not {faces}")
    return SMILEY_VALUES[faces]


def smiley_labels(lang: str, faces: int = 5) -> tuple[str, ...]:
    """The label of each face in `lang`, saddest first, for a 5- or 4-face device."""
    _check_lang(lang)
    labels = SMILEY_LABELS[lang]
    return tuple(labels[value - 1] for value in smiley_values(faces))
