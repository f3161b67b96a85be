"""Subcommands of the central receiver: serve, broker-config, import, publish-config."""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from central import report_daily
from survey.config import Config, load_config
from survey.errors import ConfigError
from survey.service import Runner
from survey.systemd import stop_on_signals

if TYPE_CHECKING:
    from central.store import CentralStore

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve`, `broker-config`, `import` and `publish-config`."""
    serve = sub.add_parser(
        "serve", help="receive batches over MQTT into the central store (a service)",
        description="Reads [central] db and [mqtt] of the config file; runs until SIGTERM.",
    )
    serve.add_argument("--config", required=True, metavar="FILE", help="central config (TOML)")
    serve.set_defaults(handler=_serve)

    broker = sub.add_parser(
        "broker-config", help="write mosquitto.conf, password file and ACL for a fleet",
    )
    broker.add_argument("--devices", metavar="FILE", type=Path,
                        help="device list: one SITE/DEVICE (or DEVICE) a line")
    broker.add_argument("--device", action="append", default=[], metavar="[SITE/]ID",
                        help="a device (repeatable)")
    broker.add_argument("--out", required=True, metavar="DIR", type=Path)
    broker.add_argument("--central-user", default="central", metavar="NAME",
                        help="the first receiver's account (default central)")
    broker.add_argument("--receiver", action="append", default=[], metavar="NAME",
                        help="one more receiver account (repeatable; one per receiver host: "
                        "on the TLS listener the account is the client id)")
    broker.add_argument("--port", type=int, default=8883)
    broker.add_argument("--bind", default=None, metavar="ADDRESS",
                        help="listen address (without TLS only 127.0.0.1 is allowed)")
    broker.add_argument("--tls-ca", metavar="FILE")
    broker.add_argument("--tls-cert", metavar="FILE")
    broker.add_argument("--tls-key", metavar="FILE")
    broker.add_argument("--local-port", type=int, default=None,
                        help="also listen on 127.0.0.1:PORT without TLS (a local receiver)")
    broker.add_argument("--persistence-dir", default="/var/lib/mosquitto/", metavar="DIR")
    broker.add_argument("--db", metavar="URL", help="also register the listed devices' site, "
                        "area and unit in this central database (lines 'SITE/DEVICE AREA UNIT')")
    broker.set_defaults(handler=_broker_config)

    imp = sub.add_parser("import", help="load responses from a JSON Lines file (idempotent)")
    imp.add_argument("file", type=Path, metavar="FILE.jsonl")
    imp.add_argument("--db", metavar="URL", help="sqlite:///FILE or postgresql://…")
    imp.add_argument("--config", metavar="FILE", help="central config ([central] db)")
    imp.set_defaults(handler=_import)

    web = sub.add_parser("web", help="serve the web page alone (fleet, reports) from [web]",
                         description="The same page `serve` runs when the config has [web], "
                         "without the receiver: a second host on the same PostgreSQL, or a "
                         "look at a store after the fact.")
    web.add_argument("--config", required=True, metavar="FILE", help="central config (TOML)")
    web.set_defaults(handler=_web)

    pub = sub.add_parser("publish-config",
                         help="publish a device's configuration (retained, versioned)")
    pub.add_argument("--config", required=True, metavar="FILE", help="central config (TOML)")
    pub.add_argument("--device", required=True, metavar="SITE/ID")
    pub.add_argument("--version", required=True, type=int)
    pub.add_argument("--survey", type=Path, metavar="FILE", help="survey definition (TOML)")
    pub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="a setting (repeatable), e.g. heartbeat_seconds=300")
    pub.set_defaults(handler=_publish_config)


def central_db_url(config: Config) -> str:
    """`[central] db`, the database URL (SQLite file or PostgreSQL)."""
    url: str = config.section("central", required=True).get_str("db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # A relative SQLite path is taken from the config file's folder, as other paths are.
        url = f"sqlite:///{(config.path.parent / url[len('sqlite:///'):]).resolve()}"
    return url


def _serve(args: argparse.Namespace) -> int:
    from central.receiver import DEFAULT_QUARANTINE_BYTES_PER_DAY, DEFAULT_SESSION_EXPIRY, Receiver
    from sync.mqtt import load_mqtt_settings

    config = load_config(args.config)
    # One client id per host: receivers sharing the load must not share an id (the broker
    # would keep disconnecting one for the other); set [mqtt] client_id for a second one
    # on the same host.
    mqtt_settings = load_mqtt_settings(
        config, default_client_id=f"palaute-central-{socket.gethostname()}")
    central = config.section("central")
    group = central.get_str("share_group")
    expiry = central.get_int("session_expiry_seconds", DEFAULT_SESSION_EXPIRY)
    quarantine_limit = central.get_int("quarantine_bytes_per_day",
                                       DEFAULT_QUARANTINE_BYTES_PER_DAY)
    from central import report_daily
    from central.enroll import start_enrolment_server
    from central.web.site import WebSettings

    web = WebSettings.from_config(config)
    stop = stop_on_signals()  # SIGTERM while waiting for the database ends the wait
    store = wait_for_store(central_db_url(config), stop, central.get_float("db_retry_s"))
    if store is None:
        return 0  # stopped while waiting
    with store:
        # Build the report aggregates at service start rather than in the first report.
        report_daily.ensure(store)
        with contextlib.ExitStack() as services:
            if web is None:
                enrolment = start_enrolment_server(config, store)  # only when it has [enrol]
                if enrolment is not None:
                    services.callback(enrolment.close)
            else:
                services.enter_context(_web_page(config, web))
            Runner(stop=stop).run(Receiver(store, mqtt_settings, share_group=group,
                                           session_expiry=expiry,
                                           quarantine_limit=quarantine_limit))
    return 0


@contextlib.contextmanager
def _web_page(config: Config, web: Any) -> Iterator[Any]:
    """The web page with its own store connection (a long report does not hold up the
    receiver's writes), and the enrolment endpoint on it when the config has [enrol]."""
    from starlette.routing import Route

    from central.enroll import Enrolment, EnrolmentSettings
    from central.store import open_central
    from central.web.app import make_app
    from central.web.enrol import enrol_routes
    from central.web.site import WebPage

    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_central(central_db_url(config)))
        more = []
        settings = EnrolmentSettings.from_config(config)
        if settings is not None:
            enrolment = Enrolment(settings, store)
            stack.callback(enrolment.close)
            # The endpoint keeps its own, stricter per-address limit.
            more.append(Route("/enroll", make_app(
                enrol_routes(enrolment), rate_per_minute=settings.rate_per_minute),
                methods=["POST"]))
        page = WebPage(config, web, store, more=more).start()
        stack.callback(page.close)
        yield page


def _web(args: argparse.Namespace) -> int:
    """`palaute central web`: the web page alone, on the same store."""
    from central.store import open_central
    from central.web.site import WebSettings

    config = load_config(args.config)
    web = WebSettings.from_config(config)
    if web is None:
        raise ConfigError(args.config, "no [web] section: add one to serve the web page")
    stop = stop_on_signals()
    with open_central(central_db_url(config)) as store:
        report_daily.ensure(store)
    with _web_page(config, web):
        stop.wait()
    return 0


def wait_for_store(url: str, stop: threading.Event, first_wait: float,
                   max_wait: float = 60.0) -> CentralStore | None:
    """Open the central store, waiting while the database cannot be reached.

    Each failed attempt is logged and shown in `systemctl status` (STATUS=), and the
    start timeout is extended so that systemd keeps waiting with us. None when
    stopped (SIGTERM) while waiting.
    """
    from central.store import CentralStoreUnavailable, open_central
    from survey import systemd

    attempt = 0
    while True:
        try:
            return open_central(url)
        except CentralStoreUnavailable as exc:
            attempt += 1
            wait = min(max_wait, first_wait * 2 ** (attempt - 1))
            message = f"database not reachable (attempt {attempt}), retrying in {wait:g} s: {exc}"
            log.warning("%s", message)
            systemd.send(f"STATUS={message[:200]}")
            # Keep systemd's start timeout from ending the wait (Type=notify, not READY yet).
            systemd.send(f"EXTEND_TIMEOUT_USEC={int((wait + 30) * 1_000_000)}")
            if stop.wait(wait):
                return None


def _broker_config(args: argparse.Namespace) -> int:
    from central.broker import (
        BrokerConfigError,
        ListenerOptions,
        parse_device,
        parse_device_list,
        write_broker_config,
    )

    devices = []
    if args.devices:
        try:
            text = args.devices.read_text(encoding="utf-8")
        except OSError as exc:
            raise BrokerConfigError(f"{args.devices}: cannot read: {exc.strerror}") from None
        devices += parse_device_list(text, str(args.devices))
    devices += [parse_device(d, "--device") for d in args.device]
    tls = [args.tls_ca, args.tls_cert, args.tls_key]
    if any(tls) and not all(tls):
        raise BrokerConfigError("--tls-ca, --tls-cert and --tls-key go together")
    opts = ListenerOptions(
        port=args.port, bind=args.bind, cafile=args.tls_ca, certfile=args.tls_cert,
        keyfile=args.tls_key, local_port=args.local_port, persistence_dir=args.persistence_dir,
    )
    placed = [d for d in devices if d.area and d.unit]
    if args.db:
        from central.registry import DeviceOrigin, check_origin

        # Registered now: answers from before this are implausible (the earliest time is
        # kept when broker-config runs again).
        now = datetime.now(UTC)
        origins = [DeviceOrigin(d.device, d.site, d.area or "", d.unit or "", enrolled_at=now)
                   for d in placed]
        for origin in origins:
            check_origin(origin)
    files = write_broker_config(args.out, devices, opts, args.central_user,
                                receivers=args.receiver)
    if args.db:
        print(_register(args.db, origins))
    print(f"wrote {files.conf}, {files.passwd}, {files.acl}")
    print(f"passwords of {len(devices) + 1 + len(args.receiver)} accounts in {files.passwords}/ "
          "(copy each to its device as [mqtt] password_file)")
    return 0


def _register(url: str, origins: list[Any]) -> str:
    """Record the devices' origins in the central's registry; what changed, in one line."""
    from central.registry import operator, register
    from central.store import open_central

    now, actor = datetime.now(UTC), operator()
    with open_central(url) as store:
        changed = sum(register(store, o, action="broker-config", actor=actor, at=now)
                      for o in origins)
    return f"registry: {len(origins)} devices with an area and unit, {changed} new or changed"


def _import(args: argparse.Namespace) -> int:
    from central.importer import import_jsonl
    from central.store import open_central

    if args.db:
        url = args.db
    elif args.config:
        url = central_db_url(load_config(args.config))
    else:
        raise ConfigError("import", "give the database with --db URL or --config FILE")
    with open_central(url) as store:
        report = import_jsonl(store, args.file)
    for number, reason in report.errors:
        print(f"{args.file}:{number}: {reason}", file=sys.stderr)
    print(f"{report.lines} lines: {report.inserted} new, {report.duplicates} already there, "
          f"{len(report.errors)} bad")
    return 1 if report.errors else 0


def _publish_config(args: argparse.Namespace) -> int:
    from central.broker import parse_device
    from central.publish import parse_setting, publish_config

    config = load_config(args.config)
    account = parse_device(args.device, "--device")
    if account.site == "+":
        raise ConfigError("--device", "give the device as SITE/ID")
    survey_text = None
    if args.survey:
        survey_text = _checked_survey(args.survey)
    topic = publish_config(config, account.site, account.device, args.version, survey_text,
                           dict(parse_setting(s) for s in args.set))
    print(f"published configuration version {args.version} to {topic}")
    return 0


def _checked_survey(path: Path) -> str:
    from survey.definition import check_file

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, f"cannot read the survey: {exc.strerror}") from None
    problems = check_file(path)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        raise ConfigError(path, f"the survey has {len(problems)} problem(s); nothing published")
    return text
