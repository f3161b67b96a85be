"""`palaute text classify`: topics and tone of free texts, as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys

from survey.topics import LANGUAGES, TopicsError, classify


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `classify`."""
    parser = sub.add_parser(
        "classify",
        help="topics (the counties' 20) and tone of free text (JSON out)",
        description="With TEXT, classifies that one text; without, one text per line of "
        'stdin, one JSON line out for each, in order: {"topics": [...], "tone": "..."}.',
    )
    # Checked by the handler, not by argparse choices, so a wrong language is one line.
    parser.add_argument("--lang", required=True, metavar="|".join(LANGUAGES))
    parser.add_argument("text", nargs="?", metavar="TEXT")
    parser.set_defaults(handler=_classify)


def _classify(args: argparse.Namespace) -> int:
    if args.lang not in LANGUAGES:
        raise TopicsError(f"unknown --lang {args.lang!r}: use one of {', '.join(LANGUAGES)}")
    if args.text is not None:
        print(json.dumps(classify(args.text, args.lang).to_json(), ensure_ascii=False))
        return 0
    for line in sys.stdin:
        result = classify(line.rstrip("\r\n"), args.lang)
        print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
    return 0
