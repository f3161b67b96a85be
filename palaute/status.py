"""`palaute status`: one screen of this device's state for the technician."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from palaute import __version__
from survey.config import Config, load_config

DEFAULT_CONFIG = Path("/etc/palaute/device.toml")
ROLE_SECTIONS = ("kiosk", "sms", "sync")


def register(p: argparse.ArgumentParser) -> None:
    """Arguments of `palaute status`."""
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="device config")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=run)


def gather(config: Config) -> dict[str, Any]:
    """Everything the status screen shows, as plain values."""
    from survey.store import Store

    ident = config.identity()
    store_path = config.store_path()
    info: dict[str, Any] = {
        "palaute": __version__, "python": platform.python_version(),
        "config": str(config.path), "device": ident.id, "site": ident.site,
        "area": ident.area, "unit": ident.unit,
        "roles": [r for r in ROLE_SECTIONS if config.has(r)],
        "store": str(store_path),
    }
    with Store(store_path) as store:
        info["responses"] = store.counts()
        info["oldest_unsynced"] = store.oldest_unsynced()
        info["last_sync"] = store.get_meta("sync.last_success")
        info["survey_version"] = store.get_meta("sync.config_version")
        if config.has("sms"):
            info["sms"] = _sms_status(store)
    usage = shutil.disk_usage(store_path.parent)
    info["disk_free_mib"] = usage.free // (1024 * 1024)
    info["recent_errors"] = _recent_errors()
    return info


def _sms_status(store: Any) -> dict[str, Any]:
    from importlib import import_module

    try:
        counters = import_module("sms_gateway.gateway_store").sms_status_counters
    except (ImportError, AttributeError):
        return {}
    result: dict[str, Any] = counters(store)
    return result


def _recent_errors(limit: int = 5) -> list[str]:
    if shutil.which("journalctl") is None or not Path("/run/systemd/system").is_dir():
        return []
    cmd = ["journalctl", "--no-pager", "-q", "-o", "short-iso", "-p", "err", "-n", str(limit),
           *[f"--unit=palaute-{r}.service" for r in ("kiosk", "sms", "sync", "central")]]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in out.splitlines() if line.strip()][-limit:]


def render(info: dict[str, Any]) -> str:
    """The status as lines of text for a terminal."""
    r = info["responses"]
    lines = [
        f"palaute {info['palaute']} (Python {info['python']})",
        f"device   {info['device']}  site {info['site']}  area {info['area']}  "
        f"unit {info['unit']}",
        f"roles    {', '.join(info['roles']) or '-'}   config {info['config']}",
        f"store    {info['store']}",
        f"answers  open {r['open']}  complete {r['complete']}  abandoned {r['abandoned']}  "
        f"expired {r['expired']}",
        f"sync     waiting {r['unsynced']}  synced {r['synced']}  "
        f"oldest waiting {info['oldest_unsynced'] or '-'}  last sync {info['last_sync'] or '-'}",
        f"disk     {info['disk_free_mib']} MiB free",
    ]
    if "sms" in info:
        sms = info["sms"]
        lines.append("sms      " + "  ".join(f"{k} {v}" for k, v in sms.items()
                                             if not isinstance(v, dict | list)))
    if info["recent_errors"]:
        lines.append("recent errors:")
        lines += [f"  {e}" for e in info["recent_errors"]]
    else:
        lines.append("recent errors: none")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    info = gather(load_config(args.config))
    print(json.dumps(info, ensure_ascii=False, indent=2) if args.json else render(info))
    return 0
