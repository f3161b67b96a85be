"""`palaute text classify`: JSON topics and tone for a text, or for each stdin line in order."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from palaute.cli import main


def test_text_argument_prints_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["text", "classify", "--lang", "fi", "hyvä lääkäri mutta odotin kaksi tuntia"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "topics": ["laakarit", "aikataulu"], "tone": "mixed"}


def test_stdin_through_the_installed_command_keeps_the_order() -> None:
    texts = "Kiitos!\nHoitaja ei ollut ystävällinen\n\n👎\nAjanvaraus netissä toimi hyvin\n"
    proc = subprocess.run(
        [sys.executable, "-m", "palaute", "text", "classify", "--lang", "fi"],
        input=texts.encode(), capture_output=True, check=True, timeout=60,
    )
    assert [json.loads(line) for line in proc.stdout.decode().splitlines()] == [
        {"topics": [], "tone": "positive"},
        {"topics": ["kohtaaminen", "hoitajat"], "tone": "negative"},
        {"topics": [], "tone": "neutral"},
        {"topics": [], "tone": "negative"},
        {"topics": ["digipalvelut", "ajanvaraus"], "tone": "positive"},
    ]


def test_a_bad_language_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["text", "classify", "--lang", "de", "Gut"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "palaute: error: unknown --lang 'de': use one of fi, sv, en"]
