"""Subcommands decode-pdu and encode-pdu."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from sms_gateway.pdu import decode_pdu, encode_submit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to `sub`."""
    dec = sub.add_parser(
        "decode-pdu",
        help="decode an SMS PDU (hex) to JSON",
        description="Decode an SMS-DELIVER, SMS-SUBMIT or SMS-STATUS-REPORT PDU given in hex "
        "as AT+CMGL/AT+CMGR print it, and print it as JSON.",
    )
    dec.add_argument("hex", metavar="HEX", help="the PDU in hex (SMSC part first)")
    dec.add_argument(
        "--no-smsc", action="store_true", help="the PDU has no SMSC part (it starts at the TPDU)"
    )
    dec.add_argument(
        "--direction", choices=["auto", "mt", "mo"], default="auto",
        help="read TP-MTI as received (mt), sent (mo), or guess (auto, the default)",
    )
    dec.set_defaults(handler=_decode)

    enc = sub.add_parser(
        "encode-pdu",
        help="encode a text as SMS-SUBMIT PDUs (one hex line per part)",
        description="Encode TEXT as SMS-SUBMIT PDUs for AT+CMGS in PDU mode; prints one hex "
        "PDU per line, one line per SMS part.",
    )
    enc.add_argument("--to", required=True, metavar="NUMBER", help="recipient, e.g. +358401234567")
    enc.add_argument("--smsc", metavar="NUMBER", help="service centre (default: the modem's own)")
    enc.add_argument("--status-report", action="store_true", help="request a status report")
    enc.add_argument(
        "--validity-minutes", type=int, metavar="N", help="relative validity period in minutes"
    )
    enc.add_argument("--message-ref", type=int, default=0, metavar="N", help="TP-MR (0-255)")
    enc.add_argument("--concat-ref", type=int, metavar="N", help="concatenation reference")
    enc.add_argument("text", metavar="TEXT", help="the message text")
    enc.set_defaults(handler=_encode)


def _decode(args: argparse.Namespace) -> int:
    pdu = decode_pdu(args.hex, has_smsc=not args.no_smsc, direction=args.direction)
    print(json.dumps(pdu.to_json(), ensure_ascii=False, indent=2))
    return 0


def _encode(args: argparse.Namespace) -> int:
    validity = None if args.validity_minutes is None else timedelta(minutes=args.validity_minutes)
    for part in encode_submit(
        args.to, args.text, smsc=args.smsc, status_report=args.status_report,
        validity=validity, message_ref=args.message_ref, concat_ref=args.concat_ref,
    ):
        print(part.hex)
    return 0
