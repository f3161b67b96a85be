"""`palaute selftest`: walk the technician through every check of this device.

Each check is a function returning a Result; the command prints one line per
check (or JSON) and exits 0 only when everything passed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from survey.config import Config, load_config
from survey.errors import PalauteError

DEFAULT_CONFIG = Path("/etc/palaute/device.toml")
MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Result:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    skipped: bool = False


@dataclass
class Context:
    """What the checks share: the config, options, and how to talk to the technician."""

    config: Config
    args: argparse.Namespace
    ask: Callable[[str], str]
    say: Callable[[str], None]


Check = Callable[[Context], Result]


class SelftestFailed(PalauteError):
    """At least one check failed (they were printed above)."""


class SelftestUsage(PalauteError):
    """The command line asks for checks that do not exist here."""

    exit_code = 2


def register(p: argparse.ArgumentParser) -> None:
    """Arguments of `palaute selftest`."""
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="device config")
    p.add_argument("--json", action="store_true", help="print results as JSON (remote use)")
    p.add_argument("--only", action="append", default=[], help="run only these checks")
    p.add_argument("--test-sms-to", metavar="NUMBER", help="send a test SMS to this number")
    p.add_argument("--timeout", type=float, default=15.0,
                   help="seconds to wait for a button press or an ack")
    p.add_argument("--non-interactive", action="store_true",
                   help="skip checks that need a person (button presses, listening)")
    p.set_defaults(handler=run)


def check_config(ctx: Context) -> Result:
    """The config as every service reads it (schema, then each role's own checks)."""
    from palaute.device_check import check_device

    roles = check_device(ctx.config)
    ident = ctx.config.identity()
    return Result("config", True, f"{ctx.config.path}: device {ident.id} at {ident.site}/"
                  f"{ident.area}/{ident.unit}; roles {', '.join(roles) or 'none'}")


def check_survey(ctx: Context) -> Result:
    from survey.definition import check_file

    path = ctx.config.survey_path()
    problems = check_file(path)
    if problems:
        return Result("survey", False, f"{len(problems)} problem(s): {problems[0]}")
    return Result("survey", True, f"{path} is valid")


def check_store(ctx: Context) -> Result:
    from survey.store import Store

    path = ctx.config.store_path()
    with Store(path) as store:
        verdict = store.integrity_check()
        store.set_meta("selftest", "ok")  # proves the file is writable
        counts = store.counts()
    ok = verdict == "ok"
    return Result("store", ok, f"{path}: integrity {verdict}; {counts['unsynced']} waiting to sync")


def check_disk(ctx: Context) -> Result:
    folder = ctx.config.store_path().parent
    free = shutil.disk_usage(folder).free
    return Result("disk", free >= MIN_FREE_BYTES, f"{free // (1024 * 1024)} MiB free in {folder}")


CORE_CHECKS: list[Check] = [check_config, check_survey, check_store, check_disk]


def check_name(check: Check) -> str:
    return check.__name__.removeprefix("check_")


def checks_for(config: Config) -> list[Check]:
    """The checks that apply to this device's roles."""
    from palaute import selftest_hw

    return [*CORE_CHECKS, *selftest_hw.checks_for(config)]


def select(checks: list[Check], only: list[str]) -> list[Check]:
    """The checks named by --only (all without it); an unknown name is an error."""
    if not only:
        return checks
    from palaute import selftest_hw

    known = [check_name(c) for c in [*CORE_CHECKS, *selftest_hw.ALL_CHECKS]]
    here = [check_name(c) for c in checks]
    for name in only:
        if name not in known:
            raise SelftestUsage(f"--only {name}: no such check (known: {', '.join(known)})")
        if name not in here:
            raise SelftestUsage(f"--only {name}: does not apply to this device's roles "
                                f"(its checks: {', '.join(here)})")
    return [c for c in checks if check_name(c) in only]


def _run_one(check: Check, ctx: Context) -> Result:
    name = check.__name__.removeprefix("check_")
    try:
        return check(ctx)
    except PalauteError as exc:
        return Result(name, False, str(exc))
    except Exception as exc:  # a failing check must not stop the others
        return Result(name, False, f"{exc.__class__.__name__}: {exc}")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    checks = select(checks_for(config), args.only)
    interactive = sys.stdin.isatty() and not args.non_interactive and not args.json
    ctx = Context(config, args, ask=input if interactive else (lambda _p: ""),
                  say=(lambda m: print(m, flush=True)) if not args.json else (lambda m: None))
    ctx.args.interactive = interactive
    results: list[Result] = []
    for check in checks:
        result = _run_one(check, ctx)
        results.append(result)
        if not args.json:
            mark = "SKIP" if result.skipped else ("PASS" if result.ok else "FAIL")
            print(f"{mark:4}  {result.name:<12} {result.detail}", flush=True)
    failed = [r for r in results if not r.ok and not r.skipped]
    passed = [r for r in results if r.ok and not r.skipped]
    problem = None
    if failed:
        problem = (f"{len(failed)} of {len(results)} checks failed: "
                   f"{', '.join(r.name for r in failed)}")
    elif not passed:  # all skipped: nothing was proved, so nothing passed
        problem = (f"nothing was checked: {', '.join(r.name for r in results)} skipped "
                   "(run on a terminal, without --json/--non-interactive, to do them)")
    if args.json:
        out: dict[str, Any] = {"ok": problem is None, "problem": problem,
                               "checks": [asdict(r) for r in results]}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0 if problem is None else 1
    if problem:
        raise SelftestFailed(problem)
    return 0
