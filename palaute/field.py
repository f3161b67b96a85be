"""Technician commands: provision, selftest, status (thin handlers)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from palaute import provision as prov


def register_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Set up the parser of one technician command."""
    setup: dict[str, Callable[[argparse.ArgumentParser], None]] = {
        "provision": _provision_args, "selftest": _selftest_args, "status": _status_args,
    }
    setup[name](parser)


# -- provision -----------------------------------------------------------------

def _provision_args(p: argparse.ArgumentParser) -> None:
    p.description = ("Write /etc/palaute/device.toml, create the data folder and database, "
                     "render audio prompts and enable the services. Missing values are asked "
                     "for on a terminal. Re-running changes only what differs.")
    p.add_argument("--id", dest="device_id", help="device id, also its MQTT username")
    p.add_argument("--site", help="site (e.g. tays)")
    p.add_argument("--area", help="service area (toimiala) for reports")
    p.add_argument("--unit", help="unit (e.g. ensiapu)")
    p.add_argument("--roles", help="comma-separated: kiosk,sms,sync")
    p.add_argument("--broker", dest="broker_url", help="broker URL, mqtts://host:8883")
    p.add_argument("--username", default="", help="MQTT username (default: the device id)")
    p.add_argument("--password-file", metavar="FILE", default="",
                   help="a file whose first line is the MQTT password, or - to read it from "
                        "stdin (kept out of the process list and shell history)")
    p.add_argument("--password", default="", help="MQTT password (visible to other users "
                   "while provision runs; prefer --password-file)")
    p.add_argument("--ca-file", default="", help="CA certificate (PEM) of the broker and "
                   "central; copied to ETC/ca.pem")
    p.add_argument("--user", default=prov.SERVICE_USER,
                   help="the service user that runs the units (made by scripts/install.sh)")
    p.add_argument("--survey", default="national",
                   help="shipped survey (national, children, relatives) or a TOML file")
    p.add_argument("--modem", action="append", default=[], dest="modems",
                   help="modem port URL (repeat for several modems)")
    p.add_argument("--enroll", metavar="URL", help="fetch settings from the central's enrolment")
    p.add_argument("--token", help="one-time enrolment token (palaute central enroll-token)")
    p.add_argument("--etc", type=Path, default=prov.Paths.etc, help="config folder")
    p.add_argument("--data", type=Path, default=prov.Paths.data, help="data folder")
    p.add_argument("--units-dir", type=Path, default=prov.Paths.units_dst,
                   help="where unit files go")
    p.add_argument("--no-prompts", action="store_true", help="do not render audio prompts")
    p.add_argument("--dry-run", action="store_true", help="show what would be done; change nothing")
    p.set_defaults(handler=_provision)


def _ask(label: str, current: str | None) -> str:
    if current:
        return current
    if not sys.stdin.isatty():
        raise prov.ProvisionError(f"--{label} is missing (no terminal to ask on)")
    try:
        return input(f"{label}: ").strip()
    except EOFError:
        raise prov.ProvisionError(f"--{label} is missing") from None


def _settings_from_args(args: argparse.Namespace) -> prov.ProvisionSettings:
    # Files named on the command line are read first: a bad one stops us before any fetch.
    ca_pem = prov.read_ca(args.ca_file) if args.ca_file else b""
    if args.password and args.password_file:
        raise prov.ProvisionError("give --password or --password-file, not both")
    password = prov.read_password(args.password_file) if args.password_file else args.password
    if args.enroll:
        if not args.token:
            raise prov.ProvisionError("--enroll needs --token")
        enrolled = prov.fetch_enrolment(args.enroll, args.token, ca_file=args.ca_file or None)
        return prov.merge_local(enrolled, modems=tuple(args.modems), ca_file=args.ca_file,
                                ca_pem=ca_pem)
    roles = _ask("roles", args.roles)
    settings = prov.ProvisionSettings(
        device_id=_ask("id", args.device_id), site=_ask("site", args.site),
        area=_ask("area", args.area), unit=_ask("unit", args.unit),
        roles=tuple(r.strip() for r in roles.split(",") if r.strip()),
        broker_url=args.broker_url or "", username=args.username, password=password,
        ca_file=args.ca_file, ca_pem=ca_pem, survey=args.survey, modems=tuple(args.modems),
    )
    if "sync" in settings.roles and not settings.broker_url:
        settings = prov.merge_local(settings, broker_url=_ask("broker", None))
    return settings


def _provision(args: argparse.Namespace) -> int:
    settings = _settings_from_args(args)
    paths = prov.Paths(etc=args.etc, data=args.data, units_dst=args.units_dir, user=args.user)
    actions = prov.plan(settings, paths, render_prompts=not args.no_prompts)
    for action in actions:
        print(("would " if args.dry_run else "") + action.describe())
    if args.dry_run:
        return 0
    for note in prov.apply(actions, settings, paths):
        print(note)
    print(f"provisioned {settings.device_id} ({', '.join(settings.roles)}); "
          f"config {paths.config}")
    return 0


# -- selftest and status ---------------------------------------------------------

def _selftest_args(p: argparse.ArgumentParser) -> None:
    from palaute import selftest

    selftest.register(p)


def _status_args(p: argparse.ArgumentParser) -> None:
    from palaute import status

    status.register(p)
