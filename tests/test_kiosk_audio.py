"""The audio mode driven by keys alone, checked by what it speaks; espeak-ng prompts."""

from __future__ import annotations

import shutil
import wave
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hardware.audio import PromptCache
from kiosk.app import load_kiosk
from kiosk.audio_mode import all_prompts
from kiosk.simulation import simulate
from kiosk.texts import ui
from palaute.cli import main
from survey.definition import shipped_survey_path
from survey.labels import likert_labels
from survey.response import encode_answers

MORNING = datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


def write_config(tmp_path: Path, extra: str = "",
                 questions: str = '["nps", "open", "s1"]') -> Path:
    path = tmp_path / "device.toml"
    path.write_text(f"""
[device]
id = "tays-lobby-3"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("national")}"

[kiosk]
questions = {questions}
prompts_dir = "prompts"
{extra}
""", encoding="utf-8")
    return path


def spoken(tmp_path: Path, name: str = "shots") -> list[str]:
    return (tmp_path / name / "prompts.txt").read_text(encoding="utf-8").splitlines()


def test_whole_audio_session_by_keys(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    script = [
        "key audio",                    # audio key: the languages, each in its own words
        "key 3",                        # English
        "key enter",                    # chosen: the intro in English, then the NPS question
        "hold repeat",                  # what does * do? (and nothing else)
        "key 7",                        # straight to 7
        "key enter",                    # confirm step
        "key back",                     # change it
        "key 1", "key 0",               # two digits in a row: 10
        "key enter",                    # confirm
        "key enter",                    # send; free text skipped; statement s1
        "key repeat",
        "key vol+", "key vol+", "key rate",
        "key 9",                        # no such option on a 1-5 scale
        "key 5", "key enter", "key enter",
        "wait 10",
    ]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    lines = spoken(tmp_path)
    survey = load_kiosk(cfg).survey
    nps_en = survey.questions["nps"].prompt("en")
    s1_en = survey.questions["s1"].prompt("en")
    assert lines[:4] == ["fi\tSuomi: paina 1", "sv\tSvenska: tryck 2", "en\tEnglish: press 3",
                         "fi\tValitse kielen numero ja paina Enter."]
    assert lines[4] == "en\tEnglish: press 3"
    assert lines[5] == f"en\t{ui('audio_on', 'en')}", "the intro in the chosen language"
    hint10 = "en\tChoose with a number key and confirm with Enter. For 10, press 1 then 0."
    assert lines[6:9] == [f"en\t{nps_en}", "en\t0 means Very unlikely, 10 means Very likely.",
                          hint10]
    assert lines[9] == "en\tStar: says it again"
    assert lines[10:12] == ["en\t7, of 0 to 10",
                            "en\tYou chose 7. Press Enter to send, slash to change."]
    assert lines[12:16] == ["en\t7, of 0 to 10", "en\t1, of 0 to 10", "en\t10, of 0 to 10",
                            "en\tYou chose 10. Press Enter to send, slash to change."]
    hint = "en\tChoose with a number key and confirm with Enter."
    low, high = likert_labels("en")[0], likert_labels("en")[4]
    s1_ends = f"en\t1 means {low}, 5 means {high}."
    # "open" (free text) is skipped in audio mode: straight to s1.
    assert lines[16:20] == ["en\tSaved.", f"en\t{s1_en}", s1_ends, hint]
    assert lines[20:23] == [f"en\t{s1_en}", s1_ends, hint], "repeat says the question again"
    assert "en\tVolume 8 of 12" in lines and "en\tSpeech rate 5 of 8" in lines
    assert "en\tThere is no option 9. The options are 1 to 5." in lines
    assert lines[-3:] == [f"en\tYou chose 5, {high}. Press Enter to send, slash to change.",
                          "en\tSaved.", f"en\t{survey.message('kiosk_thanks', 'en')}"]
    (row,) = result.rows
    assert (row.channel, row.status, row.lang) == ("kiosk-audio", "complete", "en")
    assert encode_answers(row.answers) == {"nps": {"value": 10}, "s1": {"value": 5}}
    # Louder and faster for the rest of this session only.
    assert result.prompts[-1].volume_db == -12.0 and result.prompts[-1].rate == 180
    assert result.final_state is not None
    assert result.final_state.volume_db == -18.0 and result.final_state.rate == 160


def test_headphones_start_audio_mute_speaker_and_warn(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "audio_idle_timeout = 90\naudio_warning = 20")
    script = ["headphones in", "key enter", "key 0", "key enter", "key enter",
              "wait 70", "key 3", "wait 90", "headphones out"]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    lines = spoken(tmp_path)
    still = load_kiosk(cfg).survey.message("kiosk_still_there", "fi")
    assert lines.count(f"fi\t{still}") == 2  # after 70 s of silence, and again later
    assert all(p.speaker_muted for p in result.prompts), "speaker muted while headphones in"
    (row,) = result.rows
    assert row.channel == "kiosk-audio" and row.status == "abandoned"
    assert encode_answers(row.answers) == {"nps": {"value": 0}}


def test_headphones_out_and_back_in_a_whole_session_from_keys(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "headphones_grace = 15")
    script = ["headphones in", "key enter", "key 8", "key enter", "key enter",
              "headphones out",
              "touch 0.1 0.6", "button 1", "key 2", "key enter", "key enter",  # not theirs
              "wait 5", "headphones in", "key 4", "key enter", "key enter", "wait 10"]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    (row,) = result.rows
    assert (row.channel, row.status) == ("kiosk-audio", "complete")
    assert encode_answers(row.answers) == {"nps": {"value": 8}, "s1": {"value": 4}}
    assert "fi\tJatketaan." in spoken(tmp_path)
    assert all(p.speaker_muted for p in result.prompts), "never a word from the speaker"


def test_headphones_out_for_good_ends_silently_and_the_next_tap_is_not_theirs(
        tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "headphones_grace = 15")
    script = ["headphones in", "key enter", "key 8", "key enter", "key enter",
              "headphones out", "wait 20",
              "touch 0.2 0.7", "touch 0.5 0.55"]  # the next person, by touch
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    blind, nxt = result.rows
    assert (blind.channel, blind.status) == ("kiosk-audio", "abandoned")
    assert encode_answers(blind.answers) == {"nps": {"value": 8}}
    assert nxt.channel == "kiosk" and "nps" in encode_answers(nxt.answers)
    lines = spoken(tmp_path)
    thanks = load_kiosk(cfg).survey.message("kiosk_thanks", "fi")
    assert f"fi\t{thanks}" not in lines and all(p.speaker_muted for p in result.prompts)
    assert lines[-1] != "fi\t" + ui("stop_confirm", "fi")


def test_esc_asks_first_then_stops(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    script = ["headphones in", "key enter", "key 6", "key enter", "key enter",
              "key esc", "key 5",            # carry on
              "key esc", "key enter"]        # stop
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    (row,) = result.rows
    assert row.status == "abandoned" and encode_answers(row.answers) == {"nps": {"value": 6}}
    lines = spoken(tmp_path)
    assert lines.count(f"fi\t{ui('stop_confirm', 'fi')}") == 2
    assert lines[-1] == f"fi\t{ui('stopped', 'fi')}"


def test_touch_user_is_not_spoken_to(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    simulate(cfg, ["touch 0.2 0.7", "touch 0.5 0.55", "touch 0.97 0.55"], tmp_path / "shots",
             start=MORNING)
    assert spoken(tmp_path) == []


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_render_prompts_real_wavs_cover_what_is_spoken(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, 'languages = ["fi", "en"]', questions='["nps", "s1"]')
    assert main(["kiosk", "render-prompts", "--config", str(cfg)]) == 0
    first = capsys.readouterr().out
    loaded = load_kiosk(cfg)
    expected = all_prompts(loaded.kiosk.settings)
    assert first == f"{len(expected)} prompts rendered, 0 already cached\n"
    assert main(["kiosk", "render-prompts", "--config", str(cfg)]) == 0
    assert capsys.readouterr().out == f"0 prompts rendered, {len(expected)} already cached\n"
    cache = PromptCache(tmp_path / "prompts")
    wavs = sorted((tmp_path / "prompts").glob("*.wav"))
    assert len(wavs) == len(expected)
    with wave.open(str(cache.path("7, of 0 to 10", "en", 160)), "rb") as w:
        assert w.getnframes() > w.getframerate() * 0.3  # at least 0.3 s of speech
        assert w.getnchannels() == 1
    # An audio session at the default rate needs nothing rendered on demand.
    script = ["key audio", "key 2", "key enter", "key 5", "key enter", "key back",
              "hold vol+", "key enter", "key enter", "key 3", "key enter", "key enter", "key 9",
              "key esc", "key 4"]
    result = simulate(cfg, script, tmp_path / "shots", start=MORNING)
    assert result.prompts
    missing = [p.text for p in result.prompts if not cache.path(p.text, p.lang, p.rate).exists()]
    assert missing == []
