"""The AT channel over real ports: a pty simulator, loop:// and spy:// URLs."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from modem_fixtures import sim_modem, sim_modem_runner
from services import wait_until

from hardware.modem_sim import ModemCore
from sms_gateway.at import AtChannel
from sms_gateway.errors import AtTimeout, CmeError, CmsError, PortError
from sms_gateway.pdu import encode_submit


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[str, ModemCore]]:
    with sim_modem(tmp_path) as started:
        yield started


@pytest.fixture
def channel(sim: tuple[str, ModemCore]) -> Iterator[AtChannel]:
    path, _ = sim
    with AtChannel(path) as ch:
        ch.command("ATE0", 2)
        ch.command("AT+CMEE=1", 2)
        yield ch


def test_commands_answer_and_echo_is_ignored(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    with AtChannel(path) as ch:
        assert core.echo
        assert ch.command("AT+CGMI", 2) == ["Palaute"]  # echo on: "AT+CGMI" not a reply line
        assert ch.command("ATE0", 2) == []
        assert ch.command("AT+CSQ", 2) == ["+CSQ: 20,99"]


def test_typed_errors_carry_command_and_code(channel: AtChannel,
                                             sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("sim-busy", "1")
    with pytest.raises(CmeError) as cme:
        channel.command("AT+CPIN?", 2)
    assert (cme.value.command, cme.value.code) == ("AT+CPIN?", 14)
    with pytest.raises(CmsError) as cms:
        channel.command("AT+CMGR=9", 2)
    assert (cms.value.command, cms.value.code) == ("AT+CMGR=9", 321)


def test_timeout_is_typed_and_the_channel_still_works(channel: AtChannel,
                                                      sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("hang", "1")
    with pytest.raises(AtTimeout) as exc:
        channel.command("AT+CSQ", 0.3)
    assert exc.value.command == "AT+CSQ"
    assert channel.command("AT", 2) == []


def test_pdu_send_with_prompt(channel: AtChannel, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    part = encode_submit("+358401234567", "Kiitos vastauksestasi")[0]
    lines = channel.send_pdu(f"AT+CMGS={part.tpdu_length}", part.hex, timeout=2)
    assert lines == ["+CMGS: 0"]
    assert core.sent()[0]["text"] == "Kiitos vastauksestasi"


def test_no_prompt_means_escape_and_nothing_written(channel: AtChannel,
                                                    sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("hang", "1")
    part = encode_submit("+358401234567", "x")[0]
    with pytest.raises(AtTimeout) as exc:
        channel.send_pdu(f"AT+CMGS={part.tpdu_length}", part.hex, prompt_timeout=0.3)
    assert exc.value.written is False  # type: ignore[attr-defined]
    assert core.sent() == []
    assert channel.command("AT", 2) == []


def test_urc_queue_is_bounded_and_drops_the_oldest(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    with AtChannel(path, urc_queue_size=3) as ch:
        ch.command("ATE0", 2)
        ch.command("AT+CNMI=2,1,0,1,0", 2)
        for n in range(5):
            core.deliver("+358401234567", f"viesti {n}")
        wait_until(lambda: ch.urcs_dropped == 2)
        assert ch.command("AT", 2) == []  # the reader was never blocked
        got = [ch.get_urc(1) for _ in range(3)]
        assert [u.args for u in got if u] == ['"SM",3', '"SM",4', '"SM",5']


def test_reader_survives_garbage(channel: AtChannel, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("garbage", "3")
    for _ in range(3):
        assert channel.command("AT+CSQ", 2) == ["+CSQ: 20,99"]
    assert channel.noise_lines >= 3


def test_vanished_port_raises_port_error_then_reopens(tmp_path: Path) -> None:
    with sim_modem_runner(tmp_path) as (path, core, runner), AtChannel(path) as ch:
        ch.command("AT", 2)
        core.fault("vanish", "0.2")
        wait_until(lambda: ch.is_lost)
        with pytest.raises(PortError):
            ch.command("AT", 1)
        wait_until(lambda: runner.returned == 1)
        ch.reopen()
        assert ch.command("AT", 2) == []


def test_open_failure_is_a_port_error(tmp_path: Path) -> None:
    with pytest.raises(PortError, match="cannot open"):
        AtChannel(str(tmp_path / "nothing")).open()


def test_loop_url_opens_and_times_out_cleanly() -> None:
    with AtChannel("loop://") as ch, pytest.raises(AtTimeout):
        ch.command("AT", 0.2)  # loop:// echoes: the echo is not an answer


def test_spy_url_wraps_a_real_port(sim: tuple[str, ModemCore],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = sim
    with AtChannel(f"spy://{path}") as ch:  # spy:// dumps the traffic to stderr
        assert ch.command("AT+CGMM", 2) == ["SIM-GSM 1"]
    assert "AT+CGMM" in capsys.readouterr().err


def test_late_answer_to_a_timed_out_command_is_not_taken_for_the_next(
    channel: AtChannel, sim: tuple[str, ModemCore]
) -> None:
    _, core = sim
    core.fault("slow", "1", "0.4")
    with pytest.raises(AtTimeout):
        channel.command("AT+CSQ", 0.1)
    # The late "+CSQ: 20,99 / OK" arrives while this probe waits: skipped, not its answer.
    assert channel.command("AT+CMEE?", 2, expect=lambda line: line.startswith("+CMEE")) == [
        "+CMEE: 1"]
    assert channel.command("AT+CGMM", 2) == ["SIM-GSM 1"]


class ScriptedPort:
    """A port whose answers the test releases one read at a time."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue()
        self.written: list[bytes] = []

    def read(self, size: int = 1) -> bytes:
        try:
            return self.chunks.get(timeout=0.05)
        except queue.Empty:
            return b""

    def write(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)

    def close(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        pass

    @property
    def in_waiting(self) -> int:
        return 0


def test_stale_ok_in_its_own_read_is_skipped_by_expect() -> None:
    port = ScriptedPort()
    with AtChannel("scripted://", opener=lambda url, baud: port) as ch:
        with pytest.raises(AtTimeout):
            ch.command("AT+CMGL=4", 0.1)
        result: list[list[str]] = []
        probe = threading.Thread(target=lambda: result.append(
            ch.command("ATS7?", 2, expect=lambda line: line.strip() == "042")))
        probe.start()
        wait_until(lambda: port.written[-1] == b"ATS7?\r")
        port.chunks.put(b"\r\n+CMGL: 1,0,,21\r\n0791AB\r\n\r\nOK\r\n")  # the late listing
        port.chunks.put(b"\r\n042\r\n\r\nOK\r\n")  # the probe's own answer, a read later
        probe.join(2)
        assert result == [["042"]]


def test_second_user_of_a_port_is_refused(sim: tuple[str, ModemCore]) -> None:
    path, _ = sim
    with AtChannel(path) as first:
        with pytest.raises(PortError, match="cannot open"):
            AtChannel(path).open()
        assert first.command("AT", 2) == []
