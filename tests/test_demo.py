"""`palaute demo` end to end: the whole chain runs, the counts match, nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from central.store import open_central
from sms_gateway.gateway_store import sms_status_counters
from survey.store import Store

DEVICES = ("demo-gateway-1", "demo-lobby-1", "demo-lobby-2")


def leftovers(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker` (the demo's folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(cmdline)
    return found


def local_ids(out: Path) -> tuple[set[str], int]:
    """Ids of final responses on every device, and how many responses are still open."""
    ids: set[str] = set()
    still_open = 0
    for device in DEVICES:
        with Store(out / device / "store.sqlite", create=False) as store:
            ids |= {r[0] for r in store.conn.execute(
                "SELECT id FROM responses WHERE status != 'open'")}
            still_open += store.counts()["open"]
    return ids, still_open


@pytest.mark.slow
def test_demo_runs_the_whole_chain_and_the_counts_match(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    people = 12
    proc = subprocess.run(
        [sys.executable, "-m", "palaute", "demo", "--out", str(out), "--people", str(people)],
        capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "the counts match along the whole chain" in proc.stdout
    assert not leftovers(str(out))

    # What the gateway counted is what went in: one invitation per CSV row, all sent.
    rows = (out / "demo-gateway-1" / "invitations-1.csv").read_text().splitlines()[1:]
    assert len(rows) == people
    with Store(out / "demo-gateway-1" / "store.sqlite", create=False) as store:
        counters = sms_status_counters(store)
    assert counters["invited"] == counters["sent"] == people

    # Every final answer on a device is at the central, once; nothing is left open.
    ids, still_open = local_ids(out)
    assert still_open == 0
    with open_central(f"sqlite:///{out / 'central' / 'central.sqlite'}") as central:
        assert central.response_ids() == ids
        assert central.quarantined() == []
        kinds = {(r[0], r[1]) for r in central.execute("SELECT channel, status FROM responses")}
        flags = [r[0] for r in central.execute("SELECT flags FROM responses")]
    assert {("sms", "complete"), ("sms", "expired"), ("kiosk", "complete"),
            ("kiosk", "abandoned"), ("kiosk-audio", "complete")} <= kinds
    assert sum("repeat_press" in f for f in flags) == 1

    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["people"] == people
    html = (out / "report.html").read_text()
    assert "<table" in html and "data:image/png;base64," in html
    assert f"HTML report: {out / 'report.html'}" in proc.stdout
    phones = (out / "demo-gateway-1" / "phones.txt").read_text()
    assert phones.count("\n+358") == people - 1


INTERACTIVE_MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from palaute.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    log = tmp_path / "demo.out"
    with open(log, "wb") as f:
        # A command started in the background inherits SIGINT ignored (as CI may start the
        # suite): give the demo the Ctrl-C a person at a terminal has.
        proc = subprocess.Popen(
            [sys.executable, "-c", INTERACTIVE_MAIN, "demo", "--out", str(out), "--people", "4"],
            stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        # The CSV is written once every service runs: interrupt in the middle of it all.
        while not (out / "demo-gateway-1" / "invitations-1.csv").exists():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert len(leftovers(str(out))) >= 6  # broker, receiver, gateway, three agents
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not leftovers(str(out)), leftovers(str(out))


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("mine")
    proc = subprocess.run([sys.executable, "-m", "palaute", "demo", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"palaute: error: {tmp_path}: the folder is not empty (give a new or empty --out "
        "folder)"]
    assert (tmp_path / "something").read_text() == "mine"
