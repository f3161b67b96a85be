"""Subcommands of the SMS survey service: invite, run, status, release.

Config keys (`[sms]`, beside `modems`): hash_key or hash_key_file (required),
window_start 8, window_end 20, timezone "Europe/Helsinki", visit_within_hours 48,
call_within_hours 1, session_hours 72, rate_per_minute 10, multipart_timeout_s 300,
scan_interval_s 60, health_interval_s 30, reply_retention_days 30, rest_days 30;
`[sms.intake]` url, ack_url, auth_header, interval 60.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime, tzinfo
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
                       "out again (the client may get it twice)",
                       description="Release one unknown invitation by its id, or every one "
                       "whose send began before TIME (--all-unknown --before TIME). Only an "
                       "invitation with no reply and its deadline still ahead is released.")
    p.add_argument("id", type=int, nargs="?", help="invitation id (from `palaute sms status`)")
    p.add_argument("--all-unknown", action="store_true",
                   help="every unknown invitation whose send began before --before")
    p.add_argument("--before", metavar="TIME",
                   help="with --all-unknown: ISO time, e.g. 2025-03-04T14:05 (local time of "
                   "[sms] timezone unless it has an offset)")
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
    # SIGTERM/SIGINT only set the gateway's stop flag (the runner's): the command in
    # flight (an AT+CMGS) finishes, then the loop ends.
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
    sessions = {"live": 0, **st["sessions"]}
    print(f"sessions:    {states(sessions)}")
    c = st["counters"]
    # "expired" counts invitations that expired unsent; expired sessions are above.
    print("counts:      " + ", ".join(
        f"{'expired unsent' if k == 'expired' else k} {v}" for k, v in c.items()))
    print(f"opted out:   {st['opted_out_numbers']} number(s); rejected items: "
          f"{st['rejected_items']}")
    for u in st["unknown_invitations"]:
        left = (f"deadline {u['deadline']} (in {_span(u['left_s'])})" if u["releasable"]
                else f"deadline {u['deadline']} passed: it cannot be released")
        print(f"UNKNOWN:     invitation {u['id']} ({u['unit']}, {u['kind']}), send began "
              f"{u['sending_at']} ({_span(u['age_s'])} ago), {left}: {u['error']}"
              + (f" -- release with `palaute sms release {u['id']}`" if u["releasable"]
                 else ""))
    for m in st["modems"]:
        state = "ok" if m["ok"] else ("open" if m["open"] else "down")
        print(f"modem:       {m['url']}: {state}, signal {m['signal']}, registration "
              f"{m['registration']}" + (f", error: {m['error']}" if m["error"] else "")
              + f" (at {m['at']})")
    for e in st["last_errors"]:
        print(f"error:       {e['at']} {e['error']}")


def _span(seconds: int | None) -> str:
    """`2 d 3 h`, `3 h 5 min`, `4 min`: a duration for a person."""
    if seconds is None:
        return "?"
    minutes = max(0, seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def cmd_status(args: argparse.Namespace) -> int:
    from sms_gateway.service import open_gateway_store

    _config, gs, _settings = open_gateway_store(args.config, create=False)
    try:
        st = gs.status(datetime.now(UTC))
    finally:
        gs.store.close()
    if args.json:
        print(json.dumps(st, indent=2, ensure_ascii=False))
    else:
        _print_status(st)
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from sms_gateway.errors import SmsGatewayError
    from sms_gateway.service import open_gateway_store

    if args.all_unknown == (args.id is not None):
        raise SmsGatewayError("release: give one invitation id, or --all-unknown --before TIME")
    if args.all_unknown and not args.before:
        raise SmsGatewayError("release --all-unknown needs --before TIME (the sends that began "
                              "before it; look at `palaute sms status` first)")
    if args.before and not args.all_unknown:
        raise SmsGatewayError("release: --before is only for --all-unknown")
    _config, gs, settings = open_gateway_store(args.config, create=False)
    try:
        now = datetime.now(UTC)
        if args.id is not None:
            print(gs.release(args.id, now, settings.window))
            return 0
        before = _time_arg(args.before, settings.window.tz)
        released, refused = gs.release_all_unknown(before, now, settings.window)
    finally:
        gs.store.close()
    for inv_id in released:
        print(f"invitation {inv_id} released: it will be sent in its next allowed moment")
    for inv_id, why in refused:
        print(f"invitation {inv_id} not released: {why}")
    print(f"{len(released)} released, {len(refused)} not released (unknown sends that began "
          f"before {before.isoformat(timespec='minutes')})")
    return 0


def _time_arg(text: str, tz: tzinfo) -> datetime:
    from sms_gateway.errors import SmsGatewayError

    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise SmsGatewayError(f"release: --before {text!r} is not an ISO time (e.g. "
                              "2025-03-04T14:05 or 2025-03-04T14:05+02:00)") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=tz)
