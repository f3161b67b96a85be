"""Benchmark of the PDU codec: encode + decode of a mixed corpus, in messages per second.

Prints JSON. The baseline is a loop over the same PDU strings doing only
bytes.fromhex + .hex() (the least any codec must do), measured in the same run, so the
ratio says how much the codec costs beyond moving the octets.

    .venv/bin/python bench/bench_pdu.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import datetime, timedelta, timezone

from benchlib import rate

from sms_gateway.pdu import decode_pdu, encode_deliver, encode_submit

WHEN = datetime(2025, 3, 4, 10, 15, 2, tzinfo=timezone(timedelta(hours=2)))
CORPUS = [
    ("+358401234567", "9"),
    ("+358401234567", "9 hyvä palvelu, kiitos!"),
    ("0401234567", "Kuinka todennäköisesti suosittelisit saamaasi palvelua läheisellesi? "
                   "Vastaa numerolla 0-10. Vastaaminen on maksutonta."),
    ("+358401234567", "Hoitaja oli ystävällinen [ja] {nopea} € " * 6),
    ("+46701234567", "Mycket bra bemötande 👍 tack så mycket!"),
    ("+358501234567", "Спасибо, всё было хорошо. " * 5),
]
# Alphanumeric senders only arrive (nobody can send to one), so they are in the decode half.
ALPHA_SENDER = "Palaute"


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    hexes = [h for sender, text in CORPUS for h in encode_deliver(sender, text, WHEN)]
    hexes += [p.hex for to, text in CORPUS for p in encode_submit(to, text)]
    hexes += encode_deliver(ALPHA_SENDER, CORPUS[2][1], WHEN)

    def codec() -> int:
        for to, text in CORPUS:
            encode_submit(to, text, status_report=True)
        for h in hexes:
            decode_pdu(h)
        return len(CORPUS) + len(hexes)

    def baseline() -> int:
        for h in hexes:
            bytes.fromhex(h).hex()
        for sender, text in CORPUS:
            text.encode("utf-16-be").hex()
            sender.encode()
        return len(CORPUS) + len(hexes)

    codec_rate = rate(codec, args.seconds)
    base_rate = rate(baseline, args.seconds)
    print(json.dumps({
        "bench": "pdu",
        "python": platform.python_version(),
        "corpus_pdus": len(hexes),
        "corpus_texts": len(CORPUS),
        "codec_ops_per_s": round(codec_rate),
        "baseline_ops_per_s": round(base_rate),
        "baseline_over_codec": round(base_rate / codec_rate, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
