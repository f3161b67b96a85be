"""Subcommand enroll-token: a one-time token with which a device provisions itself."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from central.enroll import EnrolmentError, EnrolmentSettings, TokenBook
from central.registry import operator
from survey.config import load_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `enroll-token`."""
    p = sub.add_parser("enroll-token", help="make a one-time enrolment token for a device",
                       description="Prints a token for `palaute provision --enroll URL "
                       "--token T` on the device. Only its hash is kept.")
    p.add_argument("--config", type=Path, required=True, help="the central's config ([enrol])")
    p.add_argument("--device", required=True, help="device id (also its MQTT username)")
    p.add_argument("--site", required=True)
    p.add_argument("--area", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--roles", required=True, help="comma-separated: kiosk,sms,sync")
    p.add_argument("--survey", default="national")
    p.add_argument("--hours", type=float, default=72.0, help="how long the token is valid")
    p.set_defaults(handler=_make_token)


def _make_token(args: argparse.Namespace) -> int:
    settings = EnrolmentSettings.from_config(load_config(args.config))
    if settings is None:
        raise EnrolmentError(f"{args.config}: no [enrol] section; add one to serve enrolment")
    if args.hours <= 0:
        raise EnrolmentError("--hours must be positive")
    book = TokenBook(settings.tokens)
    try:
        token = book.make(
            {"device_id": args.device, "site": args.site, "area": args.area, "unit": args.unit,
             "roles": [r.strip() for r in args.roles.split(",") if r.strip()],
             "survey": args.survey, "made_by": operator()},
            datetime.now(UTC), timedelta(hours=args.hours),
        )
    finally:
        book.close()
    print(token)
    return 0
