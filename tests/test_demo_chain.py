"""The demo's plumbing: process groups end completely, phones answer on time, checks add up."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from services import wait_until

from palaute.demo_chain import DemoError, PhoneNetwork, Processes
from palaute.demo_check import Snapshot, checks, expected_rows, settled, summary_table
from palaute.demo_people import Persona
from palaute.demo_scripts import Patient
from sms_gateway.conversation import invitation_text
from survey.definition import load_survey, shipped_survey_path

GW, KIOSK = "gw", "lobby"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (reaped later by whoever owns it).
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_stop_all_ends_every_process_of_every_group(tmp_path: Path) -> None:
    procs = Processes()
    pidfile = tmp_path / "child.pid"
    # A service whose child ignores SIGTERM and would otherwise be left behind.
    procs.start("stubborn", ["sh", "-c", f"sh -c 'trap \"\" TERM; echo $$ > {pidfile}; "
                             "sleep 60' & wait"], tmp_path / "a.log")
    procs.start("plain", [sys.executable, "-c", "import time; time.sleep(60)"],
                tmp_path / "b.log")
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 10,
               message="the stubborn child's pid")
    child = int(pidfile.read_text())
    leaders = [p.proc.pid for p in procs.running]
    procs.stop_all()
    assert procs.running == []
    wait_until(lambda: not alive(child), 5, message="the stubborn child to end")
    assert not any(alive(pid) for pid in leaders)


def test_run_gives_the_exit_code_and_output_and_check_sees_a_dead_service(
        tmp_path: Path) -> None:
    procs = Processes()
    code, output = procs.run("echo", ["sh", "-c", "echo hello; exit 3"], tmp_path / "e.log")
    assert (code, output.strip()) == (3, "hello")
    assert procs.running == []
    proc = procs.start("short-lived", ["sh", "-c", "echo bye; exit 2"], tmp_path / "s.log")
    proc.wait(5)
    with pytest.raises(DemoError, match=r"short-lived stopped unexpectedly \(exit 2\)"):
        procs.check()
    procs.stop_all()


def test_run_that_hangs_is_stopped(tmp_path: Path) -> None:
    procs = Processes()
    with pytest.raises(DemoError, match="did not finish"):
        procs.run("hang", ["sleep", "30"], tmp_path / "h.log", timeout=0.3)
    assert procs.running == []


class FakeModem:
    """What PhoneNetwork uses of the modem simulator: sent() and deliver()."""

    def __init__(self) -> None:
        self.sent_messages: list[dict[str, object]] = []
        self.delivered: list[tuple[str, str]] = []

    def sent(self) -> list[dict[str, object]]:
        return list(self.sent_messages)

    def deliver(self, sender: str, text: str) -> int:
        self.delivered.append((sender, text))
        return 1


def persona(phone: str, style: str = "digits", delay: float = 2.0) -> Persona:
    return Persona(phone=phone, local_phone=phone, lang="fi", style=style, nps=8, likert=4,
                   comment="Hyvä", first_delay=delay, next_delay=1.0, unit="ensiapu",
                   kind="visit")


def test_phones_answer_after_their_delay_and_read_only_whole_messages() -> None:
    survey = load_survey(shipped_survey_path("national"))
    modem, now = FakeModem(), [100.0]
    net = PhoneNetwork(modem, survey, clock=lambda: now[0])  # type: ignore[arg-type]
    net.add([persona("+358401111111"), persona("+358402222222", "never")])
    text = invitation_text(survey, "fi")
    modem.sent_messages += [
        {"recipient": "+358401111111", "text": text, "parts": 2, "total": 2},
        {"recipient": "+358402222222", "text": text, "parts": 2, "total": 2},
        {"recipient": "+358403333333", "text": text[:70], "parts": 1, "total": 2},
    ]
    net.poll()
    assert (net.received, net.pending(), modem.delivered) == (2, 1, [])
    now[0] += 1.9
    net.poll()
    assert modem.delivered == []
    now[0] += 0.2
    net.poll()
    assert modem.delivered == [("+358401111111", "8")]
    modem.sent_messages[2]["parts"] = 2  # its last part went out: now it is read
    net.poll()
    assert (net.received, net.strangers) == (3, 1)
    talk = net.conversations(t0=100.0)["+358401111111"]
    assert [line.split("] ", 1)[1][:9] for line in talk] == ["gateway: ", "person : "]


def snap(counters: dict[str, int], local: dict[str, dict[str, int]],
         central: dict[str, int], rows: list[tuple[str, str, str, int | None, tuple[str, ...]]],
         live: int = 0) -> Snapshot:
    return Snapshot(gateway={"counters": counters, "live_sessions": live, "inbox_pending": 0,
                             "invitations": {"sent": 2}, "outbox": {"sent": 4}},
                    local=local, central=central, rows=rows)


PEOPLE = [persona("+358401111111"), persona("+358402222222", "never")]
PATIENTS = {KIOSK: [Patient("p1", ("button 5",), "kiosk", "complete", 10, ("repeat_press",))]}
GOOD = snap({"invited": 2, "sent": 2, "answered": 1, "completed": 1, "opted_out": 0},
            {GW: {"complete": 1, "synced": 1}, KIOSK: {"complete": 1, "synced": 1}},
            {GW: 1, KIOSK: 1},
            [(GW, "sms", "complete", 8, ()), (KIOSK, "kiosk", "complete", 10, ("repeat_press",))])


def test_expected_rows_come_from_people_and_patients() -> None:
    assert expected_rows(GW, PEOPLE, PATIENTS) == Counter(
        {(GW, "sms", "complete", 8, ()): 1, (KIOSK, "kiosk", "complete", 10, ("repeat_press",)): 1})


def test_checks_pass_when_everything_adds_up() -> None:
    assert all(c.ok for c in checks(GOOD, GW, PEOPLE, PATIENTS))
    assert settled(GOOD, [GW, KIOSK], replies_pending=0)
    table = summary_table(GOOD, GW, PEOPLE, PATIENTS).splitlines()
    assert table[-1].split() == ["all", "2", "2", "2", "2", "2", "2"]


@pytest.mark.parametrize(("broken", "failing"), [
    (snap({"invited": 2, "sent": 1, "answered": 1, "completed": 1, "opted_out": 0},
          GOOD.local, GOOD.central, GOOD.rows), "SMS gateway counted"),
    (snap(GOOD.counters, GOOD.local, {GW: 1}, GOOD.rows[:1]), "stored = synced"),
    (snap(GOOD.counters, {**GOOD.local, GW: {"complete": 1, "synced": 0}}, GOOD.central,
          GOOD.rows), "stored = synced"),
    (snap(GOOD.counters, GOOD.local, GOOD.central,
          [(GW, "sms", "complete", 7, ()), GOOD.rows[1]]), "exactly the answers"),
    (snap(GOOD.counters, GOOD.local, GOOD.central, [GOOD.rows[0], (KIOSK, "kiosk",
                                                    "complete", 10, ())]), "exactly"),
])
def test_a_broken_link_fails_its_check(broken: Snapshot, failing: str) -> None:
    failed = [c.text for c in checks(broken, GW, PEOPLE, PATIENTS) if not c.ok]
    assert failed and all(failing in text for text in failed[:1])


def test_not_settled_while_anything_is_on_its_way() -> None:
    assert not settled(GOOD, [GW, KIOSK], replies_pending=1)
    assert not settled(snap(GOOD.counters, GOOD.local, GOOD.central, GOOD.rows, live=1),
                       [GW, KIOSK], 0)
    assert not settled(snap(GOOD.counters, {**GOOD.local, KIOSK: {"open": 1}}, GOOD.central,
                            GOOD.rows), [GW, KIOSK], 0)
    assert not settled(snap(GOOD.counters, GOOD.local, {GW: 1}, GOOD.rows), [GW, KIOSK], 0)

