"""Subcommand report: `palaute central report` (one report, or monthly files per unit)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from central import report_daily
from central.anomalies import AnomalySettings
from central.cli_receiver import central_db_url
from central.i18n import LANGS
from central.report_html import render_pdf
from central.report_model import (
    GROUP_KEYS,
    LOCAL_ZONE,
    ReportError,
    ReportParams,
    Target,
    parse_targets,
)
from central.report_render import FORMATS, render
from central.reports import (
    build_report,
    default_period,
    known_units,
    last_full_month,
    unit_origin,
)
from central.store import CentralStore, CentralStoreError, open_central
from survey.config import load_config
from survey.files import write_atomically

log = logging.getLogger(__name__)

DEFAULT_SILENT_HOURS = 24.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to `sub`."""
    p = sub.add_parser(
        "report", help="NPS report: tables, trend chart, statements, SMS funnel, anomalies",
        description="The central NPS report over a period. Groups with fewer than 5 answers "
                    "are suppressed in every format.")
    p.add_argument("--db", metavar="URL", help="sqlite:///FILE or postgresql://… "
                   "(default: [central] db of --config)")
    p.add_argument("--config", metavar="FILE", help="a TOML file whose [central] db names "
                   "the database ([central] report_silent_hours is read too)")
    p.add_argument("--from", dest="date_from", metavar="DATE",
                   help="first day (YYYY-MM-DD, local time; default: 12 months back)")
    p.add_argument("--to", dest="date_to", metavar="DATE",
                   help="last day, inclusive (default: today)")
    p.add_argument("--by", metavar="KEY", help=f"group by {' | '.join(GROUP_KEYS)} "
                   "(default: area; channel with --monthly)")
    p.add_argument("--format", metavar="FMT", help=f"{' | '.join(FORMATS)} (default: table; "
                   "--monthly writes html; pdf needs --out)")
    p.add_argument("--out", metavar="PATH", help="write to this file (with --monthly: folder)")
    p.add_argument("--unit", help="only this unit")
    p.add_argument("--monthly", action="store_true",
                   help="one HTML file (and a PDF with --pdf) per unit for the last full "
                        "month, into --out DIR; a unit without answers gets a page that says so")
    p.add_argument("--pdf", action="store_true", help="with --monthly: a PDF beside each page")
    p.add_argument("--now", metavar="WHEN", help="the present (ISO date or time; for tests "
                   "and re-runs; default: the clock)")
    p.add_argument("--silent-hours", type=float, metavar="H",
                   help=f"a device silent longer is an anomaly (default {DEFAULT_SILENT_HOURS:g})")
    p.add_argument("--max-texts", type=int, default=200, metavar="N",
                   help="free texts shown per group in HTML (default 200)")
    p.add_argument("--lang", choices=LANGS,
                   help="language of the whole report (default: [report] lang of --config, "
                        "else fi); fi and sv also write a decimal comma in HTML and PDF")
    p.set_defaults(handler=run_report)


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def parse_now(value: str | None) -> datetime:
    """`--now`: an ISO date (its midnight in Helsinki) or an ISO time; default the clock."""
    if value is None:
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), LOCAL_ZONE)
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"--now {value!r} is not an ISO date or time") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=LOCAL_ZONE)


@dataclass(frozen=True)
class ReportSettings:
    """What the options and the central's config say about a report."""

    url: str
    anomalies: AnomalySettings
    lang: str
    targets: tuple[Target, ...] = ()
    names: dict[str, str] = field(default_factory=dict)


def _settings(args: argparse.Namespace) -> ReportSettings:
    """The database URL, detector settings, language, targets and names from the options
    and the config file ([central] db and report_silent_hours, [report] lang and names,
    [targets])."""
    return report_settings(args.db, args.config, lang=args.lang, silent_hours=args.silent_hours)


def report_settings(url: str | None, config_path: str | Path | None, *, lang: str | None = None,
                    silent_hours: float | None = None) -> ReportSettings:
    """What `central report` reads besides its options (the web pages read the same)."""
    hours = silent_hours
    targets: tuple[Target, ...] = ()
    names: dict[str, str] = {}
    if config_path:
        config = load_config(config_path)
        central = config.section("central")
        if url is None and "db" in central:
            url = central_db_url(config)  # a relative path from the config's folder
        if hours is None:
            hours = central.get_float("report_silent_hours", None, min=0)
        report = config.section("report")
        if lang is None:
            lang = report.get_str("lang", None)
            if lang is not None and lang not in LANGS:
                raise report.error("lang", f"must be one of {', '.join(LANGS)}, not {lang!r}")
        names = {str(k): str(v) for k, v in report.get_table("names", {}).items()}
        if config.has("targets"):
            targets = parse_targets(config.section("targets").data,
                                    f"{config_path}: [targets]")
    if not url:
        raise ReportError("no database: give --db URL or --config FILE with [central] db")
    return ReportSettings(
        url, AnomalySettings(silent_hours=DEFAULT_SILENT_HOURS if hours is None else hours),
        lang or "fi", targets, names)


def _open(url: str) -> CentralStore:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.is_file():  # opening would create an empty store; a report never should
            raise ReportError(f"no central database at {path}")
    try:
        store = open_central(url)
    except CentralStoreError as exc:  # psycopg's messages span lines; ours is one
        raise ReportError(" ".join(str(exc).split())) from None
    report_daily.ensure(store)  # once per database; falls back to direct queries
    return store


def run_report(args: argparse.Namespace) -> int:
    """Handler of `palaute central report`."""
    now = parse_now(args.now)
    by = args.by or ("channel" if args.monthly else "area")
    if by not in GROUP_KEYS:
        raise ReportError(f"unknown group key {by!r} for --by (use {', '.join(GROUP_KEYS)})")
    fmt = args.format or ("html" if args.monthly else "table")
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if args.max_texts < 0:
        raise ReportError("--max-texts must not be negative")
    if fmt == "pdf" and not args.out:
        raise ReportError("--format pdf writes a file: give --out FILE.pdf")
    if args.pdf and not args.monthly:
        raise ReportError("--pdf goes with --monthly; for one report use --format pdf --out FILE")
    settings = _settings(args)
    filters = (("unit", args.unit),) if args.unit else ()
    if args.monthly:
        if fmt != "html" or not args.out:
            raise ReportError("--monthly writes HTML files: give --out DIR (and no other "
                              "--format)")
        with _open(settings.url) as store:
            return _monthly(store, now, by, settings, args, Path(args.out))
    date_to = _parse_date(args.date_to, "--to") if args.date_to else default_period(now)[1]
    if args.date_from:
        date_from = _parse_date(args.date_from, "--from")
    else:
        date_from = default_period(datetime.combine(date_to, datetime.min.time(), LOCAL_ZONE))[0]
    params = ReportParams(date_from, date_to, now, by, filters, settings=settings.anomalies,
                          max_texts=args.max_texts, lang=settings.lang,
                          targets=settings.targets, names=settings.names)
    with _open(settings.url) as store:
        report = build_report(store, params, texts=fmt in ("html", "pdf"))
        if fmt == "pdf":
            _write_bytes(Path(args.out), render_pdf(report, generated_at=_stamp(now)))
            return 0
        text = render(report, fmt, _stamp(now))
    if args.out:
        _write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return 0


def _stamp(now: datetime) -> str:
    return now.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _write(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the report: {exc.strerror}") from None


def _monthly(store: CentralStore, now: datetime, by: str, settings: ReportSettings,
             args: argparse.Namespace, folder: Path) -> int:
    """One page per unit for the last full month, with 13 months of trend behind it.

    Every unit the central knows gets its page, also one without answers this month (the
    page says so): a scheduled run succeeds whatever the month was like."""
    first, last = last_full_month(now)
    month = first.isoformat()[:7]
    units = [args.unit] if args.unit else known_units(store)
    if not units:
        raise ReportError("the central knows no units yet (no device has sent answers): "
                          "no monthly reports written")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{folder}: cannot create the folder: {exc.strerror}") from None
    trend_from = (first - timedelta(days=360)).replace(day=1)  # 13 months with this one
    used: set[str] = set()
    for unit in units:
        params = ReportParams(first, last, now, by, (("unit", unit),), trend_from=trend_from,
                              settings=settings.anomalies, max_texts=args.max_texts,
                              lang=settings.lang, targets=settings.targets,
                              names=settings.names, origin=unit_origin(store, unit))
        name = re.sub(r"[^\w.-]+", "_", unit).strip("._") or "unit"
        while name in used:
            name += "_"
        used.add(name)
        report = build_report(store, params, empty_ok=True)
        path = folder / f"{name}-{month}.html"
        _write(path, render(report, "html", _stamp(now)))
        print(path)
        if args.pdf:
            pdf = folder / f"{name}-{month}.pdf"
            _write_bytes(pdf, render_pdf(report, generated_at=_stamp(now)))
            print(pdf)
    return 0
