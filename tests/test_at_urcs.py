"""Unsolicited result codes anywhere in a response, as real modems write them (issue 15).

Huawei sticks put `^RSSI`/`^HCSQ`/`^MODE` between a +CMGL header and its PDU and even
inside the echo (E3372: `A`, `^RSSI:20`, `^HCSQ:...`, `T+CGMI`); SIMCom/Quectel modems
announce `Call Ready`, `+QIND`, `+CPIN: READY` at any time; a +CDS status report (header
and PDU) can land in the middle of a listing. The PDU is recognised by what it is.
"""

from __future__ import annotations

import pytest

from sms_gateway.at import AtFramer, Final, Line, Prompt, Urc, is_pdu_line

# SMS-DELIVER "Kiitos 9" from +358401234567 with SMSC part: TPDU 26 octets.
PDU = "0791534850020200040C9153481032547600005230400100000008CB749AFE9E8372"
# SMS-STATUS-REPORT for message reference 7, delivered: TPDU 25 octets.
REPORT = "079153485002020006070C91534810325476523040010000005230400100000000"

URCS = [
    "^RSSI:17", "^RSSI: 18", '^HCSQ:"LTE",49,39,121,20', "^MODE:5,4", "^BOOT:20952,0,0,0,72",
    "^DSFLOWRPT:0000002E,00000000,00000000,0000000000000000,0000000000000000,0003E800,"
    "0003E800", "^SRVST:0", "^SIMST:1", "^SYSSTART", "+CIEV: 2,3", "+CIEV: \"MESSAGE\",1",
    "RING", "+CRING: VOICE", '+CLIP: "+358401234567",145,"",0,"",0', '+CMTI: "ME",3',
    '+CMTI: "SM",12', '+CDSI: "SR",1', "+CREG: 1", '+CREG: 1, E006B, ABE0016',
    '+CGREG: 5,"00C3","0000A1B2",7', "+CEREG: 1", '+CUSD: 0,"Saldo 5,00 EUR",15',
    "NO CARRIER", "BUSY", "Call Ready", "SMS Ready", "+CPIN: READY", "+CPIN: NOT READY",
    "+QIND: SMS DONE", "+QIND: PB DONE", '+QUSIM: 1', "+CFUN: 1", "RDY", "SMS DONE",
    "PB DONE", "+WIND: 4", "+STIN: 25", '+CTZV: "+08"', '*PSUTTZ: 25,3,4,10,0,0,"+8",0',
    "DST: 0", "+CGEV: ME PDN ACT 1", "^SMMEMFULL: \"SM\"", "+CSQN: 20,99",
]


def feed(framer: AtFramer, data: str, *, bytewise: bool = False) -> list[object]:
    raw = data.encode()
    if bytewise:
        return [e for i in range(len(raw)) for e in framer.feed(raw[i : i + 1])]
    return list(framer.feed(raw))


@pytest.fixture(params=[False, True], ids=["chunk", "bytewise"])
def bytewise(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.mark.parametrize("urc", URCS)
def test_urc_between_cmgl_header_and_pdu(urc: str, bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGL=4")
    events = feed(framer, f"\r\n+CMGL: 1,0,,26\r\n{urc}\r\n{PDU}\r\n\r\nOK\r\n", bytewise=bytewise)
    assert [e for e in events if isinstance(e, Line)] == [Line("+CMGL: 1,0,,26"), Line(PDU)]
    assert [e.line for e in events if isinstance(e, Urc)] == [urc]
    assert events[-1] == Final("ok", "OK")


@pytest.mark.parametrize("urc", URCS)
def test_urc_in_every_place_of_a_reply(urc: str, bytewise: bool) -> None:
    """Before the echo, after it, between reply lines, before the final OK."""
    framer = AtFramer()
    framer.begin("AT+CMGR=3")
    data = (f"\r\n{urc}\r\nAT+CMGR=3\r\r\n{urc}\r\n+CMGR: 0,\"\",26\r\n{urc}\r\n"
            f"{PDU.lower()}\r\n{urc}\r\n\r\nOK\r\n")
    events = feed(framer, data, bytewise=bytewise)
    assert [e for e in events if isinstance(e, Line)] == [
        Line('+CMGR: 0,"",26'), Line(PDU.lower())]
    assert [e.line for e in events if isinstance(e, Urc)] == [urc] * 4
    assert events[-1] == Final("ok", "OK")


def test_two_line_status_report_inside_a_listing(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGL=4")
    data = (f"\r\n+CMGL: 1,1,,26\r\n+CDS: 25\r\n{REPORT}\r\n^RSSI:17\r\n{PDU}\r\n"
            f"+CMGL: 2,1,26\r\n+CMT: ,26\r\n{PDU}\r\n{PDU}\r\n\r\nOK\r\n")
    events = feed(framer, data, bytewise=bytewise)
    assert [e for e in events if isinstance(e, Line)] == [
        Line("+CMGL: 1,1,,26"), Line(PDU), Line("+CMGL: 2,1,26"), Line(PDU)]
    assert [e for e in events if isinstance(e, Urc)] == [
        Urc("+CDS", "+CDS: 25", REPORT), Urc("^RSSI", "^RSSI:17"),
        Urc("+CMT", "+CMT: ,26", PDU)]


def test_status_report_urc_waits_for_its_pdu_past_other_urcs(bytewise: bool) -> None:
    framer = AtFramer()
    events = feed(framer, f"\r\n+CDS: 25\r\n^RSSI:17\r\n\r\n^MODE:5,4\r\n{REPORT}\r\n",
                  bytewise=bytewise)
    assert events == [Urc("^RSSI", "^RSSI:17"), Urc("^MODE", "^MODE:5,4"),
                      Urc("+CDS", "+CDS: 25", REPORT)]


def test_header_whose_pdu_never_comes_is_not_paired_with_the_next_line() -> None:
    framer = AtFramer()
    framer.begin("AT+CMGL=4")
    events = feed(framer, f"\r\n+CMGL: 1,0,,26\r\n^RSSI:17\r\n+CMGL: 2,0,,26\r\n{PDU}\r\n"
                          "\r\nOK\r\n")
    assert [e for e in events if isinstance(e, Line)] == [
        Line("+CMGL: 1,0,,26"), Line("+CMGL: 2,0,,26"), Line(PDU)]
    framer.end()
    framer.begin("AT+CMGR=1")
    events = feed(framer, "\r\n+CMGR: 0,,26\r\n^HCSQ:\"LTE\",49\r\n\r\nOK\r\n")
    assert events[-1] == Final("ok", "OK")
    assert Urc("^HCSQ", '^HCSQ:"LTE",49') in events


def test_echo_broken_by_urcs_is_still_echo(bytewise: bool) -> None:
    """What a Huawei E3372 writes for AT+CGMI with its periodic reports on."""
    framer = AtFramer()
    framer.begin("AT+CGMI")
    data = 'A\r\n^RSSI:20\r\n\r\n^HCSQ:"LTE",49,39,121,20\r\nT+CGMI\r\nhuawei\r\n\r\nOK\r\n'
    events = feed(framer, data, bytewise=bytewise)
    assert [e for e in events if not isinstance(e, Urc)] == [Line("huawei"), Final("ok", "OK")]


def test_call_codes_end_only_call_commands() -> None:
    framer = AtFramer()
    framer.begin("AT+CSQ")
    events = feed(framer, "\r\nRING\r\n\r\nNO CARRIER\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    assert events == [Urc("RING", "RING"), Urc("NO CARRIER", "NO CARRIER"),
                      Line("+CSQ: 20,99"), Final("ok", "OK")]
    framer.end()
    framer.begin("ATD+358401234567;")
    assert feed(framer, "\r\nNO CARRIER\r\n") == [Final("error", "NO CARRIER")]


@pytest.mark.parametrize("reply", ["\r\n>\r\n", "\r\n> \r\n", "\r\n>", "\r\n> "])
def test_prompt_with_or_without_space_and_line_end(reply: str, bytewise: bool) -> None:
    """SIMCom SIM7670G writes the prompt as a bare `>` line; most write `> `."""
    framer = AtFramer()
    framer.begin("AT+CMGS=26", expect_prompt=True)
    events = feed(framer, "AT+CMGS=26\r\r\n^RSSI:17\r\n" + reply, bytewise=bytewise)
    assert events == [Urc("^RSSI", "^RSSI:17"), Prompt()]


@pytest.mark.parametrize(
    ("text", "length", "expected"),
    [
        (PDU, 26, True), (PDU.lower(), 26, True), (PDU[16:], 26, True),  # without SMSC
        (PDU, 25, False), (PDU, None, True), ("^RSSI:17", 26, False), ("OK", None, False),
        (PDU[:-1], 26, False), ("", None, False),
    ],
)
def test_pdu_line_is_hex_of_the_announced_length(text: str, length: int | None,
                                                 expected: bool) -> None:
    assert is_pdu_line(text, length) is expected


def test_code_right_after_the_prompt_on_its_line() -> None:
    framer = AtFramer()
    framer.begin("AT+CMGS=26", expect_prompt=True)
    assert framer.feed(b"\r\n> ^RSSI:17\r\n") == [Prompt(), Urc("^RSSI", "^RSSI:17")]


@pytest.mark.parametrize("urc", ["+CSCON: 1", "+XNEW: 3,\"abc\"", "#QSS: 1", "*XREADY: 1"])
def test_unknown_coded_line_in_an_extended_commands_reply_is_unsolicited(urc: str) -> None:
    """TS 27.007 §4.1: an extended command's information text carries its own name; a coded
    line of another name (a vendor code we do not list) is not the answer."""
    framer = AtFramer()
    framer.begin("AT+CGMI")
    events = feed(framer, f"\r\n{urc}\r\nQuectel\r\n\r\nOK\r\n")
    assert events[0] == Urc(urc.partition(":")[0].upper(), urc)
    assert events[1:] == [Line("Quectel"), Final("ok", "OK")]


def test_basic_commands_keep_unknown_coded_lines_as_reply() -> None:
    framer = AtFramer()
    framer.begin("AT&V")  # a basic command: its dump may hold any coded text
    events = feed(framer, "\r\n+XCFG: 1; E: 0\r\n\r\nOK\r\n")
    assert events == [Line("+XCFG: 1; E: 0"), Final("ok", "OK")]


def test_each_pdu_goes_to_the_header_whose_length_it_has() -> None:
    """A +CDS header between a +CMGL header and its PDU, its report PDU coming last."""
    framer = AtFramer()
    framer.begin("AT+CMGL=4")
    events = feed(framer, f"\r\n+CMGL: 1,0,,26\r\n+CDS: 25\r\n{PDU}\r\n{REPORT}\r\n\r\nOK\r\n")
    assert [e for e in events if isinstance(e, Line)] == [Line("+CMGL: 1,0,,26"), Line(PDU)]
    assert [e for e in events if isinstance(e, Urc)] == [Urc("+CDS", "+CDS: 25", REPORT)]


def test_noise_and_our_own_echo_between_a_header_and_its_pdu(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGS=20", expect_prompt=True)
    assert feed(framer, "\r\n> ", bytewise=bytewise) == [Prompt()]
    framer.expect_echo("0011000C915348103254760000AA01C8")
    data = ("\r\n+CDS: 25\r\n0011000C915348103254760000AA01C8\r\n\x07no\ufffdse(\r\n"
            f"{REPORT}\r\n+CMGS: 8\r\n\r\nOK\r\n")
    events = feed(framer, data, bytewise=bytewise)
    assert events == [Urc("+CDS", "+CDS: 25", REPORT), Line("+CMGS: 8"), Final("ok", "OK")]
