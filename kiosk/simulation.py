"""`palaute kiosk simulate`: the kiosk headless from a script, on a simulated clock.

The same KioskCore as a device, with the recording audio twin; the bookkeeping
(every screen, every prompt, the responses written) lives here, in the
simulation only. Writes NNN.png per screen, contact-sheet.png (every screen of
the run on one page, for review) and prompts.txt.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hardware.audio import Played, SimulatedAudio
from kiosk.app import KioskCore, LoadedKiosk, load_kiosk
from kiosk.layout import Layout
from kiosk.script import ScriptLine, Wait, parse_script
from kiosk.state import SessionState, is_open
from survey.errors import ConfigError, PalauteError
from survey.model import Survey
from survey.response import Response
from survey.store import Store

# Simulated time between two script events with no `wait` between them.
PACE = timedelta(seconds=1)
CONTACT_SHEET = "contact-sheet.png"
SHEET_COLUMNS = 4
SHEET_WIDTH = 1600  # pixels across the whole sheet


class SimulationError(PalauteError):
    """A simulation that cannot write its screenshots or prompts."""


@dataclass
class SimulationResult:
    """What a simulation did: the responses it stored, the prompts spoken, the PNGs written."""

    rows: list[Response]
    prompts: list[Played]
    screenshots: list[Path]
    store_path: Path
    layouts: list[Layout] = field(default_factory=list)
    final_state: SessionState | None = None
    contact_sheet: Path | None = None


def _default_start(loaded: LoadedKiosk) -> datetime:
    """Now, or (outside opening hours) the latest moment the kiosk was open today/yesterday."""
    s = loaded.kiosk.settings
    now = datetime.now(s.timezone).replace(microsecond=0)
    if is_open(s, now) or s.opening_hours is None:
        return now
    start = s.opening_hours[0]
    day = now.date() if now.time() >= start else now.date() - timedelta(days=1)
    return datetime.combine(day, start, tzinfo=s.timezone) + timedelta(hours=1)


def _script_lines(script: str | Path | Sequence[str]) -> tuple[list[str], str]:
    if isinstance(script, str | Path):
        path = Path(script)
        try:
            return path.read_text(encoding="utf-8").splitlines(), str(path)
        except FileNotFoundError:
            raise ConfigError(path, "script file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(path, f"cannot read the script: {exc}") from None
    return list(script), "script"


def _prepare(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in [*out.glob("[0-9][0-9][0-9].png"), out / CONTACT_SHEET]:
            old.unlink(missing_ok=True)  # numbering must describe this run only
    except OSError as exc:
        raise SimulationError(f"{out}: cannot use the screenshot folder: "
                              f"{exc.strerror}") from None


def simulate(config_path: str | Path, script: str | Path | Sequence[str],
             screenshots_dir: str | Path, *, start: datetime | None = None,
             survey: Survey | None = None) -> SimulationResult:
    """Run the kiosk headless from a script (a file path or its lines) on a simulated clock.

    Writes NNN.png for every screen shown, contact-sheet.png with all of them, and
    prompts.txt (one spoken prompt a line, "lang<TAB>text") into `screenshots_dir`,
    and real rows into the store.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from kiosk.screens import Renderer, new_surface, save_png

    lines, source = _script_lines(script)
    steps = parse_script(lines, source)  # every line checked before anything runs
    loaded = load_kiosk(config_path, survey)
    out = Path(screenshots_dir)
    _prepare(out)
    renderer = Renderer(new_surface(loaded.kiosk.resolution))
    shots: list[Path] = []
    layouts: list[Layout] = []
    response_ids: list[str] = []

    def on_frame(layout: Layout) -> None:
        renderer.draw(layout)
        path = out / f"{len(shots) + 1:03d}.png"
        save_png(renderer.surface, str(path))
        shots.append(path)
        layouts.append(layout)

    now = start or _default_start(loaded)
    store_path = loaded.config.store_path()
    speech = SimulatedAudio(loaded.kiosk.settings.volume_db)
    with Store(store_path) as store:
        core = KioskCore(loaded, store, speech, on_frame=on_frame,
                         on_response=response_ids.append, now=now)
        core.refresh()
        now = run_steps(core, steps, now)
        rows = [r for r in (store.get(rid) for rid in response_ids) if r is not None]
    prompts = list(speech.played)
    (out / "prompts.txt").write_text(
        "".join(f"{p.lang}\t{p.text}\n" for p in prompts), encoding="utf-8")
    sheet = write_contact_sheet(shots, out / CONTACT_SHEET) if shots else None
    return SimulationResult(rows, prompts, shots, store_path, layouts, core.state, sheet)


def run_steps(core: KioskCore, steps: list[ScriptLine], now: datetime) -> datetime:
    """Drive `core` through script lines on the simulated clock; the time at the end."""
    pace_due = False
    for s in steps:
        if isinstance(s.action, Wait):
            # A wait sets the gap to the next event exactly (0.1 s for a quick double press).
            now += timedelta(seconds=s.action.seconds)
            core.advance(now)
            pace_due = False
            continue
        if pace_due:
            now += PACE  # events a human's pace apart unless a wait says otherwise
        core.advance(now)
        core.feed(s.action, now)
        pace_due = True
    # One more beat after the last event (a pressed face is lit for a moment first).
    now += PACE if pace_due else timedelta(0)
    core.advance(now)
    return now


def write_contact_sheet(shots: list[Path], path: Path) -> Path:
    """Every screenshot, scaled down and numbered, in a grid on one PNG."""
    import pygame

    from kiosk.screens import Fonts

    first = pygame.image.load(str(shots[0]))
    w, h = first.get_size()
    columns = min(SHEET_COLUMNS, len(shots))
    gap, label = 12, 28
    cell_w = (SHEET_WIDTH - gap * (columns + 1)) // columns
    cell_h = cell_w * h // w
    rows = math.ceil(len(shots) / columns)
    sheet: Any = pygame.Surface((SHEET_WIDTH, gap + rows * (cell_h + label + gap)))
    sheet.fill((60, 60, 66))
    fonts = Fonts()
    for i, shot in enumerate(shots):
        x = gap + (i % columns) * (cell_w + gap)
        y = gap + (i // columns) * (cell_h + label + gap)
        sheet.blit(fonts.render(f"{i + 1:03d}", 30, (255, 255, 255)), (x, y))
        image = first if i == 0 else pygame.image.load(str(shot))
        sheet.blit(pygame.transform.smoothscale(image, (cell_w, cell_h)), (x, y + label))
    try:
        pygame.image.save(sheet, str(path))
    except pygame.error as exc:
        raise SimulationError(f"{path}: cannot write the contact sheet: {exc}") from None
    return path
