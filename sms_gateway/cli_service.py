"""Subcommands of the SMS survey service: invite, run, status, release.

Config keys (`[sms]`, beside `modems`): hash_key or hash_key_file (required),
window_start 8, window_end 20, timezone "Europe/Helsinki", visit_within_hours 48,
call_within_hours 1, session_hours 72, rate_per_minute 10, multipart_timeout_s 300,
scan_interval_s 60, health_interval_s 30, reply_retention_days 30; `[sms.intake]` url,
ack_url, auth_header, interval 60.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "/etc/palaute/device.toml"


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG,
                        help=f"device config file (default {DEFAULT_CONFIG})")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to `sub`."""
    p = sub.add_parser("invite", help="queue survey invitations from a CSV file",
                       description="Queue invitations from a CSV file with the header row "
                       "unit,time,kind,phone,lang (kind visit or call). Bad rows are "
                       "reported by line number; good rows are kept.")
    p.add_argument("--csv", required=True, type=Path, help="the CSV file")
    _config_arg(p)
    p.set_defaults(handler=cmd_invite)

    p = sub.add_parser("run", help="run the SMS survey service (systemd Type=notify)")
    _config_arg(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("status", help="queues, sessions, counts, errors and modem state")
    _config_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("release", help="let an invitation whose send outcome is unknown go "
                       "out again (the client may get it twice)")
    p.add_argument("id", type=int, help="invitation id (from `palaute sms status`)")
    _config_arg(p)
    p.set_defaults(handler=cmd_release)


def cmd_invite(args: argparse.Namespace) -> int:
    from sms_gateway.invitations import IntakeError, parse_csv
    from sms_gateway.service import open_gateway_store

    _config, gs, settings = open_gateway_store(args.config)
    try:
        try:
            text = args.csv.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise IntakeError(f"{args.csv}: cannot read: {exc}") from None
        good, bad = parse_csv(text, str(args.csv), settings.window.tz)
        now = datetime.now(UTC)
        outcomes = Counter(gs.add_invitation(inv, now, settings.window) for inv in good)
        for problem in bad:
            gs.add_reject(f"csv:{problem.where}", problem.reason, now)
    finally:
        gs.store.close()
    summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "none queued"
    print(f"{args.csv}: {len(good)} good row(s): {summary}; {len(bad)} bad row(s)")
    for problem in bad:
        print(f"{problem}", file=sys.stderr)
    return 1 if bad else 0


def cmd_run(args: argparse.Namespace) -> int:
    from sms_gateway.service import build_gateway

    gateway = build_gateway(args.config)

    def stop(signum: int, frame: Any) -> None:
        # Only a flag: the command in flight (an AT+CMGS) finishes, then the loop ends.
        gateway.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        gateway.run()
    finally:
        gateway.gs.store.close()
    return 0


def _print_status(st: dict[str, Any]) -> None:
    def states(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "empty"

    print(f"invitations: {states(st['invitations'])}")
    print(f"outbox:      {states(st['outbox'])}")
    print(f"inbox:       {st['inbox_pending']} part(s) waiting")
    print(f"sessions:    {st['live_sessions']} live")
    c = st["counters"]
    print("counts:      " + ", ".join(f"{k} {v}" for k, v in c.items()))
    print(f"opted out:   {st['opted_out_numbers']} number(s); rejected items: "
          f"{st['rejected_items']}")
    for u in st["unknown_invitations"]:
        print(f"UNKNOWN:     invitation {u['id']} ({u['unit']}, {u['kind']}, sending at "
              f"{u['sending_at']}): {u['error']} -- release with `palaute sms release {u['id']}`")
    for m in st["modems"]:
        state = "ok" if m["ok"] else ("open" if m["open"] else "down")
        print(f"modem:       {m['url']}: {state}, signal {m['signal']}, registration "
              f"{m['registration']}" + (f", error: {m['error']}" if m["error"] else "")
              + f" (at {m['at']})")
    for e in st["last_errors"]:
        print(f"error:       {e['at']} {e['error']}")


def cmd_status(args: argparse.Namespace) -> int:
    from sms_gateway.service import open_gateway_store

    _config, gs, _settings = open_gateway_store(args.config, create=False)
    try:
        st = gs.status()
    finally:
        gs.store.close()
    if args.json:
        print(json.dumps(st, indent=2, ensure_ascii=False))
    else:
        _print_status(st)
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from sms_gateway.service import open_gateway_store

    _config, gs, settings = open_gateway_store(args.config, create=False)
    try:
        print(gs.release(args.id, datetime.now(UTC), settings.window))
    finally:
        gs.store.close()
    return 0
