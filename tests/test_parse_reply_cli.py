"""`palaute survey parse-reply`: one JSON object per reply, from TEXT or stdin lines."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from palaute.cli import main

KEYS = {"kind", "value", "comment"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(["survey", "parse-reply", *argv])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_text_argument_prints_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, objs = run(["--kind", "nps", "--lang", "fi", "9 hyvä palvelu"], capsys)
    assert code == 0
    assert objs == [{"kind": "answer", "value": 9, "comment": "hyvä palvelu"}]
    assert set(objs[0]) == KEYS


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--kind", "nps", "STOP"], {"kind": "optout", "value": None, "comment": None}),
        (["--kind", "nps", "7-8"], {"kind": "unclear", "value": None, "comment": None}),
        (["--kind", "likert", "täysin samaa mieltä"], {"kind": "answer", "value": 5,
                                                       "comment": None}),
        (["--kind", "smileys", "--lang", "sv", "en"], {"kind": "answer", "value": 1,
                                                       "comment": None}),
        (["--kind", "text", "  Kiva  hoitaja "], {"kind": "answer", "value": None,
                                                 "comment": "Kiva hoitaja"}),
    ],
)
def test_text_argument_kinds(
    argv: list[str], expected: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code, objs = run(argv, capsys)
    assert (code, objs) == (0, [expected])


def test_stdin_lines_give_one_object_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["9/10", "kymppi, kiitos!", "lopeta", "5 tai 6", "", "Ysi\r"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, objs = run(["--kind", "nps"], capsys)
    assert code == 0
    assert objs == [
        {"kind": "answer", "value": 9, "comment": None},
        {"kind": "answer", "value": 10, "comment": None},  # politeness is no comment
        {"kind": "optout", "value": None, "comment": None},
        {"kind": "unclear", "value": None, "comment": None},
        {"kind": "unclear", "value": None, "comment": None},
        {"kind": "answer", "value": 9, "comment": None},
    ]
    assert all(set(o) == KEYS for o in objs)


def test_stdin_through_the_installed_command() -> None:
    """A real pipe into a real process: UTF-8 in, one JSON line per reply out."""
    replies = "täysin samaa mieltä, hyvä\nhelt av annan åsikt\nagree\nSLUTA\nnej tack\n"
    proc = subprocess.run(
        [sys.executable, "-m", "palaute", "survey", "parse-reply", "--kind", "likert"],
        input=replies.encode(), capture_output=True, check=True, timeout=60,
    )
    objs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert objs == [
        {"kind": "answer", "value": 5, "comment": "hyvä"},
        {"kind": "answer", "value": 1, "comment": None},
        {"kind": "answer", "value": 4, "comment": None},
        {"kind": "optout", "value": None, "comment": None},
        {"kind": "decline", "value": None, "comment": None},
    ]


def test_unknown_kind_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["survey", "parse-reply", "--kind", "stars", "9"])
    assert exc.value.code != 0
    assert "stars" in capsys.readouterr().err
