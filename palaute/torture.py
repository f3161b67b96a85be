"""`palaute torture`: the demo's whole chain while every service is killed at random.

The demo's chain (broker, central receiver, simulated modem and phones, SMS gateway,
scripted kiosks, one sync agent per device) runs for --minutes with people arriving;
meanwhile a random service (the central receiver, the SMS gateway, a sync agent) is
SIGKILLed and restarted, and now and then the broker too. Then the killing stops,
everything is left to settle, and the chain is audited:

- lost: final responses in a device's store that the central does not hold (also
  those the device marked synced);
- duplicated: a device's sequence number stored twice at the central, or one
  response id twice anywhere;
- integrity: `PRAGMA integrity_check` of every SQLite file, and rows marked synced
  that were never final.

It prints the counts as JSON (also `torture.json` in the run's folder) and exits 0
only when all three are 0. An operator can run it on their own hardware to see the
chain hold: `./dev.sh torture --minutes 10`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from palaute.demo import DEVICES, WAVE_SECONDS, Demo, out_folder, sigterm_as_interrupt
from palaute.demo_chain import DemoError, RunningProcess

log = logging.getLogger(__name__)

# Services that run for the whole chain (the kiosks are scripted runs, not services).
KILLABLE = ("central receiver", "SMS gateway", "sync agent")


def register_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `palaute torture`."""
    parser.add_argument("--minutes", type=float, default=2.0,
                        help="how long services are killed at random (default 2)")
    parser.add_argument("--kill-every", type=float, default=5.0, metavar="SECONDS",
                        help="mean time between two kills (default 5)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the run's files (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=11, help="seed of people and kills")
    parser.add_argument("--people", type=int, default=12,
                        help="SMS invitations per wave (default 12)")
    parser.set_defaults(handler=run)


@dataclass
class Audit:
    """What the chain lost, doubled or damaged; `ok` when all are zero."""

    lost: int = 0
    duplicated: int = 0
    integrity_errors: int = 0
    kills: dict[str, int] = field(default_factory=dict)
    device_final: int = 0
    central_responses: int = 0
    settled: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.integrity_errors == 0


def audit(stores: dict[str, Path], central_db: Path) -> Audit:
    """Compare every device's final responses with the central's (see module doc)."""
    result = Audit()
    central_ids: dict[str, tuple[str, int | None]] = {}
    try:
        with sqlite3.connect(f"file:{central_db}?mode=ro", uri=True) as c:
            result.integrity_errors += _integrity(c, central_db, result.details)
            for rid, device, seq in c.execute("SELECT id, device, seq FROM responses"):
                central_ids[rid] = (device, seq)
            for device, seq, n in c.execute(
                    "SELECT device, seq, COUNT(*) FROM responses WHERE seq IS NOT NULL "
                    "GROUP BY device, seq HAVING COUNT(*) > 1"):
                result.duplicated += n - 1
                result.details.append(f"central: {device} seq {seq} stored {n} times")
    except sqlite3.DatabaseError as exc:
        result.integrity_errors += 1
        result.details.append(f"central: {central_db} cannot be read: {exc}")
    result.central_responses = len(central_ids)
    for device, path in sorted(stores.items()):
        try:
            final = _device_rows(device, path, result)
        except sqlite3.DatabaseError as exc:
            result.integrity_errors += 1
            result.details.append(f"{device}: {path} cannot be read: {exc}")
            continue
        result.device_final += len(final)
        for rid, own, seq, synced in final:
            if rid not in central_ids:
                result.lost += 1
                result.details.append(f"{device}: {rid} (seq {seq}) "
                                      f"{'marked synced but ' if synced else ''}not at the central")
            elif central_ids[rid] != (own, seq):
                result.duplicated += 1
                result.details.append(f"{device}: {rid} arrived as {central_ids[rid]}")
    return result


def _device_rows(device: str, path: Path, result: Audit) -> list[tuple[str, str, int, str]]:
    """The final responses of one device store (id, device, seq, synced_at); its integrity
    problems added to `result`."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
        result.integrity_errors += _integrity(c, path, result.details)
        for (rid,) in c.execute("SELECT id FROM responses WHERE synced_at IS NOT NULL "
                                "AND seq IS NULL"):
            result.integrity_errors += 1
            result.details.append(f"{device}: {rid} marked synced but never final")
        return c.execute("SELECT id, device, seq, synced_at FROM responses "
                         "WHERE seq IS NOT NULL").fetchall()


def _integrity(c: sqlite3.Connection, path: Path, details: list[str]) -> int:
    found = [str(r[0]) for r in c.execute("PRAGMA integrity_check")]
    if found == ["ok"]:
        return 0
    details += [f"{path}: {line}" for line in found]
    return len(found)


class Killer:
    """Kills a random service of a running demo and starts it again."""

    def __init__(self, demo: Demo, rng: random.Random, mean_seconds: float) -> None:
        self.demo = demo
        self.rng = rng
        self.mean = mean_seconds
        self.kills: dict[str, int] = {}
        self.next_at = time.monotonic() + rng.expovariate(1 / mean_seconds)

    def tick(self) -> None:
        """Kill (and restart) one victim when its time has come."""
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.rng.expovariate(1 / self.mean)
        services = [p for p in self.demo.procs.running if p.name.startswith(KILLABLE)]
        victims: Sequence[str] = [p.name for p in services] + ["broker"]
        victim = self.rng.choice(victims)
        self.kills[victim] = self.kills.get(victim, 0) + 1
        if victim == "broker":
            broker = self.demo.broker
            if broker is not None:
                self.demo.say("torture: SIGKILL the broker")
                broker.kill()
                time.sleep(self.rng.uniform(0.2, 2.0))
                broker.start()
            return
        p = next(p for p in services if p.name == victim)
        self.demo.say(f"torture: SIGKILL {victim}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.proc.pid, signal.SIGKILL)
        p.proc.wait(10)
        time.sleep(self.rng.uniform(0.1, 1.5))
        self._restart(p)

    def _restart(self, p: RunningProcess) -> None:
        """Start a stopped service again with its own command line and log."""
        self.demo.procs.running.remove(p)
        args = p.proc.args
        argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
        self.demo.procs.start(p.name, argv, p.log)

    def run_until(self, until: float) -> None:
        """Keep killing until the monotonic time `until`; restart what died on its own."""
        while time.monotonic() < until:
            self.restart_dead()
            self.tick()
            time.sleep(0.1)

    def restart_dead(self) -> None:
        """Start again a service that exited by itself (e.g. gave up on a broker it lost)."""
        for p in list(self.demo.procs.running):
            code = p.proc.poll()
            if code is not None and p.name.startswith(KILLABLE):
                self.demo.say(f"torture: {p.name} exited with {code} by itself; restarted")
                self._restart(p)


def run(args: argparse.Namespace) -> int:
    """Handler of `palaute torture`."""
    if args.minutes <= 0 or args.kill_every <= 0 or args.people < 1:
        raise DemoError("--minutes and --kill-every must be above 0, --people at least 1")
    out = out_folder(args.out)
    print(f"palaute torture: every file of this run goes to {out}", flush=True)
    rng = random.Random(args.seed)
    with sigterm_as_interrupt(), Demo(out, args.seed, args.people) as demo:
        demo.start()
        killer = Killer(demo, rng, args.kill_every)
        end = time.monotonic() + args.minutes * 60
        number = 0
        while time.monotonic() < end:
            number += 1
            try:
                demo.wave(number)
            except (DemoError, subprocess.SubprocessError) as exc:
                # `sms invite` while the gateway's store is being recovered may fail: the
                # people of that wave are not invited, which loses nothing.
                demo.say(f"torture: wave {number} not fully started: {exc}")
            killer.run_until(min(end, time.monotonic() + WAVE_SECONDS))
        demo.say(f"torture: killing stops ({sum(killer.kills.values())} kills); settling")
        killer.restart_dead()
        settled = demo.settle()
        demo.say("stopping every service")
        demo.shutdown()
    f = demo.folders
    result = audit({d: f.store(d) for d in DEVICES}, f.central_db)
    result.kills = dict(sorted(killer.kills.items()))
    result.settled = settled
    text = json.dumps({"ok": result.ok, **asdict(result)}, indent=2, ensure_ascii=False)
    (out / "torture.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\n{'nothing lost, doubled or damaged' if result.ok else 'THE CHAIN FAILED'}: "
          f"{result.lost} lost, {result.duplicated} duplicated, {result.integrity_errors} "
          f"integrity errors after {sum(result.kills.values())} kills (logs in {out})")
    return 0 if result.ok else 1
