"""`palaute provision`: set up a device from flags, prompts or an enrolment token.

Planning is pure (settings in, a list of actions out); applying the plan is the
thin shell. Everything is fetched and validated before anything is written, so
a wrong broker URL or token leaves no half-written configuration. A re-run
changes only what differs.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.prompts import render_prompts_for_config
from survey.errors import PalauteError
from survey.files import write_atomically
from sync.mqtt import is_loopback

log = logging.getLogger(__name__)

ROLES = ("kiosk", "sms", "sync")
UNIT_OF_ROLE = {"kiosk": "palaute-kiosk.service", "sms": "palaute-sms.service",
                "sync": "palaute-sync.service"}


class ProvisionError(PalauteError):
    """Provisioning cannot go on; nothing was written."""


@dataclass(frozen=True)
class ProvisionSettings:
    """What a technician gives (or enrolment returns) for one device."""

    device_id: str
    site: str
    area: str
    unit: str
    roles: tuple[str, ...]
    broker_url: str = ""
    username: str = ""
    password: str = ""
    ca_file: str = ""
    survey: str = "national"
    modems: tuple[str, ...] = ()
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Paths:
    """Where provisioning writes; defaults are those of a real device."""

    etc: Path = Path("/etc/palaute")
    data: Path = Path("/var/lib/palaute")
    units_dst: Path = Path("/etc/systemd/system")
    units_src: Path = Path(__file__).resolve().parent.parent / "systemd"

    @property
    def config(self) -> Path:
        return self.etc / "device.toml"


@dataclass(frozen=True)
class Action:
    """One step of the plan: write a file, make a folder, or run something."""

    kind: str  # write | mkdir | store | prompts | units
    target: Path
    state: str  # new | changed | unchanged
    content: bytes = b""
    mode: int = 0o644
    detail: str = ""

    def describe(self) -> str:
        verb = {"new": "create", "changed": "update", "unchanged": "keep"}[self.state]
        extra = f" ({self.detail})" if self.detail else ""
        return f"{verb} {self.kind} {self.target}{extra}"


def validate(settings: ProvisionSettings) -> None:
    """Reject settings a device cannot run with, naming the flag."""
    for name in ("device_id", "site", "area", "unit"):
        value = getattr(settings, name)
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            flag = "--id" if name == "device_id" else f"--{name}"
            raise ProvisionError(f"{flag}: {value!r} is not a valid name (letters, digits, - _ .)")
    if not settings.roles:
        raise ProvisionError("--roles: give at least one of kiosk, sms, sync")
    for role in settings.roles:
        if role not in ROLES:
            raise ProvisionError(f"--roles: unknown role {role!r} (known: {', '.join(ROLES)})")
    if "sync" in settings.roles:
        check_broker_url(settings.broker_url)
    if "sms" in settings.roles and not settings.modems:
        raise ProvisionError("--modem: the sms role needs the modem's port URL "
                             "(e.g. /dev/serial/by-id/…)")


def check_broker_url(url: str) -> None:
    """mqtts://host[:port] anywhere, mqtt:// only on loopback."""
    if not url:
        raise ProvisionError("--broker: the sync role needs the broker URL (mqtts://host:8883)")
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ProvisionError(f"--broker: {url!r} is not an mqtts://host[:port] URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ProvisionError(f"--broker: {url!r} has an invalid port") from None
    if parts.scheme == "mqtt" and not is_loopback(parts.hostname):
        raise ProvisionError(f"--broker: {url!r}: plain mqtt:// is allowed only on loopback; "
                             "use mqtts://")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON strings are valid TOML basic strings
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def render_config(settings: ProvisionSettings, paths: Paths, hash_key: str) -> str:
    """The device.toml text for these settings (sections only for its roles)."""
    sections: dict[str, dict[str, Any]] = {
        "device": {"id": settings.device_id, "site": settings.site, "area": settings.area,
                   "unit": settings.unit, "store": str(paths.data / "store.sqlite")},
        "survey": {"file": survey_file(settings.survey, paths)},
    }
    if "sync" in settings.roles:
        mqtt: dict[str, Any] = {"url": settings.broker_url,
                                "username": settings.username or settings.device_id}
        if settings.password:
            mqtt["password_file"] = str(paths.etc / "mqtt.pass")
        if settings.ca_file:
            mqtt["ca_file"] = settings.ca_file
        sections["mqtt"] = mqtt
        sections["sync"] = {}
    if "kiosk" in settings.roles:
        sections["kiosk"] = {"prompts_dir": str(paths.data / "prompts")}
    if "sms" in settings.roles:
        sections["sms"] = {"modems": list(settings.modems), "hash_key": hash_key}
    for name, values in settings.extra.items():
        sections.setdefault(name, {}).update(values)
    lines = [f"# palaute device configuration for {settings.device_id}",
             "# written by `palaute provision`; re-run it to change, or edit and restart.", ""]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def survey_file(survey: str, paths: Paths) -> str:
    """A shipped survey name becomes its installed path; a path stays as given."""
    if "/" in survey or survey.endswith(".toml"):
        return str(Path(survey).resolve())
    return str(paths.etc / "surveys" / f"{survey}.toml")


def _existing(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_action(target: Path, content: bytes, mode: int, detail: str = "") -> Action:
    old = _existing(target)
    state = "new" if old is None else ("unchanged" if old == content else "changed")
    if state == "unchanged" and (target.stat().st_mode & 0o777) != mode:
        state = "changed"
    return Action("file", target, state, content, mode, detail)


def _old_hash_key(paths: Paths) -> str | None:
    import tomllib

    old = _existing(paths.config)
    if old is None:
        return None
    try:
        key = tomllib.loads(old.decode()).get("sms", {}).get("hash_key")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return key if isinstance(key, str) else None


def plan(settings: ProvisionSettings, paths: Paths, *, render_prompts: bool = True) -> list[Action]:
    """Every step provisioning would take, each marked new, changed or unchanged."""
    validate(settings)
    # Keep the phone-number hash key across re-runs: opt-outs are stored under it.
    hash_key = _old_hash_key(paths) or secrets.token_hex(32)
    actions = [
        Action("folder", paths.etc, "unchanged" if paths.etc.is_dir() else "new"),
        Action("folder", paths.data, "unchanged" if paths.data.is_dir() else "new"),
    ]
    from survey.definition import SHIPPED_SURVEYS, shipped_survey_path

    if settings.survey in SHIPPED_SURVEYS:
        src = shipped_survey_path(settings.survey)
        actions.append(_write_action(Path(survey_file(settings.survey, paths)), src.read_bytes(),
                                     0o644, "survey"))
    elif not Path(settings.survey).is_file():
        raise ProvisionError(f"--survey: {settings.survey!r} is neither a shipped survey "
                             f"({', '.join(SHIPPED_SURVEYS)}) nor a file")
    config = render_config(settings, paths, hash_key).encode()
    actions.append(_write_action(paths.config, config, 0o600, "device configuration"))
    if settings.password:
        actions.append(_write_action(paths.etc / "mqtt.pass", settings.password.encode() + b"\n",
                                     0o600, "broker password"))
    store = paths.data / "store.sqlite"
    actions.append(Action("database", store, "unchanged" if store.exists() else "new"))
    if "kiosk" in settings.roles and render_prompts:
        prompts = paths.data / "prompts"
        # Rendering is cached by text: a re-run renders only prompts that are missing.
        actions.append(Action("prompts", prompts, "unchanged" if prompts.is_dir() else "new",
                              detail="render missing audio prompts"))
    for role in settings.roles:
        unit = UNIT_OF_ROLE[role]
        src = paths.units_src / unit
        if not src.is_file():
            raise ProvisionError(f"unit file {src} is missing; is palaute installed completely?")
        actions.append(_write_action(paths.units_dst / unit, src.read_bytes(), 0o644, "unit"))
    return actions


def apply(actions: Sequence[Action], settings: ProvisionSettings, paths: Paths,
          run: Callable[[list[str]], int] | None = None) -> list[str]:
    """Carry out a plan; returns notes for the technician (e.g. systemd not running)."""
    notes: list[str] = []
    try:
        for action in actions:
            if action.state == "unchanged" and action.kind != "prompts":
                continue
            if action.kind == "folder":
                action.target.mkdir(parents=True, exist_ok=True, mode=0o750)
            elif action.kind == "file":
                write_atomically(action.target, action.content, mode=action.mode)
            elif action.kind == "database":
                from survey.store import Store

                Store(action.target).close()
            elif action.kind == "prompts":
                notes += _render_prompts(paths)
    except OSError as exc:
        raise ProvisionError(f"{exc.filename or ''}: {exc.strerror}; run as root "
                             "(sudo palaute provision …)") from None
    notes += _enable_units(settings, paths, actions, run)
    return notes


def _render_prompts(paths: Paths) -> list[str]:
    count = render_prompts_for_config(paths.config)
    return [f"audio prompts: {count} rendered"]


def _enable_units(settings: ProvisionSettings, paths: Paths, actions: Sequence[Action],
                  run: Callable[[list[str]], int] | None) -> list[str]:
    units = [UNIT_OF_ROLE[r] for r in settings.roles]
    if run is None:
        if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
            return [f"systemd is not running here: enable later with "
                    f"`systemctl enable --now {' '.join(units)}`"]
        run = _run
    changed = any(a.state != "unchanged" for a in actions)
    if run(["systemctl", "daemon-reload"]) != 0:
        raise ProvisionError("systemctl daemon-reload failed; see `journalctl -xe`")
    if run(["systemctl", "enable", *units]) != 0:
        raise ProvisionError(f"cannot enable {' '.join(units)}; see `journalctl -xe`")
    verb = "restart" if changed else "start"
    if run(["systemctl", verb, *units]) != 0:
        return [f"{verb} of {' '.join(units)} failed: check `palaute status`"]
    return [f"{' '.join(units)}: enabled and {verb}ed"]


def _run(cmd: list[str]) -> int:
    return subprocess.run(cmd, check=False).returncode


def fetch_enrolment(url: str, token: str, *, ca_file: str | None = None,
                    timeout: float = 20.0) -> ProvisionSettings:
    """Fetch a device's settings and credentials with a one-time token."""
    import requests

    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        raise ProvisionError(f"--enroll: {url!r}: enrolment needs https:// (credentials travel)")
    try:
        resp = requests.post(url, json={"token": token}, timeout=timeout,
                             verify=ca_file if ca_file else True)
    except requests.exceptions.SSLError as exc:
        raise ProvisionError(f"--enroll: TLS check of {url} failed ({exc.__class__.__name__}); "
                             "give the central's CA with --ca-file") from None
    except requests.RequestException as exc:
        raise ProvisionError(f"--enroll: cannot reach {url}: {exc.__class__.__name__}") from None
    if resp.status_code in (401, 403, 404, 410):
        raise ProvisionError(f"--enroll: the token was refused ({resp.status_code}): it is wrong, "
                             "used already or expired; ask for a new one")
    if resp.status_code != 200:
        raise ProvisionError(f"--enroll: {url} answered {resp.status_code}{_said(resp)}")
    try:
        data = resp.json()
        return ProvisionSettings(
            device_id=data["device_id"], site=data["site"], area=data["area"],
            unit=data["unit"], roles=tuple(data["roles"]), broker_url=data["broker_url"],
            username=data.get("username", data["device_id"]), password=data.get("password", ""),
            survey=data.get("survey", "national"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ProvisionError(f"--enroll: {url} sent an enrolment this palaute cannot read "
                             f"({exc.__class__.__name__}: {exc})") from None


def _said(resp: Any) -> str:
    """': MESSAGE' when an error answer carries the server's {"error": MESSAGE}."""
    try:
        message = resp.json()["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f": {message[:200]}" if isinstance(message, str) and message.isprintable() else ""


def merge_local(settings: ProvisionSettings, **local: Any) -> ProvisionSettings:
    """Local flags (modem port, CA file) added to enrolled settings."""
    return replace(settings, **{k: v for k, v in local.items() if v})
