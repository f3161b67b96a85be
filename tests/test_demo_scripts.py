"""The demo's kiosk patients: touches hit their targets; the kiosk stores what they meant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.app import load_kiosk
from kiosk.events import Command, PickLanguage, PickOption, Target
from kiosk.layout import build_layout
from kiosk.simulation import simulate
from kiosk.state import Screen, SessionState
from palaute.demo_chain import BUTTONS, LOBBY, Folders, write_configs
from palaute.demo_scripts import (
    Kiosk,
    Patient,
    button_kiosk_patients,
    script,
    script_seconds,
    touch,
    touch_kiosk_patients,
)
from survey.response import encode_answers

MORNING = datetime(2025, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    f = Folders(tmp_path_factory.mktemp("demo"))
    write_configs(f, 1883)
    return f


def kiosk_of(folders: Folders, device: str) -> Kiosk:
    loaded = load_kiosk(folders.config(device))
    return Kiosk(loaded.kiosk.settings, loaded.kiosk.resolution)


def test_a_touch_lands_on_its_target(folders: Folders) -> None:
    k = kiosk_of(folders, LOBBY)
    w, h = k.size
    cases: list[tuple[SessionState, Target]] = [
        (SessionState(), PickLanguage("sv")),
        (SessionState(screen=Screen.LANGUAGE, audio=True), PickLanguage("en")),
        (SessionState(screen=Screen.QUESTION, index=0, lang="fi"), PickOption(10)),
        (SessionState(screen=Screen.QUESTION, index=1, lang="sv"), PickOption(0)),
        (SessionState(screen=Screen.TEXT, index=4, lang="en"), Command.SEND)]
    for state, target in cases:
        _, x, y = touch(k, state, target).split()
        assert build_layout(state, k.settings, k.size).hit(float(x) * w, float(y) * h) == target
    with pytest.raises(ValueError, match=r"no <Command\.SEND"):
        touch(k, SessionState(screen=Screen.QUESTION, index=0), Command.SEND)


def rows_of(result_rows: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    out: Counter[tuple[object, ...]] = Counter()
    for r in result_rows:
        answers = encode_answers(r.answers)
        assert isinstance(answers, dict)
        flags = sorted(r.flags)
        assert isinstance(flags, list)
        first = answers.get("nps") or answers["faces"]
        out[(r.channel, r.status, first["value"], tuple(sorted(flags)))] += 1
    return out


@pytest.mark.parametrize(("device", "maker"), [(LOBBY, touch_kiosk_patients),
                                               (BUTTONS, button_kiosk_patients)])
def test_the_kiosk_stores_what_each_patient_meant(
        folders: Folders, tmp_path: Path, device: str,
        maker: Callable[[Kiosk, int, int], list[Patient]]) -> None:
    k = kiosk_of(folders, device)
    patients = maker(k, 7, 1)
    result = simulate(folders.config(device), script(patients).splitlines(), tmp_path,
                      start=MORNING)
    assert rows_of(result.rows) == Counter(
        (p.channel, p.status, p.nps if p.face is None else p.face, tuple(sorted(p.flags)))
        for p in patients)


def test_the_lobby_has_every_kind_of_patient(folders: Folders) -> None:
    patients = touch_kiosk_patients(kiosk_of(folders, LOBBY), 3)
    kinds = Counter((p.channel, p.status) for p in patients)
    assert kinds == {("kiosk", "complete"): 3, ("kiosk-audio", "complete"): 1,
                     ("kiosk", "abandoned"): 1}
    audio = next(p for p in patients if p.channel == "kiosk-audio")
    assert not any(line.startswith(("touch", "button")) for line in audio.lines)
    buttons = button_kiosk_patients(kiosk_of(folders, BUTTONS), 3)
    assert [p.flags for p in buttons] == [(), ("repeat_press",)]
    assert all(line.startswith(("#", "button", "wait")) for p in buttons for line in p.lines)


def test_the_same_seed_gives_the_same_patients(folders: Folders) -> None:
    k = kiosk_of(folders, LOBBY)
    assert touch_kiosk_patients(k, 5, 2) == touch_kiosk_patients(k, 5, 2)
    assert script(touch_kiosk_patients(k, 5, 2)) != script(touch_kiosk_patients(k, 6, 2))


def test_script_seconds_counts_events_and_waits() -> None:
    assert script_seconds("# a patient\ntouch 0.5 0.5\nwait 30\nkey enter\n\nwait 0.5\n") == 32.5
