"""`palaute demo`: the whole chain on one machine with simulated hardware, ending in a report.

A Mosquitto broker on a free port (accounts and ACL from `palaute central
broker-config`'s library), the central receiver, a simulated GSM modem on a pty
with simulated people's phones behind it, the SMS gateway service, two kiosks in
simulate mode (a touchscreen and a button panel) with scripted patients, and one
sync agent per device: each a real `palaute …` command in its own process
group. Invitations go in as a CSV through `palaute sms invite`. When nothing is
on its way any more, the central report is printed and written as HTML, and a
summary compares the counts at every stage with what the people did; the exit
status is 1 when they differ. The central's web page (palaute.demo_web) is served during
the run and again at the end, when the demo prints its address and a login.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from palaute import demo_web
from palaute.demo_chain import (
    BUTTONS,
    GATEWAY,
    LOBBY,
    SESSION_SECONDS,
    DemoError,
    Folders,
    PhoneNetwork,
    Processes,
    palaute_argv,
    write_configs,
)
from palaute.demo_check import (
    Snapshot,
    checks,
    progress_line,
    settled,
    summary_table,
    take_snapshot,
)
from palaute.demo_people import Persona, invitation_csv, make_population
from palaute.demo_scripts import (
    Kiosk,
    Patient,
    button_kiosk_patients,
    script,
    script_seconds,
    touch_kiosk_patients,
)
from palaute.services import Mosquitto, free_port, wait_port

DEVICES = (GATEWAY, LOBBY, BUTTONS)
WAVE_SECONDS = 30.0  # with --minutes, new people arrive this often
PROGRESS_SECONDS = 5.0
SETTLE_TIMEOUT = SESSION_SECONDS + 90.0
UNITS = ("ensiapu", "terveysasema")
SHOWN_STYLES = ("colloquial", "comment_emoji", "unclear_first", "optout_first")


def register_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `palaute demo`."""
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="keep the chain running this long, with new people arriving "
                             f"every {WAVE_SECONDS:g} s (default: one wave of people)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the demo's files (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=7,
                        help="seed of the simulated people (same seed, same people)")
    parser.add_argument("--people", type=int, default=24,
                        help="SMS invitations per wave (default 24)")
    parser.add_argument("--modem-profile", default="standard",
                        help="the simulated modem behaves as this family (huawei-e3372, "
                             "sim800, quectel-ec25, ...; see hardware/modem_sim_profiles.py)")
    parser.set_defaults(handler=run)


class Demo:
    """One run of the demo (see module doc); a context manager that always cleans up."""

    def __init__(self, out: Path, seed: int, people: int,
                 modem_profile: str = "standard") -> None:
        self.modem_profile = modem_profile
        self.folders = Folders(out)
        self.seed = seed
        self.per_wave = people
        self.procs = Processes()
        self.broker: Mosquitto | None = None
        self.phones: PhoneNetwork | None = None
        self.people: list[Persona] = []
        self.patients: dict[str, list[Patient]] = {LOBBY: [], BUTTONS: []}
        self.kiosks: dict[str, Kiosk] = {}
        self.kiosk_clock: datetime | None = None
        self.t0 = time.monotonic()
        self._stack = contextlib.ExitStack()
        self.web_port = 0
        self.web_password = ""

    def say(self, text: str) -> None:
        """One progress line (plain stdout, timestamped from the start)."""
        print(f"[{time.monotonic() - self.t0:5.1f}s] {text}", flush=True)

    def __enter__(self) -> Demo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        """Configs, broker, central receiver, modem and phones, gateway, sync agents."""
        from hardware.modem_sim import ModemCore
        from hardware.modem_sim_profiles import sim_config
        from hardware.modem_sim_pty import ControlServer, PtyModem
        from kiosk.app import load_kiosk
        from survey.definition import load_survey

        f = self.folders
        port = free_port()
        self.web_port = free_port()
        broker_conf = write_configs(f, port, self.web_port)
        self.web_password = demo_web.add_login(f.central_db)
        self.say(f"configs written: {', '.join(str(f.config(d)) for d in DEVICES)}, "
                 f"{f.config('central')}")
        # Kept before it starts, so that an interrupt while it starts still stops it.
        self.broker = Mosquitto(f.broker, port=port, base_config=broker_conf)
        self.broker.start()
        self.say(f"broker: mosquitto on 127.0.0.1:{port}, one account per device, ACL "
                 f"(log {self.broker.log})")
        self._service("central receiver", "central", f.config("central"), f.central)
        core = ModemCore(sim_config(self.modem_profile))
        runner = PtyModem(core, f.modem_link).start()
        self._stack.callback(runner.stop)
        where = f"control socket {f.modem_control}"
        try:
            control = ControlServer(f.modem_control, core).start()
            self._stack.callback(control.stop)
        except OSError as exc:  # e.g. a path too long for a Unix socket: run without one
            where = f"no control socket: {exc}"
        self.say(f"modem: simulated GSM modem ({self.modem_profile}) on a pty at "
                 f"{f.modem_link} ({where})")
        survey = load_survey(f.surveys / "national.toml")
        self.phones = PhoneNetwork(core, survey).start()
        self._service("SMS gateway", "sms", f.config(GATEWAY), f.device(GATEWAY))
        for device in DEVICES:
            self._service(f"sync agent {device}", "sync", f.config(device), f.device(device))
        for device in (LOBBY, BUTTONS):
            loaded = load_kiosk(f.config(device))
            self.kiosks[device] = Kiosk(loaded.kiosk.settings, loaded.kiosk.resolution)

    def _service(self, name: str, part: str, config: Path, folder: Path) -> None:
        log_path = folder / f"{part}.log"
        args = ("central", "serve") if part == "central" else (part, "run")
        self.procs.start(name, palaute_argv("-v", *args, "--config", str(config)), log_path)
        self.say(f"{name}: palaute {' '.join(args)} --config {config} (log {log_path})")

    # -- people arriving ------------------------------------------------------------------

    def wave(self, number: int) -> None:
        """A wave of people: SMS invitations for recent visits, patients at both kiosks."""
        assert self.phones is not None
        f = self.folders
        people = make_population(self.per_wave, self.seed, number, UNITS)
        self.phones.add(people)  # phones first: the gateway may send at once
        self.people += people
        csv_path = f.device(GATEWAY) / f"invitations-{number}.csv"
        csv_path.write_text(invitation_csv(people, datetime.now(UTC)), encoding="utf-8")
        code, output = self.procs.run("palaute sms invite", palaute_argv(
            "sms", "invite", "--csv", str(csv_path), "--config", str(f.config(GATEWAY))),
            f.device(GATEWAY) / "invite.log")
        if code != 0:
            raise DemoError(f"palaute sms invite failed (exit {code}): {output.strip()}")
        self.say(f"wave {number}: palaute sms invite --csv {csv_path}: {output.strip()}")
        self._kiosk_wave(number)

    def _kiosk_wave(self, number: int) -> None:
        f = self.folders
        makers = {LOBBY: touch_kiosk_patients, BUTTONS: button_kiosk_patients}
        now = datetime.now(UTC).replace(microsecond=0)
        for device, maker in makers.items():
            patients = maker(self.kiosks[device], self.seed, number)
            lines = script(patients)
            # The patients came during the last minutes (their answers are not from the future).
            start = now - timedelta(seconds=script_seconds(lines))
            if self.kiosk_clock is not None:
                start = max(start, self.kiosk_clock)
            path = f.device(device) / f"patients-{number}.txt"
            path.write_text(lines, encoding="utf-8")
            screens = f.device(device) / "screens" / f"wave-{number}"
            code, output = self.procs.run(f"palaute kiosk simulate ({device})", palaute_argv(
                "kiosk", "simulate", "--config", str(f.config(device)), "--script", str(path),
                "--screenshots", str(screens), "--start", start.isoformat()),
                f.device(device) / "kiosk.log")
            if code != 0:
                raise DemoError(f"palaute kiosk simulate failed (exit {code}): "
                                f"{output.strip()[-500:]}")
            self.patients[device] += patients
            self.say(f"wave {number}: kiosk {device}: {len(patients)} patients ({path}): "
                     f"{output.strip()}")
        self.kiosk_clock = now

    # -- waiting --------------------------------------------------------------------------

    def snapshot(self, *, with_rows: bool = False) -> Snapshot:
        f = self.folders
        return take_snapshot(f.config(GATEWAY), {d: f.store(d) for d in DEVICES},
                             f.central_db, with_rows=with_rows)

    def pending(self) -> int:
        return self.phones.pending() if self.phones is not None else 0

    def keep_running(self, until: float) -> None:
        """Show progress until the monotonic time `until` (services checked on the way)."""
        next_line = 0.0
        while time.monotonic() < until:
            self.procs.check()
            if time.monotonic() >= next_line:
                self.say(progress_line(self.snapshot(), DEVICES, self.pending()))
                next_line = time.monotonic() + PROGRESS_SECONDS
            time.sleep(min(1.0, max(0.0, until - time.monotonic())))

    def settle(self) -> bool:
        """Wait until nothing is on its way (sessions closed, batches acked); False on timeout."""
        self.say(f"waiting for the last replies, the open SMS sessions to close (after "
                 f"{SESSION_SECONDS:g} s) and every answer to reach the central")
        deadline = time.monotonic() + SETTLE_TIMEOUT
        next_line = time.monotonic() + PROGRESS_SECONDS
        while time.monotonic() < deadline:
            self.procs.check()
            snap = self.snapshot()
            if settled(snap, DEVICES, self.pending()):
                self.say("settled: " + progress_line(snap, DEVICES, 0))
                return True
            if time.monotonic() >= next_line:
                self.say(progress_line(snap, DEVICES, self.pending()))
                next_line = time.monotonic() + PROGRESS_SECONDS
            time.sleep(0.5)
        self.say(f"still not settled after {SETTLE_TIMEOUT:g} s: the summary shows what is "
                 "missing")
        return False

    # -- the end --------------------------------------------------------------------------

    def web_page(self) -> list[str]:
        """Serve the web page again on the finished store; what it fails to show."""
        f = self.folders
        argv = palaute_argv("central", "web", "--config", str(f.config("central")))
        proc = self.procs.start("web page", argv, f.central / "web.log")
        wait_port(self.web_port, 60, proc)
        return demo_web.check_page(f"http://127.0.0.1:{self.web_port}", self.web_password,
                                   DEVICES)

    def show_web_page(self, problems: list[str]) -> None:
        """The last lines: the address and the login; a person at a terminal keeps the page
        until Ctrl-C."""
        for problem in problems:
            print(f"  FAIL {problem}")
        print(f"\nweb page: http://127.0.0.1:{self.web_port}/  (login {demo_web.LOGIN}, "
              f"password {self.web_password})", flush=True)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print(f"(stopped with the demo; to see it again: palaute central web --config "
                  f"{self.folders.config('central')})", flush=True)
            return
        print("the page stays up until Ctrl-C", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                self.procs.check()
                time.sleep(1)

    def show_conversations(self) -> None:
        """A few conversations as the phones saw them; all of them into phones.txt."""
        if self.phones is None:
            return
        path = self.folders.device(GATEWAY) / "phones.txt"
        self.phones.write_transcript(path, self.t0)
        talks = self.phones.conversations(self.t0)
        print(f"\nsome of the {len(talks)} SMS conversations (all of them in {path}):")
        for style in SHOWN_STYLES:
            p = next((p for p in self.people if p.style == style), None)
            if p is None or p.phone not in talks:
                continue
            print(f"  {p.phone} ({p.lang}, {style.replace('_', ' ')}):")
            for line in talks[p.phone]:
                print(f"    {line if len(line) < 110 else line[:107] + '...'}")
        print(flush=True)

    def shutdown(self) -> None:
        """Stop every service (each process group), the phones, the modem and the broker."""
        with _interrupts_held():
            try:
                self.procs.stop_all()
            finally:
                if self.phones is not None:
                    self.phones.stop()
                self._stack.close()
                if self.broker is not None:
                    self.broker.stop()
                    self.broker = None

    def report(self) -> Path:
        """The central report: printed as a table, written as HTML."""
        f = self.folders
        html = f.root / "report.html"
        db = f"sqlite:///{f.central_db}"
        for fmt, extra in (("table", ()), ("html", ("--out", str(html)))):
            code, output = self.procs.run(f"palaute central report ({fmt})", palaute_argv(
                "central", "report", "--db", db, "--by", "channel", "--format", fmt, *extra),
                f.central / "report.log")
            if code != 0:
                raise DemoError(f"palaute central report failed (exit {code}): "
                                f"{output.strip()[-500:]}")
            if fmt == "table":
                print(f"\npalaute central report --db {db} --by channel\n")
                print(output.rstrip() + "\n", flush=True)
        return html


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C does: through the clean-up, never around it."""
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """A second Ctrl-C (or SIGTERM) must not cut the clean-up short and leave services behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def out_folder(out: Path | None) -> Path:
    if out is None:
        return Path(tempfile.mkdtemp(prefix="palaute-demo-"))
    out = out.resolve()
    if out.exists() and any(out.iterdir()):
        raise DemoError(f"{out}: the folder is not empty (give a new or empty --out folder)")
    out.mkdir(parents=True, exist_ok=True)
    return out


def run(args: argparse.Namespace) -> int:
    """Handler of `palaute demo`."""
    if args.people < 1:
        raise DemoError("--people must be at least 1")
    from hardware.modem_sim_profiles import UnknownProfile, sim_config

    try:
        sim_config(args.modem_profile)
    except UnknownProfile as exc:
        raise DemoError(f"--modem-profile: {exc}") from None
    out = out_folder(args.out)
    print(f"palaute demo: every file of this run goes to {out}", flush=True)
    with sigterm_as_interrupt(), Demo(out, args.seed, args.people,
                                       args.modem_profile) as demo:
        demo.start()
        end = time.monotonic() + args.minutes * 60
        number, last = 1, time.monotonic()
        demo.wave(number)
        while last + WAVE_SECONDS < end:
            demo.keep_running(last + WAVE_SECONDS)
            number, last = number + 1, time.monotonic()
            demo.wave(number)
        demo.keep_running(end)
        demo.settle()
        snap = demo.snapshot(with_rows=True)
        demo.show_conversations()
        demo.say("stopping every service")
        demo.shutdown()
        html = demo.report()
        web_problems = demo.web_page()
        code = _verdict(demo, snap, html)
        demo.show_web_page(web_problems)
    return 1 if web_problems else code


def _verdict(demo: Demo, snap: Snapshot, html: Path) -> int:
    verdict = checks(snap, GATEWAY, demo.people, demo.patients)
    ok = all(c.ok for c in verdict)
    print(f"HTML report: {html}")
    print("\nsummary (counts along the chain)\n")
    print(summary_table(snap, GATEWAY, demo.people, demo.patients))
    print()
    for c in verdict:
        print(f"  {'ok  ' if c.ok else 'FAIL'} {c.text}")
    summary = demo.folders.root / "summary.json"
    summary.write_text(json.dumps({
        "ok": ok, "checks": [{"ok": c.ok, "text": c.text} for c in verdict],
        "snapshot": snap.to_json(), "people": len(demo.people),
        "patients": {d: len(p) for d, p in demo.patients.items()},
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\n{'the counts match along the whole chain' if ok else 'THE COUNTS DO NOT MATCH'}"
          f" (details in {summary}; logs in {demo.folders.root})")
    return 0 if ok else 1
