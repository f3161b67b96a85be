"""Everything the audio mode can say, and rendering it to WAV files ahead of time.

`all_prompts` lists the phrases the session speaks (the same functions build
both), so `palaute kiosk render-prompts` can render them at provisioning; a
phrase missing from the cache is rendered on demand when spoken.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hardware.audio import PromptCache
from kiosk.events import KEY_NAMES, Utterance
from kiosk.speech import (
    announce,
    choice_words,
    describe_key,
    intro,
    language_menu,
    question_hint,
    scale_ends,
)
from kiosk.state import SessionSettings, message, options_for
from kiosk.texts import ui

log = logging.getLogger(__name__)

FIXED = ("audio_off", "saved", "choose_first", "first_question", "choose_language",
         "text_skipped", "welcome_back", "stop_confirm", "stopped")


def all_prompts(s: SessionSettings) -> list[Utterance]:
    """Every phrase the audio mode may speak with these settings, without repeats."""
    out: list[Utterance] = list(language_menu(s))
    vol_steps = round((s.volume_max_db - s.volume_min_db) / s.volume_step_db)
    rate_steps = (s.rate_max - s.rate_min) // s.rate_step + 1
    for lang in s.languages:
        out.append(intro(s, lang))
        out += [Utterance(ui(name, lang), lang) for name in FIXED]
        out += [message(s.survey, name, lang) for name in ("kiosk_welcome", "kiosk_thanks",
                                                           "kiosk_still_there")]
        out += [describe_key(key, lang) for key in sorted(KEY_NAMES)]
        out += [Utterance(ui("volume", lang, n=n, m=vol_steps), lang)
                for n in range(vol_steps + 1)]
        out += [Utterance(ui("rate", lang, n=n, m=rate_steps), lang)
                for n in range(1, rate_steps + 1)]
        out += [Utterance(ui("no_option", lang, value=d, lo=1, hi=len(s.languages)), lang)
                for d in range(10) if not 1 <= d <= len(s.languages)]
        for index, q in enumerate(s.questions):
            if q.kind == "text":
                continue
            out.append(Utterance(q.prompt(lang, "kiosk"), lang))
            ends = scale_ends(s, index, lang)
            if ends is not None:
                out.append(ends)
            out.append(question_hint(s, index, lang))
            opts = options_for(s, index, lang)
            values = {o.value for o in opts}
            for i in range(len(opts)):
                out.append(announce(s, index, lang, i))
                words = ui("you_chose", lang, choice=choice_words(s, index, lang, i))
                out.append(Utterance(words, lang))
                if i < s.buttons:
                    out.append(Utterance(ui("you_chose_button", lang, n=i + 1, choice=choice_words(
                        s, index, lang, i)), lang))
            out += [Utterance(ui("no_option", lang, value=d, lo=opts[0].value,
                                 hi=opts[-1].value), lang)
                    for d in range(10) if d not in values]
    return list(dict.fromkeys(out))


def render_all(s: SessionSettings, cache: PromptCache,
               rates: list[int] | None = None) -> tuple[int, int]:
    """Render every prompt at each rate (default: the default rate); (rendered, cached)."""
    rendered = cached = 0
    for rate in rates or [s.rate]:
        for u in all_prompts(s):
            if cache.path(u.text, u.lang, rate).exists():
                cached += 1
                continue
            cache.render(u.text, u.lang, rate)
            rendered += 1
    log.info("prompts: %d rendered, %d already cached in %s", rendered, cached, cache.folder)
    return rendered, cached


def all_rates(s: SessionSettings) -> list[int]:
    """Every speech rate the rate keys can reach."""
    return list(range(s.rate_min, s.rate_max + 1, s.rate_step))


def render_for_config(config_path: str | Path, *, every_rate: bool = False) -> tuple[int, int]:
    """Render the prompts of the kiosk configured in `config_path`; (rendered, cached)."""
    from kiosk.app import load_kiosk

    loaded = load_kiosk(config_path)
    cache = PromptCache(loaded.kiosk.prompts_dir)
    rates = all_rates(loaded.kiosk.settings) if every_rate else None
    return render_all(loaded.kiosk.settings, cache, rates)
