"""Subcommands simulate-modem and modem-info."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

SIM_WAIT_DEFAULT = 30.0  # sms_gateway.modem.SIM_WAIT_DEFAULT (not imported: a light CLI)


def _seconds(text: str) -> float:
    """A --sim-wait value: a number of seconds from 1 to 600."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1.0 <= value <= 600.0:
        raise argparse.ArgumentTypeError(f"{text} s is outside 1-600 s")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to `sub`."""
    sim = sub.add_parser(
        "simulate-modem",
        help="run a simulated GSM modem on a pseudo-terminal",
        description="Run a simulated GSM modem (TS 27.005/27.007) on a pty with a symlink at "
        "--link until SIGINT/SIGTERM. --control serves the control socket (deliver FROM TEXT, "
        "sent, stored, status, fault NAME [ARGS], clear; see hardware/modem_sim.py).",
    )
    sim.add_argument("--link", required=True, type=Path, help="symlink to create for the port")
    sim.add_argument("--control", type=Path, help="Unix socket for the control interface")
    sim.add_argument("--slots", type=int, default=10, help="messages the storage holds")
    sim.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    sim.add_argument("--pin", help="the simulated SIM wants this PIN at start")
    sim.add_argument("--profile", default="standard",
                     help="behave as this modem family: standard, huawei-e3372, "
                     "huawei-e1752, sim800, quectel-ec25, simcom-a76xx, wavecom, "
                     "sierra, cinterion-mc75, qualcomm-stick, slow-sim "
                     "(hardware/modem_sim_profiles.py)")
    sim.set_defaults(handler=_simulate)

    info = sub.add_parser(
        "modem-info",
        help="show a modem's identity, SIM, signal, registration and storage",
        description="Query a GSM modem: manufacturer, model, IMEI, SIM state, signal, "
        "registration and storage use.",
    )
    info.add_argument("--port", required=True, help="pyserial URL or device path")
    info.add_argument("--pin", help="SIM PIN, if the SIM asks for one")
    info.add_argument("--timeout", type=float, default=10.0, help="seconds per AT command")
    info.add_argument("--sim-wait", type=_seconds, default=SIM_WAIT_DEFAULT,
                      help="seconds to wait for a SIM still busy after power-on "
                      f"(default {SIM_WAIT_DEFAULT:g}, as [sms] sim_wait_s)")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_modem_info)


def _simulate(args: argparse.Namespace) -> int:
    from hardware.modem_sim_profiles import UnknownProfile, sim_config
    from hardware.modem_sim_pty import simulated_modem
    from survey.errors import PalauteError

    try:
        config = sim_config(args.profile, slots=args.slots, sim_pin=args.pin)
    except UnknownProfile as exc:
        raise PalauteError(str(exc)) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with simulated_modem(args.link, config=config, latency=args.latency,
                             control_path=args.control) as (path, _core, _runner):
            print(f"simulated modem ({args.profile}) at {path}", flush=True)
            stop.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _modem_info(args: argparse.Namespace) -> int:
    from sms_gateway.errors import PinRequired
    from sms_gateway.modem import Modem

    with Modem.from_url(args.port, pin=args.pin, command_timeout=args.timeout,
                        retries=3, retry_delay=1.0, reopen_attempts=1,
                        sim_wait=args.sim_wait) as modem:
        try:
            modem.start(sms=False)
        except PinRequired as exc:
            if args.pin:
                raise  # a refused PIN is an error; a missing one still leaves much to show
            log.warning("%s", exc)
        info = modem.info()
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    signal_text = "unknown"
    if info.signal is not None and info.signal.rssi is not None:
        signal_text = f"{info.signal.rssi}/31 ({info.signal.dbm} dBm)"
    reg = info.registration
    lines = {
        "manufacturer": info.manufacturer, "model": info.model, "IMEI": info.imei,
        "SIM": info.sim, "signal": signal_text,
        "registration": f"{reg.state} ({reg.technology})" if reg else "unknown",
        "storage": ", ".join(f"{s.memory} {s.used}/{s.total}" for s in info.storage) or "unknown",
    }
    for name, value in lines.items():
        print(f"{name + ':':14}{value if value is not None else 'unknown'}")
    return 0
