"""`palaute survey check`: passes the shipped surveys, rejects broken ones precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from palaute.cli import main
from survey.definition import SHIPPED_SURVEYS, shipped_survey_path


def test_survey_check_passes_every_shipped_survey(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(shipped_survey_path(name)) for name in SHIPPED_SURVEYS]
    assert main(["survey", "check", *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{path}: ok" for path in paths]


def test_survey_check_prints_file_line_key_of_each_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = shipped_survey_path("national")
    text = good.read_text(encoding="utf-8")
    text = text.replace('sms = ["nps", "open", "s1"]', 'sms = ["nps", "open", "s1", "s2", "s3"]')
    text = text.replace('text.sv = "Jag fick hjälp när jag behövde det."\n', "")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    lines = text.split("\n")
    sms_line = next(i for i, line in enumerate(lines, 1) if line.startswith("sms = "))
    s1_text_line = next(i for i, line in enumerate(lines, 1)
                        if line.startswith('text.fi = "Sain apua'))

    code = main(["survey", "check", str(good), str(bad)])

    captured = capsys.readouterr()
    assert code == 1
    out = captured.out.splitlines()
    assert out[0] == f"{good}: ok"
    assert f"{bad}:{s1_text_line}: questions[3].text.sv: is missing" in out[1]
    assert out[2].startswith(f"{bad}:{sms_line}: channels.sms: has 5 questions")
    assert len(out) == 3
    assert captured.err.strip() == "palaute: error: 1 of 2 survey file(s) have problems"


def test_survey_check_missing_and_invalid_files_as_a_command(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\nversion = \n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "palaute", "survey", "check", str(missing),
                          str(broken)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{missing}: no such file",
        f"{broken}:2: invalid TOML: Invalid value (column 11)",
    ]
    assert run.stderr.strip() == "palaute: error: 2 of 2 survey file(s) have problems"
