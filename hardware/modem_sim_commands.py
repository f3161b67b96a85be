"""The simulated modem's AT commands (TS 27.007 / TS 27.005), one handler each.

A handler takes the `ModemCore` and the text after the command name ("?", "=?", "=1,2")
and returns None (OK), a final result line, groups of response lines, or NO_REPLY when
it answers later (the AT+CMGS prompt). `SimError` becomes ERROR / +CME / +CMS ERROR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sms_gateway.errors import PduError
from sms_gateway.pdu import Pdu, decode_pdu

if TYPE_CHECKING:
    from hardware.modem_sim import ModemCore

STAT_NAMES = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")
MEMORIES = ("SM", "ME", "SR")


@dataclass
class Slot:
    """One stored message: <stat> (0 unread .. 3 sent) and the PDU hex with SMSC part."""

    stat: int
    pdu: str


def take(count: int | None) -> tuple[bool, int | None]:
    """One use of a counted fault: (applies now, count left)."""
    if count is None:
        return True, None
    if count > 0:
        return True, count - 1
    return False, 0


def tpdu_length(pdu_hex: str) -> int:
    smsc_octets = int(pdu_hex[:2], 16) if len(pdu_hex) >= 2 else 0
    return len(pdu_hex) // 2 - 1 - smsc_octets


class SimError(Exception):
    def __init__(self, kind: str, code: int = 0) -> None:
        super().__init__(kind, code)
        self.kind, self.code = kind, code


# Each handler takes the core and the text after the command name ("?", "=?", "=1,2")
# and returns None (OK), a final result line, or groups of response lines.

Reply = list[list[str]] | str | None


def _args(rest: str) -> list[str]:
    return [a.strip().strip('"') for a in rest.lstrip("=").split(",")] if rest else []


def _int_arg(rest: str, low: int, high: int) -> int:
    values = _args(rest)
    if len(values) != 1 or not values[0].isdigit() or not low <= int(values[0]) <= high:
        raise SimError("cme", 50)  # incorrect parameters
    return int(values[0])


def _identity(core: ModemCore) -> list[list[str]]:
    c = core.config
    return [[c.manufacturer, c.model, c.revision]]


def _reset(core: ModemCore) -> list[list[str]]:
    core.echo, core.cmgf, core.cnmi = True, 0, [0, 0, 0, 0, 0]
    core.cmee = 2 if core.config.cmee_words else 0
    return []


def _echo(on: bool) -> Callable[[ModemCore], list[list[str]]]:
    def handler(core: ModemCore) -> list[list[str]]:
        core.echo = on
        return []

    return handler


SIMPLE: dict[str, Callable[[ModemCore], list[list[str]]]] = {
    "": lambda core: [],
    "Z": _reset,
    "Z0": _reset,
    "&F": _reset,
    "E0": _echo(False),
    "E1": _echo(True),
    "I": _identity,
    "+CLAC": lambda core: _clac(core),
    "+CGMI": lambda core: [[core.config.manufacturer]],
    "+GMI": lambda core: [[core.config.manufacturer]],
    "+CGMM": lambda core: [[core.config.model]],
    "+GMM": lambda core: [[core.config.model]],
    "+CGMR": lambda core: [[core.config.revision]],
    "+CGSN": lambda core: [[core.config.imei]],
    "+GSN": lambda core: [[core.config.imei]],
    "+CSQ": lambda core: [[f"+CSQ: {core.config.rssi if core.reg_stat() in (1, 5) else 99},99"]],
}


def _setting(name: str, attr: str, high: int) -> Callable[[ModemCore, str], Reply]:
    def handler(core: ModemCore, rest: str) -> Reply:
        if rest == "?":
            return [[f"{name}: {getattr(core, attr)}"]]
        if rest == "=?":
            return [[f"{name}: (0-{high})"]]
        setattr(core, attr, _int_arg(rest, 0, high))
        return None

    return handler


def _creg(name: str, attr: str) -> Callable[[ModemCore, str], Reply]:
    setting = _setting(name, attr, 2)

    def handler(core: ModemCore, rest: str) -> Reply:
        if rest == "?":
            return [[f"{name}: {getattr(core, attr)},{core.reg_stat()}"]]
        return setting(core, rest)

    return handler


def _cpin(core: ModemCore, rest: str) -> Reply:
    busy, core.faults.sim_busy = take(core.faults.sim_busy)
    if busy:
        raise SimError("cme", 14)
    if core.faults.no_sim:
        raise SimError("cme", 10)
    if core.sim_busy():
        if rest == "?" and core.config.busy_cpin:
            return [[f"+CPIN: {core.config.busy_cpin}"]]
        raise SimError("cme", core.config.busy_cme)
    if rest == "?":
        return [["+CPIN: READY" if core.sim_ready else "+CPIN: SIM PIN"]]
    if rest == "=?":
        return None
    given = _args(rest)[0] if _args(rest) else ""
    if core.sim_ready:
        return None
    if given != core.pin:
        raise SimError("cme", 16)  # incorrect password
    core.sim_ready = True
    core._urc("+CPIN: READY")
    core._urc("SMS Ready")
    return None


def _csca(core: ModemCore, rest: str) -> Reply:
    core._need_sim()
    if rest == "?":
        empty, core.faults.no_smsc = take(core.faults.no_smsc)
        smsc = "" if empty else core.config.smsc
        return [[f'+CSCA: "{smsc}",{145 if smsc.startswith("+") else 129}']]
    if rest == "=?":
        return None
    values = _args(rest)
    if not values or not values[0]:
        raise SimError("cms", 304)
    core.config.smsc = values[0]
    return None


def _cpms(core: ModemCore, rest: str) -> Reply:
    core._need_sim(sms=True)
    if rest == "=?":
        return [["+CPMS: " + core.config.cpms_supported]]
    if rest == "?":
        parts = [f'"{m}",{len(core.storage[m])},{core.config.slots}' for m in core.cpms]
        return [["+CPMS: " + ",".join(parts)]]
    wanted = [a.upper() for a in _args(rest)]
    if not wanted or len(wanted) > 3 or any(m not in MEMORIES for m in wanted):
        raise SimError("cms", 302)
    if any(m == "SR" for m in wanted[1:]):
        raise SimError("cms", 302)
    for i, mem in enumerate(wanted):
        core.cpms[i] = mem
    core._drain_network()
    use = [f"{len(core.storage[m])},{core.config.slots}" for m in core.cpms]
    return [["+CPMS: " + ",".join(use)]]


def _cnmi(core: ModemCore, rest: str) -> Reply:
    if rest == "=?":
        return [["+CNMI: " + core.config.cnmi_supported]]
    if rest == "?":
        return [["+CNMI: " + ",".join(map(str, core.cnmi))]]
    values = _args(rest)
    allowed = [_ranges(g) for g in core.config.cnmi_supported.split("),(")]
    if not values or len(values) > 5 or any(
        v and (not v.isdigit() or int(v) not in allowed[i]) for i, v in enumerate(values)
    ):
        raise SimError("cms", 303)
    for i, v in enumerate(values):
        if v:
            core.cnmi[i] = int(v)
    core._drain_network()
    return None


def _ranges(text: str) -> set[int]:
    values: set[int] = set()
    for part in text.strip("()").split(","):
        low, _, high = part.partition("-")
        values.update(range(int(low), int(high or low) + 1))
    return values


def _cmgs(core: ModemCore, rest: str) -> Reply:
    if rest == "=?":
        return None
    core._need_sim(sms=True)
    target = rest.lstrip("=").split(",")[0].strip().strip('"')
    if not target:
        raise SimError("cms", 304)
    core._prompt_for = target
    core._emit(core.config.prompt)
    return NO_REPLY


def _cmgw(core: ModemCore, rest: str) -> Reply:
    if rest == "=?":
        return None
    core._need_sim(sms=True)
    if core._free_slot(core.cpms[1]) is None:
        raise SimError("cms", 322)  # memory full
    core._prompt_for = "W:" + rest.lstrip("=").split(",")[0].strip().strip('"')
    core._emit(core.config.prompt)
    return NO_REPLY


def _record_header(core: ModemCore, index: int | None, slot: Slot) -> str:
    """+CMGL/+CMGR header (PDU mode: stat,,length; text mode: stat,"oa",,"scts")."""
    lead = f"{index}," if index is not None else ""
    if core.cmgf == 0:
        alpha = core.config.record_alpha
        middle = "," if alpha is None else f",{alpha},"
        return f"{lead}{slot.stat}{middle}{tpdu_length(slot.pdu)}"
    pdu = _safe_decode(slot.pdu)
    who = (pdu.sender or pdu.recipient or "") if pdu else ""
    when = pdu.timestamp.strftime("%y/%m/%d,%H:%M:%S+00") if pdu and pdu.timestamp else ""
    return f'{lead}"{STAT_NAMES[slot.stat]}","{who}",,"{when}"'


def _record_body(core: ModemCore, slot: Slot) -> str:
    if core.cmgf == 0:
        return slot.pdu.lower() if core.config.lower_hex else slot.pdu
    pdu = _safe_decode(slot.pdu)
    return pdu.text if pdu else slot.pdu


def _safe_decode(pdu_hex: str) -> Pdu | None:
    try:
        return decode_pdu(pdu_hex)
    except PduError:
        return None


def _stat_filter(core: ModemCore, rest: str) -> int:
    value = _args(rest)[0].upper() if _args(rest) else ("4" if core.cmgf == 0 else "ALL")
    if value.isdigit() and int(value) <= 4:
        return int(value)
    if value in STAT_NAMES:
        return STAT_NAMES.index(value)
    raise SimError("cms", 302)


def _cmgl(core: ModemCore, rest: str) -> Reply:
    core._need_sim(sms=True)
    if rest == "=?":
        return [["+CMGL: (0-4)" if core.cmgf == 0 else '+CMGL: ("REC UNREAD","ALL")']]
    wanted = _stat_filter(core, rest)
    groups = []
    for index, slot in sorted(core.storage[core.cpms[0]].items()):
        if wanted in (4, slot.stat):
            groups.append([f"+CMGL: {_record_header(core, index, slot)}", _record_body(core, slot)])
            if slot.stat == 0:
                slot.stat = 1
    return groups


def _cmgr(core: ModemCore, rest: str) -> Reply:
    core._need_sim(sms=True)
    values = _args(rest)
    if not values or not values[0].isdigit():
        raise SimError("cms", 302)
    slot = core.storage[core.cpms[0]].get(int(values[0]))
    if slot is None:
        raise SimError("cms", 321)  # invalid memory index
    reply = [[f"+CMGR: {_record_header(core, None, slot)}", _record_body(core, slot)]]
    if slot.stat == 0:
        slot.stat = 1
    return reply


def _cmgd(core: ModemCore, rest: str) -> Reply:
    core._need_sim(sms=True)
    values = _args(rest)
    if not values or not values[0].isdigit():
        raise SimError("cms", 302)
    slots = core.storage[core.cpms[0]]
    flag = int(values[1]) if len(values) > 1 and values[1].isdigit() else 0
    if flag == 0:
        first = core.config.first_index
        if not first <= int(values[0]) < first + core.config.slots:
            raise SimError("cms", 321)
        slots.pop(int(values[0]), None)
    else:  # 1 read, 2 read+sent, 3 read+sent+unsent, 4 all
        keep = {0: (0, 1, 2, 3), 1: (0, 2, 3), 2: (0, 2), 3: (0,), 4: ()}[min(flag, 4)]
        for index in [i for i, s in slots.items() if s.stat not in keep]:
            del slots[index]
    core._drain_network()
    return None


def _cfun(core: ModemCore, rest: str) -> Reply:
    if rest == "?":
        return [["+CFUN: 1"]]
    if rest == "=?":
        return [["+CFUN: (0,1,4),(0-1)"]]
    if _args(rest)[1:2] == ["1"]:
        core._emit(b"\r\nOK\r\n")
        core.reboot()
        return NO_REPLY
    return None


def _cops(core: ModemCore, rest: str) -> Reply:
    if rest == "?":
        if core.reg_stat() in (1, 5):
            return [[f'+COPS: 0,0,"{core.config.operator}",7']]
        return [["+COPS: 0"]]
    return None


def _cimi(core: ModemCore, rest: str) -> Reply:
    core._need_sim()
    return [[core.config.imsi]]


def _cscs(core: ModemCore, rest: str) -> Reply:
    """TE character set (TS 27.007 §5.5); only text mode would use it."""
    if rest == "=?":
        return [['+CSCS: ("GSM","IRA","UCS2")']]
    if rest == "?":
        return [[f'+CSCS: "{core.cscs}"']]
    wanted = _args(rest)[0].upper() if _args(rest) else ""
    if wanted not in ("GSM", "IRA", "UCS2"):
        raise SimError("cme", 50)
    core.cscs = wanted
    return None


def _clac(core: ModemCore) -> list[list[str]]:
    """AT+CLAC: every command this modem knows, one a line (as SIMCom modems list them)."""
    names = sorted({*HANDLERS, *(k for k in SIMPLE if k.startswith("+"))})
    return [[f"AT{name}" for name in names]]


def _accept(core: ModemCore, rest: str) -> Reply:
    return None


def _cmee(core: ModemCore, rest: str) -> Reply:
    if rest == "?" and not core.config.cmee_query:
        return None  # a bare OK, as some modems answer
    if rest.startswith("=") and not rest.startswith("=?") and core.config.cmee_words:
        raise SimError("error")  # it keeps its errors in words
    return _setting("+CMEE", "cmee", 2)(core, rest)


def _curc(core: ModemCore, rest: str) -> Reply:
    """AT^CURC (Huawei): 0 stops the periodic reports (^RSSI, ^HCSQ, ^MODE...)."""
    if not core.config.curc:
        raise SimError("error")
    if rest == "?":
        return [[f"^CURC: {int(core.periodic_on)}"]]
    if rest == "=?":
        return [["^CURC: (0-1)"]]
    core.periodic_on = _int_arg(rest, 0, 1) == 1 and bool(core.config.periodic_urcs)
    return None


class NoReply(str):
    """Marks a command that answers later (the CMGS prompt) or has answered already."""


NO_REPLY = NoReply("")

HANDLERS: dict[str, Callable[[ModemCore, str], Reply]] = {
    "+CMEE": _cmee,
    "^CURC": _curc,
    "+CMGF": _setting("+CMGF", "cmgf", 1),
    "+CREG": _creg("+CREG", "creg_n"),
    "+CEREG": _creg("+CEREG", "cereg_n"),
    "+CGREG": _creg("+CGREG", "cereg_n"),
    "+CPIN": _cpin,
    "+CSCA": _csca,
    "+CPMS": _cpms,
    "+CNMI": _cnmi,
    "+CMGS": _cmgs,
    "+CMGW": _cmgw,
    "+CMGL": _cmgl,
    "+CMGR": _cmgr,
    "+CMGD": _cmgd,
    "+CFUN": _cfun,
    "+COPS": _cops,
    "+CIMI": _cimi,
    "+CSMP": _accept,
    "+CSCS": _cscs,
    "+CNMA": _accept,
    "+CLIP": _accept,
    "+CRC": _accept,
    "+CSMS": _accept,
}
