"""Named modem profiles for the simulator: how real modems differ from the standard.

Each profile is a set of `SimConfig` fields reproducing what a modem family is known to do
(from the issue trackers of gammu, smstools3 and python-gsmmodem, and the makers' AT
manuals): unsolicited codes in the middle of replies, a SIM that stays busy after power-on,
a probe command the modem does not know, a prompt without its space, lower-case hex,
listings without the <alpha> field, storage it refuses, reports kept in SR memory.
`palaute sms simulate-modem --profile NAME` and the tests choose one by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hardware.modem_sim import SimConfig


class UnknownProfile(ValueError):
    """A profile name the simulator does not know."""


@dataclass(frozen=True)
class Profile:
    """A modem family: its name, what it does differently, and the SimConfig fields."""

    name: str
    summary: str
    settings: dict[str, Any] = field(default_factory=dict)


_HUAWEI_REPORTS = (
    "^RSSI:17", '^HCSQ:"LTE",49,39,121,20', "^MODE:5,4", "^SRVST:2", "^RSSI:18",
    "^DSFLOWRPT:0000002E,00000000,00000000,0000000000000000,0000000000000000,0003E800,"
    "0003E800", "^SIMST:1",
)

_HUAWEI_OLD_REPORTS = (
    "^RSSI:14", "^MODE:5,4", "^SRVST:0", "^RSSI:10",
    "^DSFLOWRPT:00000079,00000000,00000000,00000000000009A8,0000000000000C69,00000000,"
    "00000000", "^BOOT:27866854,0,0,0,72",
)

PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("standard", "TS 27.005/27.007 as written: the simulator's own behaviour"),
    Profile(
        "huawei-e3372",
        "Huawei stick: ^RSSI/^HCSQ/^MODE/^DSFLOWRPT reports anywhere (inside the echo, "
        "between a +CMGL header and its PDU, before OK) until AT^CURC=0; ME storage; "
        "AT+CGMI answers a bare 'huawei'",
        {"manufacturer": "huawei", "model": "E3372", "revision": "22.315.01.00.00",
         "periodic_urcs": _HUAWEI_REPORTS, "curc": True,
         "boot_urcs": ("^BOOT:20952,0,0,0,72", "^SIMST:1", "^SRVST:2"),
         "cpms_supported": '("ME","SM","SR"),("ME","SM"),("ME","SM")',
         "cnmi_supported": "(0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)"},
    ),
    Profile(
        "huawei-e1752",
        "Older Huawei stick: unknown commands, AT^CURC among them, answer COMMAND NOT "
        "SUPPORT, so ^RSSI/^MODE/^SRVST/^DSFLOWRPT never stop coming anywhere in replies",
        {"manufacturer": "huawei", "model": "E1752", "revision": "11.126.03.04.00",
         "periodic_urcs": _HUAWEI_OLD_REPORTS, "curc": False,
         "plain_error": "COMMAND NOT SUPPORT", "boot_urcs": ("^SRVST:0",),
         "cpms_supported": '("SM","ME"),("SM","ME"),("SM","ME")'},
    ),
    Profile(
        "sim800",
        "SIMCom SIM800: the SIM answers +CME ERROR: 14 / +CMS ERROR: 314 for 15 s after "
        "power-on; ATE0 echoed twice; RDY, Call Ready, SMS Ready at boot",
        {"manufacturer": "SIMCOM_Ltd", "model": "SIMCOM_SIM800L", "revision":
         "Revision:1308B08SIM800L16", "sim_busy_s": 15.0, "busy_cme": 14, "busy_cms": 314,
         "echo_twice": True, "cnmi_supported": "(0-3),(0-3),(0,2),(0,1),(0,1)"},
    ),
    Profile(
        "quectel-ec25",
        "Quectel EC25: +CPIN: NOT READY and +CMS ERROR: 310 for 5 s after power-on; "
        "+QUSIM / +QIND: SMS DONE / PB DONE at boot; storage indexes from 0",
        {"manufacturer": "Quectel", "model": "EC25", "revision": "EC25EFAR06A08M4G",
         "sim_busy_s": 5.0, "busy_cme": 14, "busy_cms": 310, "busy_cpin": "NOT READY",
         "first_index": 0,
         "boot_urcs": ("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE",
                       "+QIND: PB DONE"),
         "cpms_supported": '("SM","ME","SR"),("SM","ME"),("SM","ME")'},
    ),
    Profile(
        "simcom-a76xx",
        "SIMCom A76xx/SIM7670: the AT+CMGS prompt is a bare '>' line, PDUs in lower-case "
        "hex, +CMGR with a quoted empty <alpha>; SMS DONE, PB DONE at boot",
        {"manufacturer": "SIMCOM INCORPORATED", "model": "A7670E-LASE",
         "revision": "A131B01A7670M7", "prompt": b"\r\n>\r\n", "lower_hex": True,
         "record_alpha": '""', "first_index": 0,
         "boot_urcs": ("*ATREADY: 1", "+CPIN: READY", "SMS DONE", "PB DONE")},
    ),
    Profile(
        "wavecom",
        "Wavecom/Sierra: AT+CGMI answers ' WAVECOM MODEM', +WIND indications, SIM storage "
        "only, +CMGL without the <alpha> field",
        {"manufacturer": " WAVECOM MODEM", "model": " MULTIBAND  900E  1800",
         "boot_urcs": ("+WIND: 3", "+WIND: 1", "+WIND: 7", "+WIND: 4"),
         "cpms_supported": '("SM"),("SM"),("SM")', "record_alpha": None,
         "cnmi_supported": "(0-3),(0-3),(0-3),(0-2),(0-1)"},
    ),
    Profile(
        "sierra",
        "Sierra Wireless AirPrime (Wavecom's line): +WIND indications at boot, +CMGL "
        "without the <alpha> field, reports kept in SR memory (+CDSI)",
        {"manufacturer": "Sierra Wireless, Incorporated", "model": "MC7304",
         "revision": "SWI9X15C_05.05.58.00", "boot_urcs": ("+WIND: 1", "+WIND: 4"),
         "record_alpha": None, "cnmi_supported": "(0-3),(0-3),(0-3),(0,2),(0,1)",
         "cpms_supported": '("SM","ME","SR"),("SM","ME"),("SM","ME")'},
    ),
    Profile(
        "cinterion-mc75",
        "Cinterion MC75i: ^SYSSTART at boot, refuses ME as receive memory, AT+CNMI allows "
        "only <ds> 0/2 and <bfr> 1, so status reports are kept in SR (+CDSI)",
        {"manufacturer": "Cinterion", "model": "MC75i", "revision": "REVISION 01.301",
         "boot_urcs": ("^SYSSTART",),
         "cpms_supported": '("ME","SM","SR"),("ME","SM"),("SM")',
         "cnmi_supported": "(0-3),(0,1),(0,2,3),(0,2),(1)"},
    ),
    Profile(
        "qualcomm-stick",
        "Qualcomm-based stick: ATS7 answers ERROR, AT+CMEE? a bare OK, ATZ ERROR; "
        "AT+CSCA? +CME ERROR: 14 for 10 s after power-on",
        {"manufacturer": "QUALCOMM INCORPORATED", "model": "MSM8200", "s7": False,
         "cmee_query": False, "atz_error": True, "sim_busy_s": 10.0, "busy_cms": 314,
         "boot_urcs": ()},
    ),
    Profile(
        "slow-sim",
        "A slow SIM: +CME ERROR: 515 / +CMS ERROR: 515 ('please wait, init in progress') "
        "for 25 s after power-on",
        {"sim_busy_s": 25.0, "busy_cme": 515, "busy_cms": 515},
    ),
)}


# Other names a technician may use for the same families.
ALIASES = {
    "huawei": "huawei-e3372", "e3372": "huawei-e3372", "e1752": "huawei-e1752",
    "simcom": "sim800", "sim800l": "sim800", "sim900": "sim800", "quectel": "quectel-ec25",
    "ec25": "quectel-ec25", "ec21": "quectel-ec25", "sim7670": "simcom-a76xx",
    "a7670": "simcom-a76xx", "sierra-wireless": "sierra", "cinterion": "cinterion-mc75",
    "mc75": "cinterion-mc75", "qualcomm": "qualcomm-stick", "slow": "slow-sim",
    "default": "standard",
}


def profile_names() -> list[str]:
    """Every profile name, the standard one first."""
    return list(PROFILES)


def sim_config(name: str = "standard", **overrides: Any) -> SimConfig:
    """The SimConfig of profile `name`, with `overrides` (slots, sim_pin, sim_busy_s...)."""
    try:
        profile = PROFILES[ALIASES.get(name.lower(), name.lower())]
    except KeyError:
        raise UnknownProfile(f"unknown modem profile {name!r}; known: "
                             f"{', '.join(PROFILES)}") from None
    return replace(SimConfig(), profile=profile.name, **{**profile.settings, **overrides})
