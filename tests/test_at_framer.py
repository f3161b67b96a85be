"""The pure AT framer: bytes in, events out (TS 27.007 §5 framing, TS 27.005 result codes)."""

from __future__ import annotations

import pytest

from sms_gateway.at import AtFramer, Final, Line, Prompt, Urc, command_prefix, split_params


def feed_all(framer: AtFramer, data: bytes, *, bytewise: bool = False) -> list[object]:
    if bytewise:
        return [e for i in range(len(data)) for e in framer.feed(data[i : i + 1])]
    return list(framer.feed(data))


@pytest.fixture(params=[False, True], ids=["chunk", "bytewise"])
def bytewise(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.mark.parametrize(
    ("line", "kind", "code"),
    [
        ("OK", "ok", None),
        ("ERROR", "error", None),
        ("+CME ERROR: 14", "cme", 14),
        ("+CMS ERROR: 500", "cms", 500),
        ("+CME ERROR: SIM busy", "cme", None),
        ("NO CARRIER", "error", None),
        ("BUSY", "error", None),
        ("NO ANSWER", "error", None),
        ("NO DIALTONE", "error", None),
        ("CONNECT 9600", "connect", None),
    ],
)
def test_final_result_codes_end_a_command(line: str, kind: str, code: int | None) -> None:
    framer = AtFramer()
    framer.begin("ATD+358401234567;")
    events = framer.feed(f"\r\n{line}\r\n".encode())
    assert events == [Final(kind, line, code)]


def test_sms_whose_text_is_ok_is_data_not_a_final_result(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGL=1", )
    data = b'\r\n+CMGL: 1,"REC READ","+358401234567",,"25/03/04,10:15:02+08"\r\nOK\r\n\r\nOK\r\n'
    events = feed_all(framer, data, bytewise=bytewise)
    assert events == [
        Line('+CMGL: 1,"REC READ","+358401234567",,"25/03/04,10:15:02+08"'),
        Line("OK"),
        Final("ok", "OK"),
    ]


def test_sms_text_error_inside_cmgr_is_data() -> None:
    framer = AtFramer()
    framer.begin("AT+CMGR=3")
    events = framer.feed(b'\r\n+CMGR: "REC UNREAD","+3584",,"25/03/04"\r\nERROR\r\n\r\nOK\r\n')
    assert events[1] == Line("ERROR") and events[2] == Final("ok", "OK")


def test_urc_in_the_middle_of_a_response_goes_aside(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGL=4")
    data = (b"\r\n+CMGL: 1,1,,21\r\n0791AB\r\n\r\n+CMTI: \"SM\",2\r\n\r\n^RSSI: 18\r\n"
            b"\r\n+CMGL: 2,0,,21\r\n0791CD\r\n\r\nOK\r\n")
    events = feed_all(framer, data, bytewise=bytewise)
    assert [e for e in events if isinstance(e, Urc)] == [
        Urc("+CMTI", '+CMTI: "SM",2'), Urc("^RSSI", "^RSSI: 18")]
    assert [e.text for e in events if isinstance(e, Line)] == [
        "+CMGL: 1,1,,21", "0791AB", "+CMGL: 2,0,,21", "0791CD"]
    assert events[-1] == Final("ok", "OK")


def test_two_line_urcs_carry_their_pdu(bytewise: bool) -> None:
    framer = AtFramer()
    data = (b"\r\n+CDS: 25\r\n0791AABB\r\n\r\n+CMT: ,21\r\n0011AA\r\n"
            b'\r\n+CMT: "+358401234567",,"25/03/04,10:00:00+08"\r\nOK\r\n'
            b"\r\n+CDSI: \"SR\",3\r\n")
    events = feed_all(framer, data, bytewise=bytewise)
    assert events == [
        Urc("+CDS", "+CDS: 25", "0791AABB"),
        Urc("+CMT", "+CMT: ,21", "0011AA"),
        # Text mode: an SMS reading "OK" delivered directly is the data line.
        Urc("+CMT", '+CMT: "+358401234567",,"25/03/04,10:00:00+08"', "OK"),
        Urc("+CDSI", '+CDSI: "SR",3'),
    ]


def test_text_mode_cds_is_one_line() -> None:
    framer = AtFramer()
    events = framer.feed(b'\r\n+CDS: 6,12,"+358401234567",145,"25/03/04,10:00:00+08"\r\n')
    assert events == [Urc("+CDS", '+CDS: 6,12,"+358401234567",145,"25/03/04,10:00:00+08"')]


def test_creg_reply_vs_unsolicited_told_apart_by_command_in_flight() -> None:
    framer = AtFramer()
    assert framer.feed(b"\r\n+CREG: 2\r\n") == [Urc("+CREG", "+CREG: 2")]
    framer.begin("AT+CREG?")
    assert framer.feed(b"\r\n+CREG: 0,1\r\n\r\nOK\r\n") == [Line("+CREG: 0,1"), Final("ok", "OK")]
    framer.end()
    framer.begin("AT+CSQ")
    assert framer.feed(b"\r\n+CEREG: 1\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n") == [
        Urc("+CEREG", "+CEREG: 1"), Line("+CSQ: 20,99"), Final("ok", "OK")]


def test_solicited_cpin_is_a_reply_unsolicited_cpin_is_a_urc() -> None:
    framer = AtFramer()
    assert framer.feed(b"\r\n+CPIN: READY\r\n") == [Urc("+CPIN", "+CPIN: READY")]
    framer.begin("AT+CPIN?")
    assert framer.feed(b"\r\n+CPIN: SIM PIN\r\n")[0] == Line("+CPIN: SIM PIN")


@pytest.mark.parametrize("line", ["RING", "RDY", "SMS Ready", "Call Ready", "^BOOT:1,0,0,4,0",
                                  "^MODE: 5,4", "+QIND: SMS DONE", "+CPIN: READY"])
def test_known_urcs_outside_a_command(line: str) -> None:
    events = AtFramer().feed(f"\r\n{line}\r\n".encode())
    assert len(events) == 1 and isinstance(events[0], Urc) and events[0].line == line


def test_echo_is_ignored_and_prompt_found_without_line_end(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CMGS=19", expect_prompt=True)
    events = feed_all(framer, b"AT+CMGS=19\r\r\n> ", bytewise=bytewise)
    assert events == [Prompt()]
    framer.expect_echo("0011AABB")
    events = feed_all(framer, b"0011AABB\x1a\r\n+CMGS: 7\r\n\r\nOK\r\n", bytewise=bytewise)
    assert events == [Line("+CMGS: 7"), Final("ok", "OK")]


def test_prompt_is_not_guessed_when_not_expected() -> None:
    framer = AtFramer()
    framer.begin("AT+CSQ")
    assert framer.feed(b"\r\n> ") == []


def test_noise_and_invalid_utf8_do_not_break_framing(bytewise: bool) -> None:
    framer = AtFramer()
    framer.begin("AT+CSQ")
    data = b"\r\n\xff\xfe\x00\x9c\x80\xc3(\x1b[\x07\r\n\xff\xff+CSQ: 20,99\r\n\x00\r\nOK\r\n"
    events = feed_all(framer, data, bytewise=bytewise)
    assert events == [Line("+CSQ: 20,99"), Final("ok", "OK")]
    assert framer.noise_lines >= 1


def test_stray_final_outside_a_command_is_dropped() -> None:
    assert AtFramer().feed(b"\r\nOK\r\n\r\nERROR\r\n") == []


def test_every_byte_value_is_survived() -> None:
    framer = AtFramer()
    framer.feed(bytes(range(256)) * 4)
    framer.begin("AT")
    assert framer.feed(b"\r\nOK\r\n")[-1] == Final("ok", "OK")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"SM",1,10,"ME",0,20', ["SM", "1", "10", "ME", "0", "20"]),
        ('("SM","ME","SR"),("SM","ME")', ['("SM","ME","SR")', '("SM","ME")']),
        ('"a,b",3', ["a,b", "3"]),
    ],
)
def test_split_params(text: str, expected: list[str]) -> None:
    assert split_params(text) == expected


def test_command_prefix() -> None:
    assert command_prefix("AT+CREG?") == "+CREG"
    assert command_prefix("AT^SYSINFO") == "^SYSINFO"
    assert command_prefix("ATE0") == ""
