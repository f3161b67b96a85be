"""The kiosk app headless through its simulate path: real rows, screenshots, CLI, bad input."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame
import pytest

from kiosk.simulation import simulate
from kiosk.state import Screen
from palaute.cli import main
from survey.config import DeviceIdentity
from survey.definition import shipped_survey_path
from survey.response import Answer, encode_answers, encode_response
from survey.store import Store

HEL = ZoneInfo("Europe/Helsinki")
MORNING = datetime(2025, 3, 4, 10, 0, tzinfo=HEL)


def write_config(tmp_path: Path, kiosk: str = "", survey: str = "national") -> Path:
    path = tmp_path / "device.toml"
    path.write_text(f"""
[device]
id = "tays-lobby-3"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path(survey)}"

[kiosk]
{kiosk if "opening_hours" in kiosk else 'opening_hours = "07:00-21:00"'}
{kiosk if "opening_hours" not in kiosk else ""}
""", encoding="utf-8")
    return path


BUTTONS = """
scale = "smileys5"
questions = ["mood"]
buttons = { pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }
leds = ["GPIO12", "GPIO16", "GPIO20", "GPIO21", "GPIO7"]
burst_count = 4
burst_window = 60
"""


def not_blank(path: Path) -> bool:
    surf = pygame.image.load(str(path))
    colours = {tuple(surf.get_at((x, y))) for x in range(0, surf.get_width(), 7)
               for y in range(0, surf.get_height(), 7)}
    return len(colours) >= 3


def test_touch_session_stores_a_complete_response(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    script = [
        "# a patient answers by touch",
        "touch 0.5 0.7",      # the welcome's language buttons: the middle one is Svenska
        "touch 0.65 0.55",    # NPS row: 0..10 across the screen
        "touch 0.1 0.6",      # s1: leftmost option
        "touch 0.9 0.95",     # s2: skip (bottom right)
        "touch 0.9 0.95",     # s3: skip
        "type Bra bemötande",
        "touch 0.9 0.95",     # send
        "wait 10",
    ]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    assert len(result.rows) == 1
    row = result.rows[0]
    assert (row.channel, row.status, row.lang) == ("kiosk", "complete", "sv")
    assert encode_answers(row.answers) == {"nps": {"value": 7}, "s1": {"value": 1},
                              "open": {"text": "Bra bemötande"}}
    assert sorted(row.flags) == [] and row.device == "tays-lobby-3"
    names = sorted(p.name for p in (tmp_path / "shots").glob("[0-9]*.png"))
    assert names == [f"{i:03d}.png" for i in range(1, len(names) + 1)]
    assert [p.name for p in result.screenshots] == names and len(names) >= 7
    assert all(not_blank(p) for p in result.screenshots)
    assert (tmp_path / "shots" / "prompts.txt").read_text() == ""
    with Store(tmp_path / "store.sqlite") as store:
        assert store.get(row.id) == row


def test_idle_timeout_abandons_with_answers_kept(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "idle_timeout = 30")
    script = ["touch 0.2 0.7", "key 9", "key enter", "wait 29",
              "key 4", "wait 50", "touch 0.5 0.7"]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    (row,) = result.rows
    assert row.status == "abandoned" and encode_answers(row.answers) == {"nps": {"value": 9}}
    # events at 0..2 s, wait 29, "key 4" at 31 s, then 30 s of silence, the warning, 15 s
    assert encode_response(row)["finished_at"] == "2025-03-04T10:01:16+02:00"
    assert any(b.text == "Vastaatko vielä?" for layout in result.layouts for b in layout.boxes)
    assert result.final_state is not None
    assert (result.final_state.screen, result.final_state.lang) == (Screen.QUESTION, "sv")


def test_buttons_and_misuse_flags(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, BUTTONS, survey="children")
    script = [
        "button 4",
        "wait 20",
        "button 2", "wait 0.3", "button 2",    # a quick second press: both flagged, counted
        "wait 0.05", "button 5",               # inside the lockout: not counted, flagged
        "wait 30",
        "button 1", "wait 5", "button 1",      # the fourth and fifth in a minute: burst
        "wait 120", "button 3",
    ]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    got = [(r.answers["mood"].value, sorted(r.flags), r.status) for r in result.rows]
    # The first "2" is still lit when the second comes: both responses carry the flag.
    assert got == [
        (4, [], "complete"),
        (2, ["repeat_press"], "complete"),
        (2, ["repeat_press"], "complete"),
        (1, ["burst"], "complete"),
        (1, ["burst"], "complete"),
        (3, [], "complete"),
    ]
    assert all(r.channel == "kiosk" for r in result.rows)
    with Store(tmp_path / "store.sqlite") as store:
        assert store.counts()["complete"] == 6


def test_night_mode_outside_opening_hours(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    late = datetime(2025, 3, 4, 22, 30, tzinfo=HEL)
    result = simulate(cfg, ["touch 0.5 0.5", "wait 60", "wait 36000"], tmp_path / "s",
                      start=late)
    dark = [layout.dark for layout in result.layouts]
    # night, woken to idle, back to night after a minute, then morning opens it.
    assert dark == [True, False, True, False]
    surf = pygame.image.load(str(result.screenshots[0]))
    assert max(surf.get_at((x, 240))[0] for x in range(0, 800, 4)) < 100
    assert result.rows == []


def test_cli_simulate_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, BUTTONS, survey="children")
    script = tmp_path / "s.txt"
    script.write_text("button 5\n")
    shots = tmp_path / "shots"
    code = main(["kiosk", "simulate", "--config", str(cfg), "--script", str(script),
                 "--screenshots", str(shots), "--start", "2025-03-04T10:00:00+02:00"])
    out = capsys.readouterr().out
    assert code == 0 and "1 responses stored" in out and "complete kiosk" in out
    assert out.rstrip().endswith(f"all screens on {shots / 'contact-sheet.png'}")
    assert (shots / "001.png").exists() and (shots / "prompts.txt").exists()

    script.write_text("button 5\n# fine\ntouch 0.5\n")
    code = main(["kiosk", "simulate", "--config", str(cfg), "--script", str(script),
                 "--screenshots", str(shots)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == f"palaute: error: {script}:3: `touch` needs X and Y as fractions " \
                          "of the screen"


@pytest.mark.parametrize(("kiosk", "survey", "key", "words"), [
    ("buttons = { pins = [\"GPIO5\", \"GPIO99\"] }", "national", "buttons.pins",
     "unknown pin"),
    ("scale = \"smileys4\"\nbuttons = { pins = [\"GPIO5\", \"GPIO6\", \"GPIO13\"] }",
     "children", "scale", "4 faces but there are 3"),
    ("buttons = { pins = [\"GPIO5\", \"GPIO6\", \"GPIO13\", \"GPIO19\", \"GPIO26\"] }",
     "national", "scale", "does not fit"),
    ("scale = \"smileys5\"\nbuttons = { pins = [\"GPIO5\", \"GPIO6\", \"GPIO13\", "
     "\"GPIO19\", \"GPIO26\"], values = [0, 4, 7, 9, 10] }", "national", "buttons.values",
     "move-faces"),
    ("questions = [\"nps\", \"s42\"]", "national", "questions", "no question 's42'"),
    ("opening_hours = \"7-21\"", "national", "opening_hours", "07:00-21:00"),
    ("idle_timout = 30", "national", "idle_timout", "unknown key (did you mean idle_timeout?)"),
    ("min_volume = -10", "national", "min_volume", "18 dB"),
    ("headphone_pin = \"GPIO5\"\nbuttons = { pins = [\"GPIO5\"] }", "national",
     "headphone_pin", "already used"),
])
def test_bad_config_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      kiosk: str, survey: str, key: str, words: str) -> None:
    cfg = write_config(tmp_path, kiosk, survey)
    script = tmp_path / "s.txt"
    script.write_text("wait 1\n")
    code = main(["kiosk", "simulate", "--config", str(cfg), "--script", str(script),
                 "--screenshots", str(tmp_path / "shots")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    section, _, name = f"kiosk.{key}".rpartition(".")
    assert re.match(rf"palaute: error: {re.escape(str(cfg))}:\d+: \[{section}\] {name}: ", err)
    assert words in err


def test_missing_survey_is_one_clear_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace(str(shipped_survey_path("national")),
                                           str(tmp_path / "nope.toml")))
    code = main(["kiosk", "render-prompts", "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 1 and re.match(
        rf"palaute: error: {re.escape(str(cfg))}:\d+: \[survey\] file: survey file", err)


def test_open_response_from_before_a_restart_is_abandoned(tmp_path: Path,
                                                         origin: DeviceIdentity) -> None:
    cfg = write_config(tmp_path)
    with Store(tmp_path / "store.sqlite") as store:
        rid = store.start_response(origin, channel="kiosk", survey="national",
                                   survey_version=1, lang="fi", started_at=MORNING)
        store.set_answer(rid, "nps", value=6, at=MORNING)
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "099.png").write_bytes(b"stale")
    simulate(cfg, ["wait 1"], tmp_path / "shots", start=MORNING)
    with Store(tmp_path / "store.sqlite") as store:
        row = store.get(rid)
    assert row is not None and row.status == "abandoned"
    assert row.answers["nps"] == Answer(value=6)
    assert sorted(p.name for p in (tmp_path / "shots").glob("*.png")) == [
        "001.png", "contact-sheet.png"]
