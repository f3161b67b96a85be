"""Subcommands of the web accounts: `palaute central user add | passwd | del | list`.

The password is read from the terminal (twice), or from standard input with
--password-stdin (one line, for scripts); never from the command line, where other
users of the machine would see it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from central.cli_registry import _db_options, _url
from central.i18n import LANGS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `user` with its actions."""
    user = sub.add_parser("user", help="accounts of the web pages (add, passwd, del, list)",
                          description="Roles: technician (fleet, every device), leader "
                          "(reports of the granted areas and units), admin (everything, "
                          "the audit log).")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("technician", "leader", "admin"))
    add.add_argument("--grant", action="append", default=[], metavar="area:NAME|unit:NAME",
                     help="an area or unit a leader sees (repeatable)")
    add.add_argument("--lang", default="fi", choices=LANGS, help="language of the pages")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input (one line)")
    _db_options(add)
    add.set_defaults(handler=_add)
    pw = actions.add_parser("passwd", help="set an account's password (its sessions end)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    _db_options(pw)
    pw.set_defaults(handler=_passwd)
    rm = actions.add_parser("del", help="remove an account")
    rm.add_argument("name")
    _db_options(rm)
    rm.set_defaults(handler=_delete)
    ls = actions.add_parser("list", help="list the accounts")
    _db_options(ls)
    ls.set_defaults(handler=_list)


def _password(args: argparse.Namespace) -> str:
    from central.web.accounts import AccountError, check_password

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    check_password(first)
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ; nothing changed")
    return first


def _actor() -> str:
    from central.registry import operator

    return f"cli:{operator()}"


def _add(args: argparse.Namespace) -> int:
    from central.store import open_central
    from central.web.accounts import add_account, audit, parse_grant, parse_role

    role = parse_role(args.role)
    grants = [parse_grant(g) for g in args.grant]
    password = _password(args)
    now = datetime.now(UTC)
    with open_central(_url(args)) as store:
        account = add_account(store, args.name, role, password, now, grants=grants,
                              lang=args.lang)
        audit(store, now, _actor(), "account-add", "cli", account=account.name,
              role=role.value, grants=[str(g) for g in grants])
    print(f"account {account.name} ({role.value}) created")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from central.store import open_central
    from central.web.accounts import audit, set_password

    password = _password(args)
    now = datetime.now(UTC)
    with open_central(_url(args)) as store:
        set_password(store, args.name, password, now)
        audit(store, now, _actor(), "account-passwd", "cli", account=args.name)
    print(f"password of {args.name} changed; its sessions ended")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from central.store import open_central
    from central.web.accounts import audit, delete_account

    now = datetime.now(UTC)
    with open_central(_url(args)) as store:
        delete_account(store, args.name)
        audit(store, now, _actor(), "account-del", "cli", account=args.name)
    print(f"account {args.name} removed")
    return 0


def _list(args: argparse.Namespace) -> int:
    from central.store import open_central
    from central.web.accounts import list_accounts

    with open_central(_url(args)) as store:
        for a in list_accounts(store):
            grants = " ".join(str(g) for g in a.grants)
            print(f"{a.name}\t{a.role.value}\t{a.lang}\t{grants}".rstrip())
    return 0
