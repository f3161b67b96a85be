"""`palaute survey check` and `palaute survey parse-reply`."""

from __future__ import annotations

import argparse
import json
import sys

from survey.definition import check_file
from survey.errors import PalauteError
from survey.model import KINDS, LANGUAGES
from survey.replies import read_reply


class SurveyCheckFailed(PalauteError):
    """At least one survey file has problems (they were printed above)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `check` and `parse-reply`."""
    check = sub.add_parser("check", help="validate survey files; print every problem")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=_check)

    parse = sub.add_parser(
        "parse-reply",
        help="read an SMS reply as an answer, an opt-out or unclear (JSON out)",
        description="With TEXT, reads that one reply; without, one reply per line of stdin.",
    )
    parse.add_argument("--kind", required=True, choices=KINDS)
    parse.add_argument("--lang", choices=LANGUAGES, default=None)
    parse.add_argument("text", nargs="?", metavar="TEXT")
    parse.set_defaults(handler=_parse_reply)


def _check(args: argparse.Namespace) -> int:
    bad = 0
    for path in args.files:
        problems = check_file(path)
        for problem in problems:
            print(problem)
        if problems:
            bad += 1
        else:
            print(f"{path}: ok")
    if bad:
        raise SurveyCheckFailed(f"{bad} of {len(args.files)} survey file(s) have problems")
    return 0


def _parse_reply(args: argparse.Namespace) -> int:
    if args.text is not None:
        print(json.dumps(read_reply(args.text, args.kind, args.lang).to_json(), ensure_ascii=False))
        return 0
    for line in sys.stdin:
        reply = read_reply(line.rstrip("\r\n"), args.kind, args.lang)
        print(json.dumps(reply.to_json(), ensure_ascii=False), flush=True)
    return 0
