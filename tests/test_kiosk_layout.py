"""Screen layouts at each supported resolution and language: nothing outside its box or cut off."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from kiosk.layout import Layout, Rect, build_layout
from kiosk.screens import Fonts, Renderer, new_surface, save_png
from kiosk.session import Settings, State
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey

RESOLUTIONS = [(800, 480), (1280, 720), (720, 1280)]
LANGS = ["fi", "sv", "en"]


@pytest.fixture(scope="module")
def surveys() -> dict[str, Survey]:
    return {name: load_survey(shipped_survey_path(name)) for name in ("national", "children")}


def screens(surveys: dict[str, Survey]) -> list[tuple[str, Settings, State]]:
    """One state for every kind of screen: attract, language, NPS, Likert, smileys, text…"""
    nat, chi = surveys["national"], surveys["children"]
    n = Settings(survey=nat, questions=tuple(nat.questions[q] for q in ("nps", "s2", "open")))
    smileys5 = Settings(survey=chi, questions=(chi.questions["mood"], chi.questions["c1"]),
                        scale="smileys5")
    smileys4 = replace(smileys5, scale="smileys4", face_values=(1, 2, 4, 5))
    return [
        ("idle", n, State()),
        ("night", n, State(screen="night")),
        ("language", n, State(screen="language", cursor=1)),
        ("nps", n, State(screen="question", index=0, cursor=10)),
        ("likert", n, State(screen="question", index=1, cursor=2)),
        ("text", n, State(screen="text", index=2,
                          text="Hyvä ja ystävällinen palvelu, kiitos! " * 3)),
        ("text-full", n, State(screen="text", index=2, text="å" * 500)),
        ("smileys5", smileys5, State(screen="question", index=0)),
        ("smileys4", smileys4, State(screen="question", index=0, cursor=3)),
        ("children-likert", smileys5, State(screen="question", index=1)),
        ("thanks", n, State(screen="thanks")),
    ]


def test_finnish_and_swedish_letters_have_glyphs() -> None:
    font = Fonts().get(32)
    assert all(m is not None for m in font.metrics("äöåÄÖÅ"))


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
            if box.kind != "field":
                assert not fitted.truncated, f"{name} {lang} {size}: {box.text!r} cut off"
            assert fitted.lines, f"{name}: {box.text!r} not drawn"
            for line, rect in fitted.lines:
                assert box.rect.contains(rect), f"{name} {size}: {line!r} outside its box"
        _targets_apart(layout, name)
        png = tmp_path / f"{name}.png"
        save_png(renderer.surface, str(png))
        _not_blank(png, dark=layout.dark)


def _targets_apart(layout: Layout, name: str) -> None:
    targets = [b for b in layout.boxes if b.target is not None]
    # Night and thanks screens answer a touch anywhere.
    assert targets or name in ("night", "thanks"), f"{name}: nothing to touch"
    for a, b in itertools.combinations(targets, 2):
        overlap = not (a.rect.right <= b.rect.x or b.rect.right <= a.rect.x
                       or a.rect.bottom <= b.rect.y or b.rect.bottom <= a.rect.y)
        assert not overlap, f"{name}: touch targets {a.target} and {b.target} overlap"
    for t in targets:
        assert min(t.rect.w, t.rect.h) >= 30, f"{name}: {t.target} is too small to touch"
        assert layout.hit(t.rect.x + t.rect.w / 2, t.rect.y + t.rect.h / 2) == t.target


def _not_blank(png: Path, *, dark: bool) -> None:
    surf = pygame.image.load(str(png))
    colours = {tuple(surf.get_at((x, y)))[:3] for x in range(0, surf.get_width(), 5)
               for y in range(0, surf.get_height(), 5)}
    assert len(colours) >= (2 if dark else 3), f"{png.name} looks blank"


def test_smileys_differ_in_shape_not_only_colour(surveys: dict[str, Survey]) -> None:
    _, settings, state = screens(surveys)[7]
    layout = build_layout(state, settings, (800, 480))
    faces = [b for b in layout.boxes if b.kind == "face"]
    assert [b.face for b in faces] == [1, 2, 3, 4, 5]
    renderer = Renderer(new_surface((800, 480)))
    renderer.draw(layout)
    # Draw each face in white on black and compare the pixel masks: every pair differs.
    masks = []
    for box in faces:
        crop = renderer.surface.subsurface(pygame.Rect(*box.rect))
        masks.append(pygame.mask.from_threshold(crop, (255, 255, 255), (40, 40, 40, 255)))
    for a, b in itertools.combinations(range(5), 2):
        assert masks[a].overlap_area(masks[b], (0, 0)) < masks[a].count(), (a, b)
        assert masks[a].count() != masks[b].count() or a + b == 4
    labels = [b.text for b in layout.boxes if b.kind == "text" and b.target is None][1:]
    assert len(set(labels)) == 5, "each face carries its own label"
