"""The SMS gateway's part of the device's status heartbeat (read by the sync agent).

`status_extras(store)` returns {"sms": counters, "modems": [...]} for a gateway, and
nothing on a device that has never run one. No phone numbers: counters, the number of
invitations waiting for an operator (`unknown_waiting`: send outcome unknown, still
releasable), modem signal and the modems' and gateway's last errors (redacted when
noted).
"""

from __future__ import annotations

import json
from typing import Any

from sms_gateway.gateway_store import (
    sms_daily_counters,
    sms_status_counters,
    sms_unknown_waiting,
)
from survey.store import Store

ERRORS_SENT = 3  # the newest errors in each heartbeat


def status_extras(store: Store) -> dict[str, Any]:
    """The gateway's counters and modem state, or {} when this device has no gateway."""
    counters = sms_status_counters(store)
    raw = store.get_meta("sms.modems")
    if raw is None and not any(counters.values()):
        return {}
    modems = [{"ok": m.get("ok"), "signal": m.get("signal"),
               "registration": m.get("registration"), "error": m.get("error"),
               "at": m.get("at")}
              for m in json.loads(raw or "[]")]
    # The last errors as `palaute sms status` keeps them (redacted when noted).
    errors = [{"at": e.get("at"), "error": e.get("error")}
              for e in json.loads(store.get_meta("sms.errors") or "[]")[-ERRORS_SENT:]]
    return {"sms": {**counters, "daily": sms_daily_counters(store),
                    "unknown_waiting": sms_unknown_waiting(store)}, "modems": modems,
            "errors": errors}
