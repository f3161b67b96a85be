"""Subcommands of the device registry: move-device (and register), move-faces, devices."""

from __future__ import annotations

import argparse

from central.cli_receiver import central_db_url
from survey.config import load_config
from survey.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `move-device`, `move-faces` and `devices`."""
    move = sub.add_parser(
        "move-device", help="change (or register) where a device is: its site, area, unit",
        description="The central files a device's answers under its registered site, area and "
        "unit, whatever its payloads say. Each change is kept in the audit trail.")
    move.add_argument("device", metavar="DEVICE")
    move.add_argument("--site")
    move.add_argument("--area")
    move.add_argument("--unit")
    move.add_argument("--by", metavar="NAME", help="who makes the change (default: the login)")
    _db_options(move)
    move.set_defaults(handler=_move)

    faces = sub.add_parser(
        "move-faces", help="move an old face-button kiosk's NPS answers to the face scale",
        description="Older button kiosks stored each face as an NPS value (their [kiosk] "
        "buttons.values). This moves one device's answers to the face scale (question "
        "'faces', 1 saddest .. 5 happiest; four faces 1, 2, 4, 5), audited, in one "
        "transaction.")
    faces.add_argument("--device", required=True, metavar="DEVICE")
    faces.add_argument("--values", required=True, metavar="V,V,…",
                       help="the NPS value each face stored, saddest first (e.g. 0,4,7,9,10)")
    faces.add_argument("--by", metavar="NAME", help="who makes the change (default: the login)")
    _db_options(faces)
    faces.set_defaults(handler=_move_faces)

    devices = sub.add_parser("devices", help="the device registry and its audit trail")
    devices.add_argument("--audit", action="store_true", help="list every change too")
    _db_options(devices)
    devices.set_defaults(handler=_devices)


def _db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="central config ([central] db)")
    p.add_argument("--db", metavar="URL", help="sqlite:///FILE or postgresql://…")


def _url(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    if args.config:
        return central_db_url(load_config(args.config))
    raise ConfigError("--db", "give the database with --db URL or --config FILE")


def _move(args: argparse.Namespace) -> int:
    from central import registry
    from central.store import open_central

    if not (args.site or args.area or args.unit):
        raise ConfigError("move-device", "give at least one of --site, --area, --unit")
    with open_central(_url(args)) as store:
        old = registry.lookup(store, args.device)
        new = registry.move(store, args.device, site=args.site, area=args.area, unit=args.unit,
                            actor=args.by or registry.operator())
    print(f"{new.device}: {new.site} / {new.area} / {new.unit}"
          + ("" if old else " (registered)"))
    if old is not None and old.site != new.site:
        print(f"note: the broker still lets {new.device} publish only under site {old.site}: "
              "re-enrol it, or run broker-config with its new site")
    return 0


def _move_faces(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from central import registry
    from central.faces import move_to_faces
    from central.store import open_central

    try:
        values = [int(v) for v in args.values.split(",")]
    except ValueError:
        raise ConfigError("--values", f"{args.values!r} is not a list of numbers like "
                                      "0,4,7,9,10") from None
    with open_central(_url(args)) as store:
        moved = move_to_faces(store, args.device, values, actor=args.by or registry.operator(),
                              at=datetime.now(UTC))
    print(f"{args.device}: {moved} answers moved to the face scale")
    return 0


def _devices(args: argparse.Namespace) -> int:
    from central import registry
    from central.store import open_central

    with open_central(_url(args)) as store:
        rows = store.execute("SELECT device FROM device_registry ORDER BY device")
        origins = [registry.lookup(store, str(r[0])) for r in rows]
        trail = registry.audit_trail(store) if args.audit else []
    for o in origins:
        if o is not None:
            since = o.enrolled_at.isoformat(timespec="seconds") if o.enrolled_at else "-"
            print(f"{o.device}\t{o.site}\t{o.area}\t{o.unit}\tenrolled {since}")
    for a in trail:
        old = "/".join(a.old.values()) if a.old else "-"
        print(f"{a.at.isoformat(timespec='seconds')}\t{a.device}\t{a.action} by {a.actor}\t"
              f"{old} -> {'/'.join(a.new.values())}")
    return 0
