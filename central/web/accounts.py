"""Web accounts: roles, Argon2id password hashes, grants, server-side sessions, the audit.

Roles: `technician` sees the fleet and acts on devices, `leader` sees the reports of the
areas and units granted to them, `admin` sees and does everything and reads the audit.
A session is a random token in a cookie; the store keeps only its SHA-256 with the
account and the session's CSRF token, so a copied database opens no session and a
logout or a deleted account ends it. `LoginThrottle` is the pure part of login rate
limiting (`now` passed in). Every login, logout and operator action goes to `web_audit`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2

from central.i18n import LANGS
from central.store import CentralStore, iso_utc
from survey.errors import PalauteError

MIN_PASSWORD_CHARS = 12
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)
_HASHER = argon2.PasswordHasher()  # Argon2id with the library's current RFC 9106 profile
# A hash to check against when the account does not exist: the answer takes as long.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class AccountError(PalauteError, ValueError):
    """An account change that cannot be made (unknown role, short password, no account)."""


class Role(enum.StrEnum):
    """What an account may see and do."""

    TECHNICIAN = "technician"
    LEADER = "leader"
    ADMIN = "admin"

    @property
    def sees_fleet(self) -> bool:
        return self in (Role.TECHNICIAN, Role.ADMIN)

    @property
    def sees_all_reports(self) -> bool:
        return self is Role.ADMIN

    @property
    def sees_reports(self) -> bool:
        return self in (Role.LEADER, Role.ADMIN)


def parse_role(text: str) -> Role:
    """The role named `text`; AccountError naming the roles otherwise."""
    try:
        return Role(text)
    except ValueError:
        raise AccountError(f"unknown role {text!r} (use {', '.join(r.value for r in Role)})") \
            from None


@dataclass(frozen=True)
class Grant:
    """An area or unit a leader may see the reports of."""

    scope: str  # area | unit
    value: str

    def __str__(self) -> str:
        return f"{self.scope}:{self.value}"


def parse_grant(text: str) -> Grant:
    """`area:NAME` or `unit:NAME`."""
    scope, sep, value = text.partition(":")
    if not sep or scope not in ("area", "unit") or not value.strip():
        raise AccountError(f"grant {text!r}: use area:NAME or unit:NAME")
    return Grant(scope, value.strip())


@dataclass(frozen=True)
class Account:
    """A person who logs in to the web pages."""

    name: str
    role: Role
    lang: str
    grants: tuple[Grant, ...] = ()

    def may_see(self, area: str | None, unit: str | None) -> bool:
        """Whether the reports of this area/unit (None: not narrowed) are this account's."""
        if self.role.sees_all_reports:
            return True
        if not self.role.sees_reports:
            return False
        return any((g.scope, g.value) in (("area", area), ("unit", unit)) for g in self.grants)


def check_password(password: str) -> None:
    """A password long enough to be one (AccountError otherwise)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")


def _check_name(name: str) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError(f"account name {name!r}: 1-64 letters, digits or . _ - @")


# -- the store --------------------------------------------------------------------------


def add_account(store: CentralStore, name: str, role: Role, password: str, now: datetime, *,
                grants: Sequence[Grant] = (), lang: str = "fi") -> Account:
    """Create an account (AccountError when the name is taken or the input is bad)."""
    _check_name(name)
    check_password(password)
    if lang not in LANGS:
        raise AccountError(f"language {lang!r}: use {', '.join(LANGS)}")
    if role is Role.LEADER and not grants:
        raise AccountError("a leader needs at least one --grant area:NAME or unit:NAME")
    p = store.placeholder
    if store.execute(f"SELECT 1 FROM web_accounts WHERE name = {p}", (name,)):
        raise AccountError(f"account {name!r} exists already (use passwd or del)")
    digest, at = _HASHER.hash(password), iso_utc(now)
    with store.transaction() as c:
        c.execute("INSERT INTO web_accounts (name, role, password_hash, lang, created_at, "
                  f"updated_at) VALUES ({p},{p},{p},{p},{p},{p})",
                  (name, role.value, digest, lang, at, at))
        for g in dict.fromkeys(grants):
            c.execute(f"INSERT INTO web_grants (account, scope, value) VALUES ({p},{p},{p})",
                      (name, g.scope, g.value))
    return Account(name, role, lang, tuple(grants))


def set_password(store: CentralStore, name: str, password: str, now: datetime) -> None:
    """Give an account a new password; its open sessions end."""
    check_password(password)
    p = store.placeholder
    with store.transaction() as c:
        if c.execute(f"UPDATE web_accounts SET password_hash = {p}, updated_at = {p} "
                     f"WHERE name = {p}", (_HASHER.hash(password), iso_utc(now), name)
                     ).rowcount != 1:
            raise AccountError(f"no account {name!r}")
        c.execute(f"DELETE FROM web_sessions WHERE account = {p}", (name,))


def delete_account(store: CentralStore, name: str) -> None:
    """Remove an account, its grants and its sessions."""
    p = store.placeholder
    with store.transaction() as c:
        c.execute(f"DELETE FROM web_sessions WHERE account = {p}", (name,))
        c.execute(f"DELETE FROM web_grants WHERE account = {p}", (name,))
        if c.execute(f"DELETE FROM web_accounts WHERE name = {p}", (name,)).rowcount != 1:
            raise AccountError(f"no account {name!r}")


def get_account(store: CentralStore, name: str) -> Account | None:
    """The account called `name`, with its grants."""
    p = store.placeholder
    rows = store.execute(f"SELECT role, lang FROM web_accounts WHERE name = {p}", (name,))
    if not rows:
        return None
    grants = store.execute(f"SELECT scope, value FROM web_grants WHERE account = {p} "
                           "ORDER BY scope, value", (name,))
    return Account(name, Role(str(rows[0][0])), str(rows[0][1]),
                   tuple(Grant(str(s), str(v)) for s, v in grants))


def list_accounts(store: CentralStore) -> list[Account]:
    """Every account, by name."""
    names = store.execute("SELECT name FROM web_accounts ORDER BY name")
    return [a for (n,) in names if (a := get_account(store, str(n))) is not None]


def verify_login(store: CentralStore, name: str, password: str) -> Account | None:
    """The account when the password is its own; None otherwise (as slowly either way)."""
    p = store.placeholder
    rows = store.execute(f"SELECT password_hash FROM web_accounts WHERE name = {p}", (name,))
    stored = str(rows[0][0]) if rows else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return None
    if not rows:
        return None
    if _HASHER.check_needs_rehash(stored):
        store.execute(f"UPDATE web_accounts SET password_hash = {p} WHERE name = {p}",
                      (_HASHER.hash(password), name))
    return get_account(store, name)


# -- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A logged-in browser: the account and the token its forms must carry (CSRF)."""

    account: Account
    csrf: str

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf.encode(), token.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: CentralStore, account: Account, now: datetime) -> str:
    """A new session for `account`; returns the cookie's token (stored only hashed)."""
    token, csrf, p = secrets.token_urlsafe(32), secrets.token_urlsafe(32), store.placeholder
    with store.transaction() as c:
        c.execute(f"DELETE FROM web_sessions WHERE seen_at < {p}",
                  (iso_utc(now - SESSION_IDLE),))
        c.execute("INSERT INTO web_sessions (digest, account, csrf, created_at, seen_at) "
                  f"VALUES ({p},{p},{p},{p},{p})",
                  (_digest(token), account.name, csrf, iso_utc(now), iso_utc(now)))
    return token


def find_session(store: CentralStore, token: str, now: datetime) -> Session | None:
    """The live session of a cookie's token (idle under 8 h, at most 24 h old); marks it seen."""
    p, digest = store.placeholder, _digest(token)
    rows = store.execute(f"SELECT account, csrf, created_at, seen_at FROM web_sessions "
                         f"WHERE digest = {p}", (digest,))
    if not rows:
        return None
    name, csrf, created, seen = (str(v) for v in rows[0])
    if (now - datetime.fromisoformat(seen) > SESSION_IDLE
            or now - datetime.fromisoformat(created) > SESSION_MAX):
        close_session(store, token)
        return None
    account = get_account(store, name)
    if account is None:
        return None
    if now - datetime.fromisoformat(seen) > timedelta(minutes=1):  # not a write per request
        store.execute(f"UPDATE web_sessions SET seen_at = {p} WHERE digest = {p}",
                      (iso_utc(now), digest))
    return Session(account, csrf)


def close_session(store: CentralStore, token: str) -> None:
    """End a session (logout)."""
    store.execute(f"DELETE FROM web_sessions WHERE digest = {store.placeholder}",
                  (_digest(token),))


# -- login rate limiting ----------------------------------------------------------------


class LoginThrottle:
    """Failed logins: at most `per_name` per account name and `per_address` per address in
    `window` seconds; a success does not reset the count (no guessing between successes)."""

    def __init__(self, per_name: int = 5, per_address: int = 20, window: float = 900.0,
                 max_keys: int = 10_000) -> None:
        self.per_name, self.per_address, self.window = per_name, per_address, window
        self.max_keys = max_keys
        self._failed: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> int:
        times = self._failed.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        return len(times)

    def allowed(self, name: str, address: str, now: float) -> bool:
        """Whether a login attempt may be checked at all."""
        return (self._recent(f"n:{name}", now) < self.per_name
                and self._recent(f"a:{address}", now) < self.per_address)

    def failed(self, name: str, address: str, now: float) -> None:
        """Count a failed attempt."""
        if len(self._failed) >= self.max_keys:
            self._failed = {k: t for k, t in self._failed.items()
                            if t and t[-1] > now - self.window}
        for key in (f"n:{name}", f"a:{address}"):
            self._failed.setdefault(key, deque()).append(now)


# -- audit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One audited event: a login, a logout, an account change or an operator action."""

    at: datetime
    actor: str
    action: str
    address: str
    detail: dict[str, object]


def audit(store: CentralStore, now: datetime, actor: str, action: str, address: str,
          **detail: object) -> None:
    """Record one event in `web_audit`."""
    p = store.placeholder
    store.execute(f"INSERT INTO web_audit (at, actor, action, address, detail) "
                  f"VALUES ({p},{p},{p},{p},{p})",
                  (iso_utc(now), actor, action, address,
                   json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)))


def audit_log(store: CentralStore, limit: int = 200,
              actions: Iterable[str] | None = None) -> list[AuditEntry]:
    """The newest events first."""
    rows = store.execute("SELECT at, actor, action, address, detail FROM web_audit "
                         f"ORDER BY at DESC LIMIT {int(limit)}")
    wanted = set(actions) if actions is not None else None
    return [AuditEntry(datetime.fromisoformat(str(at)), str(actor), str(action), str(addr),
                       json.loads(str(detail)))
            for at, actor, action, addr, detail in rows
            if wanted is None or str(action) in wanted]
