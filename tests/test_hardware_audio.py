"""Speech prompts: espeak-ng rendering cached by hash, mixer playback, the tone fallback."""

from __future__ import annotations

import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.audio import (
    AudioError,
    MixerAudio,
    PromptCache,
    SimulatedAudio,
    db_to_gain,
    prompt_key,
)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")


@pytest.fixture
def mixer(tmp_path: Path) -> Iterator[MixerAudio]:
    audio = MixerAudio(PromptCache(tmp_path / "prompts"))
    yield audio
    audio.close()


def test_key_depends_on_text_language_and_rate() -> None:
    base = prompt_key("7, of 0 to 10", "en", 160)
    assert base == prompt_key("7, of 0 to 10", "en", 160)
    others = {prompt_key("8, of 0 to 10", "en", 160), prompt_key("7, of 0 to 10", "fi", 160),
              prompt_key("7, of 0 to 10", "en", 180)}
    assert base not in others and len(others) == 3


def test_volume_range_in_db() -> None:
    assert db_to_gain(0) == 1.0
    assert db_to_gain(-20) == pytest.approx(0.1)
    # The kiosk's default range, -24..0 dB, is 16x in amplitude: more than 18 dB.
    assert db_to_gain(0) / db_to_gain(-24) > 10 ** (18 / 20)


@needs_espeak
def test_render_writes_a_wav_once(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "p")
    path = cache.render("Valitsit 7. Lähetä painamalla enter.", "fi", 160)
    assert path == cache.path("Valitsit 7. Lähetä painamalla enter.", "fi", 160)
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
    slow = cache.render("Valitsit 7. Lähetä painamalla enter.", "fi", 100)
    with wave.open(str(slow), "rb") as w:
        assert w.getnframes() / w.getframerate() > seconds * 1.2  # a slower rate is longer
    mtime = path.stat().st_mtime_ns
    assert cache.render("Valitsit 7. Lähetä painamalla enter.", "fi", 160) == path
    assert path.stat().st_mtime_ns == mtime, "a cached prompt is not rendered again"
    assert sorted(p.suffix for p in (tmp_path / "p").iterdir()) == [".wav", ".wav"]


def test_missing_espeak_is_an_error_and_get_gives_none(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "p", espeak="no-such-espeak")
    with pytest.raises(AudioError, match="no-such-espeak is not installed"):
        cache.render("hello", "en", 160)
    assert cache.get("hello", "en", 160) is None


def test_tone_replaces_a_prompt_that_cannot_be_had(tmp_path: Path) -> None:
    audio = MixerAudio(PromptCache(tmp_path / "p", espeak="no-such-espeak"))
    try:
        audio.say([("hello", "en")], 160)
        assert audio.busy, "a tone plays instead of silence or a crash"
        audio.stop()
        assert not audio.busy
    finally:
        audio.close()
        audio.close()


@needs_espeak
def test_mixer_plays_rendered_prompts_back_to_back(mixer: MixerAudio) -> None:
    mixer.set_volume(-12)
    mixer.say([("Suomi", "fi"), ("English", "en")], 160)
    assert mixer.busy
    assert len(list(mixer.cache.folder.glob("*.wav"))) == 2, "missing prompts rendered on demand"
    mixer.say([("Svenska", "sv")], 160)  # interrupts what was playing
    assert mixer.busy
    mixer.stop()
    assert not mixer.busy


def test_simulated_twin_records_what_was_said() -> None:
    audio = SimulatedAudio(volume_db=-9)
    audio.say([("Suomi, 1 / 3", "fi")], 160)
    audio.set_volume(-3)
    audio.set_speaker_muted(True)
    audio.say([("Svenska, 2 av 3", "sv")], 180)
    assert [(p.text, p.lang, p.rate, p.volume_db, p.speaker_muted) for p in audio.played] == [
        ("Suomi, 1 / 3", "fi", 160, -9, False), ("Svenska, 2 av 3", "sv", 180, -3, True)]
    assert audio.stops == 2


def test_prompt_that_cannot_be_rendered_gives_a_tone_not_a_crash(tmp_path: Path) -> None:
    # An espeak-ng that cannot be started (broken install: its interpreter is gone).
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    broken.chmod(0o755)
    cache = PromptCache(tmp_path / "prompts", espeak=str(broken))
    with pytest.raises(AudioError):
        cache.render("Kiitos", "fi", 160)
    assert cache.get("Kiitos", "fi", 160) is None  # MixerAudio plays its tone instead
    assert list((tmp_path / "prompts").iterdir()) == [], "no temporary file left behind"
