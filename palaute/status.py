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


def register(p: argparse.ArgumentParser) -> None:
    """Arguments of `palaute status`."""
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="device config")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=run)


def gather(config: Config) -> dict[str, Any]:
    """Everything the status screen shows, as plain values."""
    from palaute.device_check import check_device
    from survey.store import Store

    roles = check_device(config)  # refused here exactly as the services would refuse it
    ident = config.identity()
    store_path = config.store_path()
    info: dict[str, Any] = {
        "palaute": __version__, "python": platform.python_version(),
        "config": str(config.path), "device": ident.id, "site": ident.site,
        "area": ident.area, "unit": ident.unit, "roles": roles,
        "store": str(store_path),
    }
    from survey.definition import load_survey
    from sync.agent import META_CONFIG_ERROR, META_CONFIG_VERSION, META_LAST_SYNC

    survey = load_survey(config.survey_path())
    info["survey"] = f"{survey.id} v{survey.version}"
    with Store(store_path) as store:
        info["responses"] = store.counts()
        info["oldest_unsynced"] = store.oldest_unsynced()
        info["last_sync"] = store.get_meta(META_LAST_SYNC)
        info["remote_config"] = store.get_meta(META_CONFIG_VERSION)
        errors = [f"remote config: {e}" for e in [store.get_meta(META_CONFIG_ERROR)] if e]
        if config.has("kiosk"):
            info["kiosk_faults"] = _kiosk_faults(store)
            errors += [f"kiosk: {f}" for f in info["kiosk_faults"]]
        if config.has("sms"):
            info["sms"] = _sms_status(store)
            errors += [f"sms: {e}" for e in _sms_errors(store)]
    usage = shutil.disk_usage(store_path.parent)
    info["disk_free_mib"] = usage.free // (1024 * 1024)
    info["recent_errors"] = errors + _recent_errors()
    return info


def _kiosk_faults(store: Any) -> list[str]:
    """What failed when the kiosk last started (audio, GPIO): empty when all was well."""
    from kiosk.app import FAULTS_META

    raw = store.get_meta(FAULTS_META)
    return [str(f) for f in json.loads(raw)] if raw else []


def _sms_status(store: Any) -> dict[str, Any]:
    from sms_gateway.gateway_store import sms_status_counters
    from sms_gateway.status import status_extras

    return {"counters": sms_status_counters(store),
            "modems": status_extras(store).get("modems", [])}


def _sms_errors(store: Any) -> list[str]:
    import json

    raw = store.get_meta("sms.errors")
    items = json.loads(raw) if raw else []
    return [f"{e.get('at', '')} {e.get('error', '')}".strip() for e in items[-5:]]


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
        f"survey   {info['survey']}   remote config {info['remote_config'] or '-'}",
        f"store    {info['store']}",
        f"answers  open {r['open']}  complete {r['complete']}  abandoned {r['abandoned']}  "
        f"expired {r['expired']}",
        f"sync     waiting {r['unsynced']}  synced {r['synced']}  "
        f"oldest waiting {info['oldest_unsynced'] or '-'}  last sync {info['last_sync'] or '-'}",
        f"disk     {info['disk_free_mib']} MiB free",
    ]
    if "sms" in info:
        counters = info["sms"]["counters"]
        lines.append("sms      " + "  ".join(f"{k} {v}" for k, v in counters.items()))
        for i, m in enumerate(info["sms"]["modems"], 1):
            lines.append(f"modem {i}  {'ok' if m.get('ok') else 'NOT OK'}  signal "
                         f"{m.get('signal', '-')}  registration {m.get('registration', '-')}  "
                         f"(at {m.get('at', '-')})")
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
