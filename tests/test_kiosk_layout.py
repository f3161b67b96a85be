"""Screen layouts at each supported resolution and language: nothing outside its box or cut off."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from kiosk.events import Command, PickLanguage
from kiosk.layout import MIN_TARGET_MM, Layout, Rect, build_layout, px_per_mm
from kiosk.screens import Fonts, Renderer, new_surface, save_png
from kiosk.state import Scale, Screen, SessionSettings, SessionState, faces_question
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey

RESOLUTIONS = [(800, 480), (1280, 720), (720, 1280)]
LANGS = ["fi", "sv", "en"]
LONG = ("Kuinka todennäköisesti suosittelisit tätä palvelua ystävillesi tai läheisillesi, "
        "jos he tarvitsisivat samanlaista hoitoa? ") * 4


@pytest.fixture(scope="module")
def surveys() -> dict[str, Survey]:
    return {name: load_survey(shipped_survey_path(name)) for name in ("national", "children")}


def screens(surveys: dict[str, Survey]) -> list[tuple[str, SessionSettings, SessionState]]:
    """One state for every kind of screen: welcome, language, NPS, Likert, faces, text…"""
    nat, chi = surveys["national"], surveys["children"]
    n = SessionSettings(survey=nat, questions=tuple(nat.questions[q]
                                                    for q in ("nps", "s2", "open")))
    smileys5 = SessionSettings(survey=chi, questions=(chi.questions["mood"], chi.questions["c1"]),
                               scale=Scale.SMILEYS5, buttons=5)
    smileys4 = replace(smileys5, scale=Scale.SMILEYS4, buttons=4)
    faces = SessionSettings(survey=nat, scale=Scale.SMILEYS5, buttons=5, questions=(
        faces_question(nat, ("fi", "sv", "en")), nat.questions["s1"]))
    long_q = replace(nat.questions["nps"], text={lang: LONG for lang in LANGS})
    long_text = replace(n, questions=(long_q, *n.questions[1:]))
    return [
        ("idle", n, SessionState()),
        ("idle-faces", faces, SessionState()),
        ("night", n, SessionState(screen=Screen.NIGHT)),
        ("language", n, SessionState(screen=Screen.LANGUAGE, cursor=1, audio=True)),
        ("nps", n, SessionState(screen=Screen.QUESTION, index=0, cursor=10)),
        ("likert", n, SessionState(screen=Screen.QUESTION, index=1, cursor=2)),
        ("warned", n, SessionState(screen=Screen.QUESTION, index=1, warned=True)),
        ("stop?", n, SessionState(screen=Screen.QUESTION, index=1, confirm_exit=True)),
        ("text", n, SessionState(screen=Screen.TEXT, index=2,
                                 text="Hyvä ja ystävällinen palvelu, kiitos! " * 3)),
        ("text-full", n, SessionState(screen=Screen.TEXT, index=2, text="å" * 500)),
        ("long-question", long_text, SessionState(screen=Screen.QUESTION, index=0, scroll=2)),
        ("smileys5", smileys5, SessionState(screen=Screen.QUESTION, index=0)),
        ("smileys4", smileys4, SessionState(screen=Screen.QUESTION, index=0, cursor=3)),
        ("children-likert", smileys5, SessionState(screen=Screen.QUESTION, index=1)),
        ("faces-lit", faces, SessionState(screen=Screen.QUESTION, index=1, cursor=4)),
        ("thanks", n, SessionState(screen=Screen.THANKS)),
    ]


def test_finnish_and_swedish_letters_have_glyphs() -> None:
    fonts = Fonts()
    for ch in "äöåÄÖÅ":
        assert fonts.size(ch, 32)[0] > fonts.size("", 32)[0]


@pytest.mark.parametrize(("size", "lang"), list(itertools.product(RESOLUTIONS, LANGS)))
def test_every_text_fits_its_box(surveys: dict[str, Survey], tmp_path: Path,
                                 size: tuple[int, int], lang: str) -> None:
    screen = Rect(0, 0, *size)
    renderer = Renderer(new_surface(size))
    for name, settings, state in screens(surveys):
        layout = build_layout(replace(state, lang=lang), settings, size)
        renderer.draw(layout)
        for box in layout.boxes:
            assert screen.contains(box.rect), f"{name}: {box} leaves the screen"
        for box, fitted in renderer.fitted:
            if box.kind != "field" and box.scroll is None:
                assert not fitted.truncated, f"{name} {lang} {size}: {box.text!r} cut off"
            assert fitted.lines, f"{name}: {box.text!r} not drawn"
            for line, rect in fitted.lines:
                assert box.rect.contains(rect), f"{name} {size}: {line!r} outside its box"
        _targets_apart(layout, name, size)
        png = tmp_path / f"{name}.png"
        save_png(renderer.surface, str(png))
        _not_blank(png, dark=layout.dark)


def _targets_apart(layout: Layout, name: str, size: tuple[int, int]) -> None:
    targets = [b for b in layout.boxes if b.target is not None]
    # Night and thanks screens answer a touch anywhere.
    assert targets or name in ("night", "thanks"), f"{name}: nothing to touch"
    for a, b in itertools.combinations(targets, 2):
        overlap = not (a.rect.right <= b.rect.x or b.rect.right <= a.rect.x
                       or a.rect.bottom <= b.rect.y or b.rect.bottom <= a.rect.y)
        assert not overlap, f"{name}: touch targets {a.target} and {b.target} overlap"
    smallest = MIN_TARGET_MM * px_per_mm(size, 7.0)
    for t in targets:
        assert min(t.rect.w, t.rect.h) >= smallest, \
            f"{name} {size}: {t.target} is {t.rect.w}x{t.rect.h} px, under {MIN_TARGET_MM} mm"
        assert layout.hit(t.rect.x + t.rect.w / 2, t.rect.y + t.rect.h / 2) == t.target


def _not_blank(png: Path, *, dark: bool) -> None:
    surf = pygame.image.load(str(png))
    colours = {tuple(surf.get_at((x, y)))[:3] for x in range(0, surf.get_width(), 5)
               for y in range(0, surf.get_height(), 5)}
    assert len(colours) >= (2 if dark else 3), f"{png.name} looks blank"


def test_faces_differ_in_shape_and_in_grey(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[11]
    layout = build_layout(state, settings, (800, 480))
    faces = [b for b in layout.boxes if b.kind == "face"]
    assert [b.face for b in faces] == [1, 2, 3, 4, 5]
    renderer = Renderer(new_surface((800, 480)))
    renderer.draw(layout)
    # The ink (features) of every pair of faces differs, and so does their grey level:
    # faces read on a greyscale panel and to colour-blind eyes.
    masks, greys = [], []
    for box in faces:
        crop = renderer.surface.subsurface(pygame.Rect(*box.rect))
        masks.append(pygame.mask.from_threshold(crop, (0, 0, 0), (40, 40, 40, 255)))
        cx, cy = box.rect.w // 2, box.rect.h // 5
        r, g, b, _a = crop.get_at((cx, cy))
        greys.append(0.2126 * r + 0.7152 * g + 0.0722 * b)
    for a, b in itertools.combinations(range(5), 2):
        assert masks[a].overlap_area(masks[b], (0, 0)) < masks[a].count(), (a, b)
        assert abs(greys[a] - greys[b]) >= 15, (a, b, greys)
    labels = [b.text for b in layout.boxes if b.kind == "text" and b.target is None][2:]
    assert len(set(labels)) == 5, "each face carries its own label"


def test_a_lit_face_is_drawn_lit(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[14]
    layout = build_layout(state, settings, (800, 480))
    lit = [b.face for b in layout.boxes if b.kind == "face" and b.selected]
    assert lit == [5]
    renderer = Renderer(new_surface((800, 480)))
    renderer.draw(layout)
    box = next(b for b in layout.boxes if b.kind == "face" and b.selected)
    ring = renderer.surface.get_at((box.rect.x + box.rect.w // 2, box.rect.y + 3))
    assert tuple(ring)[:3] == (255, 255, 255), "a white ring round the pressed face"


@pytest.mark.parametrize("size", RESOLUTIONS)
def test_the_welcome_speaks_every_language_and_shows_the_audio_mode(
        surveys: dict[str, Survey], size: tuple[int, int]) -> None:
    _, settings, state = screens(surveys)[0]
    layout = build_layout(state, settings, size)
    texts = " ".join(b.text for b in layout.boxes)
    for lang in LANGS:
        assert settings.survey.message("kiosk_welcome", lang) in texts
    targets = [b.target for b in layout.boxes if b.target is not None]
    assert targets[:3] == [PickLanguage("fi"), PickLanguage("sv"), PickLanguage("en")]
    assert Command.START not in targets, "one language step: the language starts the survey"
    assert Command.AUDIO in targets and any(b.kind == "headphones" for b in layout.boxes)
    assert "Ääniopastus" in texts and "Ljudguide" in texts and "Audio guide" in texts


def test_the_face_kiosk_welcome_is_its_first_question(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[1]
    layout = build_layout(state, settings, (800, 480))
    texts = [b.text for b in layout.boxes]
    assert settings.questions[0].prompt("fi") in texts and "1 / 2" in texts
    assert [b.face for b in layout.boxes if b.kind == "face"] == [1, 2, 3, 4, 5]


def test_progress_on_every_question(surveys: dict[str, Survey]) -> None:
    for name, settings, state in screens(surveys):
        if state.screen in (Screen.QUESTION, Screen.TEXT) and not (state.warned
                                                                  or state.confirm_exit):
            layout = build_layout(state, settings, (800, 480))
            want = f"{state.index + 1} / {len(settings.questions)}"
            assert want in [b.text for b in layout.boxes], name


def test_the_time_out_warning_has_continue(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[6]
    layout = build_layout(state, settings, (800, 480))
    assert [b.target for b in layout.targets()] == [Command.CONTINUE]
    assert "Vastaatko vielä?" in [b.text for b in layout.boxes]


def test_a_long_question_scrolls_at_a_readable_size(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[10]
    renderer = Renderer(new_surface((800, 480)))
    for scroll in (0, 2):
        layout = build_layout(replace(state, scroll=scroll), settings, (800, 480))
        renderer.draw(layout)
        (_box, fitted), *_ = [(b, f) for b, f in renderer.fitted if b.scroll is not None]
        assert fitted.size >= 24, "readable, not shrunk to a few pixels"
        first = fitted.lines[0][0]
        if scroll == 0:
            assert fitted.truncated, "more below"
            top = first
    assert first != top, "scrolling shows later lines"
    targets = [b.target for b in layout.targets()]
    assert Command.SCROLL_UP in targets and Command.SCROLL_DOWN in targets
