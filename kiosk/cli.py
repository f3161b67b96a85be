"""Subcommands of the kiosk: run, simulate, render-prompts."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from survey.errors import PalauteError


class BadStartTime(PalauteError, ValueError):
    """A --start that is not an ISO date-time with a time zone."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to `sub`."""
    run = sub.add_parser("run", help="run the kiosk (systemd Type=notify service)")
    run.add_argument("--config", required=True, type=Path, metavar="FILE")
    run.set_defaults(handler=_run)

    sim = sub.add_parser(
        "simulate", help="run the kiosk headless from a script; PNGs and prompts.txt out",
        description="Script lines: key NAME, button N, touch X Y, type TEXT, wait SECONDS, "
                    "headphones in|out, # comment. Time is simulated.",
    )
    sim.add_argument("--config", required=True, type=Path, metavar="FILE")
    sim.add_argument("--script", required=True, type=Path, metavar="FILE")
    sim.add_argument("--screenshots", required=True, type=Path, metavar="DIR")
    sim.add_argument("--start", metavar="ISO", default=None,
                     help="simulated start time, e.g. 2025-03-04T10:00:00+02:00 "
                          "(default: now, moved inside the opening hours)")
    sim.set_defaults(handler=_simulate)

    render = sub.add_parser("render-prompts",
                            help="render the audio-mode prompts to WAV with espeak-ng")
    render.add_argument("--config", required=True, type=Path, metavar="FILE")
    render.add_argument("--all-rates", action="store_true",
                        help="also render every speech rate the rate keys reach")
    render.set_defaults(handler=_render)


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from kiosk.app import run

    return run(args.config)


def _simulate(args: argparse.Namespace) -> int:
    from kiosk.simulation import simulate

    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError:
            raise BadStartTime(f"--start: not an ISO date-time: {args.start!r}") from None
        if start.tzinfo is None:
            raise BadStartTime(f"--start: give a time zone, e.g. {args.start}+02:00")
    result = simulate(args.config, args.script, args.screenshots, start=start)
    statuses = ", ".join(f"{r.status} {r.channel}" + (f" {sorted(r.flags)}" if r.flags else "")
                         for r in result.rows)
    print(f"{len(result.screenshots)} screens, {len(result.prompts)} prompts spoken, "
          f"{len(result.rows)} responses stored in {result.store_path}"
          + (f" ({statuses})" if statuses else "")
          + (f"; all screens on {result.contact_sheet}" if result.contact_sheet else ""))
    return 0


def _render(args: argparse.Namespace) -> int:
    from kiosk.audio_mode import render_for_config

    rendered, cached = render_for_config(args.config, every_rate=args.all_rates)
    print(f"{rendered} prompts rendered, {cached} already cached")
    return 0
