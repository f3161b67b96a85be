"""Every key of every config section, with its type, default and limits: one place.

`load_config` checks a whole file against this before any part reads it, so a
typo (`rate_per_minut`) or a value out of range is refused with its line,
whichever command reads the file: the service, `selftest` and `status` alike.
The parts read values through `Section` getters, which take the defaults and
limits from here. To add a key, add one line to its section below.

Checks that need more than one key or outside knowledge (a pin used twice, a
time zone, the survey's languages) stay with the part that owns the section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from survey.limits import (
    GZIP_MIN_BYTES,
    MAX_BATCH_RESPONSES,
    MAX_NAME_CHARS,
    MAX_PAYLOAD_BYTES,
    id_problem,
    name_problem,
)

REQUIRED: Any = object()  # the default of a key that must be given


@dataclass(frozen=True)
class Key:
    """One key: its kind (str, int, float, bool, list, str_list, table, path), default, limits."""

    name: str
    kind: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    max_len: int | None = None
    check: Any = None  # value -> problem text or None (e.g. an id's characters)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Table:
    """A section (or a table inside one) and the keys it may hold.

    An open table's keys are free (names chosen by the user); its part checks them.
    """

    keys: dict[str, Key | Table] = field(default_factory=dict)
    open: bool = False


def Str(name: str, default: Any = None, *, max_len: int | None = None,
        check: Any = None) -> Key:
    return Key(name, "str", default, max_len=max_len, check=check)


def Int(name: str, default: Any = None, *, min: float | None = None,
        max: float | None = None) -> Key:
    return Key(name, "int", default, min, max)


def Num(name: str, default: Any = None, *, min: float | None = None,
        max: float | None = None) -> Key:
    return Key(name, "float", default, min, max)


def Bool(name: str, default: Any = None) -> Key:
    return Key(name, "bool", default)


def StrList(name: str, default: Any = None) -> Key:
    return Key(name, "str_list", default)


def Path_(name: str, default: Any = None) -> Key:
    return Key(name, "path", default)


def Any_(name: str, kind: str, default: Any = None) -> Key:
    """A key whose content its part checks (a list of pins, a nested table)."""
    return Key(name, kind, default)


def section(*keys: Key | tuple[str, Table]) -> Table:
    out: dict[str, Key | Table] = {}
    for k in keys:
        if isinstance(k, Key):
            out[k.name] = k
        else:
            out[k[0]] = k[1]
    return Table(out)


SCHEMA: dict[str, Table] = {
    "device": section(
        Str("id", REQUIRED, check=id_problem),
        Str("site", REQUIRED, check=id_problem),
        Str("area", REQUIRED, check=name_problem),
        Str("unit", REQUIRED, check=name_problem),
        Path_("store", REQUIRED),
    ),
    "survey": section(
        Path_("file", REQUIRED),
    ),
    "mqtt": section(
        Str("url", REQUIRED),
        Str("username", check=id_problem),
        Path_("password_file"),
        Path_("ca_file"),
        Path_("certfile"),
        Path_("keyfile"),
        Str("client_id", max_len=MAX_NAME_CHARS),
        Int("keepalive", 30, min=5, max=3600),
        Num("reconnect_min", 1.0, min=0.05),
        Num("reconnect_max", 60.0, min=0.1),
    ),
    "sync": section(
        Int("batch_max_count", 200, min=1, max=MAX_BATCH_RESPONSES),
        Int("batch_max_bytes", 128 * 1024, min=1024, max=MAX_PAYLOAD_BYTES // 2),
        Int("max_inflight", 2, min=1, max=16),
        Num("ack_timeout", 30.0, min=0.05),
        Num("backoff_max", 600.0, min=0.05),
        Num("heartbeat_seconds", 60.0, min=0.1),
        Num("poll_interval", 1.0, min=0.01, max=60),
        Int("gzip_min_bytes", GZIP_MIN_BYTES, min=0),
    ),
    "kiosk": section(
        Str("scale", "nps"),
        StrList("questions"),           # default: the survey's kiosk questions
        StrList("languages"),           # default: the survey's languages
        Str("default_language"),        # default: the first of languages
        Any_("resolution", "any", "800x480"),  # "800x480" or [800, 480]
        Bool("fullscreen"),             # default: when there is no desktop
        ("buttons", section(Any_("pins", "list", []), Any_("values", "list"))),
        Any_("leds", "list", []),
        Any_("headphone_pin", "pin"),
        Bool("headphone_active_low", True),
        Any_("audio_pin", "pin"),
        Any_("speaker_enable_pin", "pin"),
        Num("bounce_time", 0.05, min=0.0, max=1.0),
        Str("audio_key", "f1"),
        Num("repeat_interval", 0.6, min=0.0),
        Num("lockout", 0.15, min=0.0),
        Num("burst_window", 60.0, min=1.0),
        Int("burst_count", 5, min=2),
        Num("idle_timeout", 30.0, min=5.0),
        Num("idle_warning", 15.0, min=5.0),
        Num("headphones_grace", 15.0, min=1.0, max=120.0),
        Num("hold_seconds", 1.0, min=0.3, max=5.0),
        Num("lit_seconds", 0.6, min=0.0, max=3.0),
        Num("panel_inches", 7.0, min=2.0, max=100.0),
        Bool("simulate_audio", False),
        Bool("simulate_gpio", False),
        Num("audio_idle_timeout", 90.0, min=10.0),
        Num("audio_warning", 20.0, min=1.0),
        Num("thanks_seconds", 5.0, min=0.5),
        Str("opening_hours", "always"),
        Str("timezone", "Europe/Helsinki"),
        Path_("prompts_dir", "prompts"),
        Num("default_volume", -18.0),   # at most max_volume
        Num("min_volume", -36.0, max=0.0),
        Num("max_volume", 0.0, max=0.0),
        Num("volume_step", 3.0, min=0.5, max=12.0),
        Int("speech_rate", 160),        # within min_rate..max_rate
        Int("min_rate", 100, min=60),
        Int("max_rate", 240, max=450),
        Int("rate_step", 20, min=5),
    ),
    "sms": section(
        StrList("modems", REQUIRED),
        Str("hash_key"),
        Path_("hash_key_file"),
        Str("pin"),
        Str("smsc"),
        Int("window_start", 8, min=0, max=24),
        Int("window_end", 20, min=1, max=24),
        Str("timezone", "Europe/Helsinki"),
        Num("visit_within_hours", 48.0, min=0.1),
        Num("call_within_hours", 1.0, min=0.05),
        Num("session_hours", 72.0, min=0.01),
        Int("rate_per_minute", 10, min=1, max=600),
        Num("multipart_timeout_s", 300.0, min=0.1),
        Num("scan_interval_s", 60.0, min=0.1),
        Num("health_interval_s", 30.0, min=0.1),
        Num("retry_port_s", 10.0, min=0.1),
        Num("reply_retention_days", 30.0, min=0.0),
        Num("rest_days", min=0.0),      # no invitation within it; default: sms_gateway's
        Num("sim_wait_s", min=1.0, max=600.0),  # busy SIM wait; default: sms_gateway.modem's
        ("intake", section(
            Str("url"),
            Str("ack_url"),             # default: url + /ack
            Str("auth_header"),
            Num("interval", 60.0, min=1.0),
            Num("timeout", 10.0, min=0.5),
        )),
    ),
    "central": section(
        Str("db", REQUIRED),
        Str("share_group", "central", check=id_problem),
        Num("db_retry_s", 5.0, min=0.01, max=3600),   # first wait when the db is unreachable
        Num("report_silent_hours", min=0),  # default: 24 (reports)
        Int("session_expiry_seconds", min=1, max=86400),  # default: central.receiver's
        Int("quarantine_bytes_per_day", min=0),            # default: central.receiver's
    ),
    "report": section(
        Str("lang"),                    # fi, sv or en; default fi
        Any_("names", "table", {}),     # code = "Name shown in reports"
    ),
    "targets": Table(open=True),        # nps = 70, [targets.unit.CODE] …: central.report_model
    "web": section(
        Str("listen", REQUIRED),        # HOST:PORT; plain HTTP only on loopback
        Path_("certfile"),
        Path_("keyfile"),
        StrList("proxy", []),           # addresses of reverse proxies to trust
        Int("rate_per_minute", min=10),  # per address; default: central.web's
    ),
    "enrol": section(
        Path_("tokens"),                # default: enrol-tokens.sqlite beside the config
        Str("listen", "0.0.0.0:8443"),
        Path_("certfile"),
        Path_("keyfile"),
        Str("broker_url", REQUIRED),
        Path_("password_file"),
        Path_("acl_file"),
        Str("reload_command", ""),
        Int("rate_per_minute", min=1),  # per address; default: central.enroll's
    ),
}


def table_at(names: tuple[str, ...]) -> Table | None:
    """The schema of the section or table at `names` (e.g. ("sms", "intake"))."""
    table: Table | Key | None = Table(dict(SCHEMA))
    for name in names:
        if not isinstance(table, Table):
            return None
        table = table.keys.get(name)
    return table if isinstance(table, Table) else None
