"""`palaute provision`: set up a device from flags, prompts or an enrolment token.

Planning is pure (settings in, a list of actions out); applying the plan is the
thin shell. Everything is fetched and validated before anything is written, so
a wrong broker URL or token leaves no half-written configuration. A re-run
changes only what differs.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.prompts import render_prompts_for_config
from survey.config import parse_config
from survey.errors import ConfigError, PalauteError
from survey.files import write_atomically
from survey.limits import id_problem, name_problem
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
    ca_pem: bytes = b""  # the CA file's content, read before anything is written
    survey: str = "national"
    modems: tuple[str, ...] = ()
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


SERVICE_USER = "palaute"
SYSTEM_UNITS = Path("/etc/systemd/system")


@dataclass(frozen=True)
class Paths:
    """Where provisioning writes, and for whom; defaults are those of a real device.

    Folders are made absolute: the config names them and the services run elsewhere.
    """

    etc: Path = Path("/etc/palaute")
    data: Path = Path("/var/lib/palaute")
    units_dst: Path = SYSTEM_UNITS
    units_src: Path = Path(__file__).resolve().parent / "systemd"  # shipped in the package
    user: str = SERVICE_USER

    def __post_init__(self) -> None:
        for name in ("etc", "data", "units_dst"):
            object.__setattr__(self, name, Path(getattr(self, name)).expanduser().absolute())

    @property
    def config(self) -> Path:
        return self.etc / "device.toml"

    @property
    def ca_file(self) -> Path:
        return self.etc / "ca.pem"


@dataclass(frozen=True)
class Owners:
    """Who owns what provision writes: root and the service's group read the config
    (0640, folders 0750); the service user owns the data folder, the store and its WAL."""

    config: tuple[int, int] | None  # (uid, gid); None: not root, files stay ours
    data: tuple[int, int] | None

    @classmethod
    def for_user(cls, user: str) -> Owners:
        if os.geteuid() != 0:
            return cls(None, None)
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise ProvisionError(f"--user: the service user {user!r} does not exist; run "
                                 "`sudo scripts/install.sh ROLES` first") from None
        return cls((0, entry.pw_gid), (entry.pw_uid, entry.pw_gid))


@dataclass(frozen=True)
class Action:
    """One step of the plan: write a file, make a folder, or run something."""

    kind: str  # file | folder | database | prompts
    target: Path
    state: str  # new | changed | unchanged
    content: bytes = b""
    mode: int = 0o640
    detail: str = ""
    owner: tuple[int, int] | None = None  # (uid, gid) to give it; None: leave as made

    def describe(self) -> str:
        verb = {"new": "create", "changed": "update", "unchanged": "keep"}[self.state]
        extra = f" ({self.detail})" if self.detail else ""
        return f"{verb} {self.kind} {self.target}{extra}"


def validate(settings: ProvisionSettings) -> None:
    """Reject settings a device cannot run with, naming the flag (the central's limits)."""
    for name in ("device_id", "site", "area", "unit"):
        value = getattr(settings, name)
        flag = "--id" if name == "device_id" else f"--{name}"
        problem = (id_problem(value) if name in ("device_id", "site") else name_problem(value))
        if problem is None and not all(c.isalnum() or c in "-_." for c in value):
            problem = f"{value!r} is not a valid name (letters, digits, - _ .)"
        if problem:
            raise ProvisionError(f"{flag}: {problem}")
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
        if settings.ca_pem:
            mqtt["ca_file"] = str(paths.ca_file)
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


def _differs(target: Path, mode: int, owner: tuple[int, int] | None) -> bool:
    st = target.stat()
    return (st.st_mode & 0o777) != mode or (owner is not None
                                             and (st.st_uid, st.st_gid) != owner)


def _write_action(target: Path, content: bytes, mode: int, detail: str = "",
                  owner: tuple[int, int] | None = None) -> Action:
    old = _existing(target)
    state = "new" if old is None else ("unchanged" if old == content else "changed")
    if state == "unchanged" and _differs(target, mode, owner):
        state = "changed"
    return Action("file", target, state, content, mode, detail, owner)


def _folder_action(target: Path, owner: tuple[int, int] | None) -> Action:
    if not target.is_dir():
        return Action("folder", target, "new", mode=0o750, owner=owner)
    state = "changed" if _differs(target, 0o750, owner) else "unchanged"
    return Action("folder", target, state, mode=0o750, owner=owner)


def _store_action(store: Path, owner: tuple[int, int] | None) -> Action:
    if not store.exists():
        return Action("database", store, "new", owner=owner)
    files = [p for p in _store_files(store) if p.exists()]
    stale = owner is not None and any((p.stat().st_uid, p.stat().st_gid) != owner
                                      for p in files)
    return Action("database", store, "changed" if stale else "unchanged", owner=owner,
                  detail="give it to the service user" if stale else "")


def _store_files(store: Path) -> list[Path]:
    return [store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")]


def read_ca(path: str) -> bytes:
    """The CA certificate at `path` (PEM), read before anything is written."""
    try:
        pem = Path(path).read_bytes()
    except FileNotFoundError:
        raise ProvisionError(f"--ca-file: {path}: no such file") from None
    except OSError as exc:
        raise ProvisionError(f"--ca-file: {path}: cannot read: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ProvisionError(f"--ca-file: {path}: not a PEM certificate "
                             "(-----BEGIN CERTIFICATE-----)")
    return pem


def read_password(path: str) -> str:
    """The broker password from a file, or from stdin for `-` (never from argv)."""
    import sys

    where = "stdin" if path == "-" else path
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProvisionError(f"--password-file: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ProvisionError(f"--password-file: {where}: cannot read: {reason}") from None
    lines = text.splitlines()
    password = lines[0].strip() if lines else ""
    if not password:
        raise ProvisionError(f"--password-file: {where}: the first line is empty")
    return password


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
    owners = Owners.for_user(paths.user)
    hash_key = _old_hash_key(paths) or secrets.token_hex(32)
    config = render_config(settings, paths, hash_key).encode()
    try:  # the same checks every service makes when it reads the file
        parse_config(paths.config, config)
    except ConfigError as exc:
        raise ProvisionError(f"the configuration would be refused: {exc}") from None
    actions = [_folder_action(paths.etc, owners.config), _folder_action(paths.data, owners.data)]
    from survey.definition import SHIPPED_SURVEYS, shipped_survey_path

    if settings.survey in SHIPPED_SURVEYS:
        src = shipped_survey_path(settings.survey)
        target = Path(survey_file(settings.survey, paths))
        actions.append(_folder_action(target.parent, owners.config))
        actions.append(_write_action(target, src.read_bytes(), 0o640, "survey", owners.config))
    elif not Path(settings.survey).is_file():
        raise ProvisionError(f"--survey: {settings.survey!r} is neither a shipped survey "
                             f"({', '.join(SHIPPED_SURVEYS)}) nor a file")
    actions.append(_write_action(paths.config, config, 0o640, "device configuration",
                                 owners.config))
    if settings.password:
        actions.append(_write_action(paths.etc / "mqtt.pass", settings.password.encode() + b"\n",
                                     0o640, "broker password", owners.config))
    if settings.ca_pem:
        actions.append(_write_action(paths.ca_file, settings.ca_pem, 0o640, "CA certificate",
                                     owners.config))
    actions.append(_store_action(paths.data / "store.sqlite", owners.data))
    if "kiosk" in settings.roles and render_prompts:
        prompts = paths.data / "prompts"
        # Rendering is cached by text: a re-run renders only prompts that are missing.
        actions.append(Action("prompts", prompts, "unchanged" if prompts.is_dir() else "new",
                              detail="render missing audio prompts", owner=owners.data))
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
                action.target.chmod(0o750)
                _chown([action.target], action.owner)
            elif action.kind == "file":
                write_atomically(action.target, action.content, mode=action.mode)
                _chown([action.target], action.owner)
            elif action.kind == "database":
                from survey.store import Store

                if action.state == "new":
                    Store(action.target).close()
                    action.target.chmod(0o640)
                _chown(_store_files(action.target), action.owner)
            elif action.kind == "prompts":
                notes += _render_prompts(paths)
                _chown_tree(action.target, action.owner)
    except OSError as exc:
        raise ProvisionError(f"{exc.filename or ''}: {exc.strerror}; run as root "
                             "(sudo palaute provision …)") from None
    notes += _enable_units(settings, paths, actions, run)
    return notes


def _chown(targets: Sequence[Path], owner: tuple[int, int] | None) -> None:
    if owner is None:
        return
    for target in targets:
        if target.exists():
            os.chown(target, *owner)


def _chown_tree(folder: Path, owner: tuple[int, int] | None) -> None:
    if owner is None or not folder.is_dir():
        return
    _chown([folder], owner)
    for path in folder.rglob("*"):
        os.chown(path, *owner)


def _render_prompts(paths: Paths) -> list[str]:
    count = render_prompts_for_config(paths.config)
    return [f"audio prompts: {count} rendered"]


def _enable_units(settings: ProvisionSettings, paths: Paths, actions: Sequence[Action],
                  run: Callable[[list[str]], int] | None) -> list[str]:
    units = [UNIT_OF_ROLE[r] for r in settings.roles]
    if run is None:
        if paths.units_dst != SYSTEM_UNITS:
            return [f"units written to {paths.units_dst}, not {SYSTEM_UNITS}: not enabled"]
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
    if ca_file:
        read_ca(ca_file)  # a missing or unreadable CA is one line, not requests' traceback
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
