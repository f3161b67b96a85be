"""Web accounts, sessions, CSRF, login limits, roles and the audit; the fleet's rows.

The pages are served by the real server (uvicorn on a free port) and read with requests;
the browser tests are in test_web_browser.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from web_helpers import PASSWORD, csrf_of, login, served, stdin_password, write_central_config

from central.registry import DeviceOrigin, lookup, register
from central.store import open_central
from central.web.accounts import (
    AccountError,
    Grant,
    LoginThrottle,
    Role,
    add_account,
    audit_log,
    delete_account,
    find_session,
    get_account,
    open_session,
    set_password,
    verify_login,
)
from central.web.fleet import FleetInput, Problem, device_rows, load_fleet, load_history
from palaute.cli import main

NOW = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def test_accounts_hash_passwords_and_check_them(central_url: str) -> None:
    with open_central(central_url) as db:
        add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW)
        stored = db.execute("SELECT password_hash FROM web_accounts")[0][0]
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert verify_login(db, "tekla", PASSWORD) == get_account(db, "tekla")
        assert verify_login(db, "tekla", PASSWORD + "x") is None
        assert verify_login(db, "nobody", PASSWORD) is None
        with pytest.raises(AccountError, match="exists already"):
            add_account(db, "tekla", Role.ADMIN, PASSWORD, NOW)
        with pytest.raises(AccountError, match="at least 12"):
            add_account(db, "lyhyt", Role.ADMIN, "short", NOW)
        with pytest.raises(AccountError, match="leader needs"):
            add_account(db, "lea", Role.LEADER, PASSWORD, NOW)
        token = open_session(db, get_account(db, "tekla"), NOW)  # type: ignore[arg-type]
        assert find_session(db, token, NOW + timedelta(hours=1)) is not None
        set_password(db, "tekla", "another long password", NOW)
        assert find_session(db, token, NOW) is None  # a new password ends the sessions
        assert verify_login(db, "tekla", "another long password") is not None
        delete_account(db, "tekla")
        assert get_account(db, "tekla") is None
        with pytest.raises(AccountError, match="no account"):
            delete_account(db, "tekla")


def test_a_session_ends_when_idle_or_old(tmp_path: Path) -> None:
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        account = add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW)
        token = open_session(db, account, NOW)
        assert find_session(db, token, NOW + timedelta(hours=7, minutes=59)) is not None
        assert find_session(db, token, NOW + timedelta(hours=16)) is None
        token = open_session(db, account, NOW)
        assert [r[0] for r in db.execute("SELECT digest FROM web_sessions")] != [token]
        for hours in range(1, 25):  # seen every hour, still no longer than 24 h
            found = find_session(db, token, NOW + timedelta(hours=hours, seconds=1))
        assert found is None


def test_leaders_see_only_their_grants() -> None:
    from central.web.accounts import Account

    grants = (Grant("area", "pohjoinen"), Grant("unit", "ensiapu"))
    leader = Account("lea", Role.LEADER, "fi", grants)
    assert leader.may_see("pohjoinen", None) and leader.may_see(None, "ensiapu")
    assert not leader.may_see("etelä", None) and not leader.may_see(None, "lastenpoli")
    assert Account("a", Role.ADMIN, "fi").may_see("etelä", None)
    assert not Account("t", Role.TECHNICIAN, "fi").may_see("etelä", None)


def test_login_throttle_per_name_and_address() -> None:
    throttle = LoginThrottle(per_name=3, per_address=5, window=60)
    for i in range(3):
        assert throttle.allowed("tekla", "10.0.0.1", i)
        throttle.failed("tekla", "10.0.0.1", i)
    assert not throttle.allowed("tekla", "10.0.0.2", 10)  # the name, from anywhere
    assert throttle.allowed("other", "10.0.0.1", 10)
    throttle.failed("a", "10.0.0.1", 11)
    throttle.failed("b", "10.0.0.1", 12)
    assert not throttle.allowed("c", "10.0.0.1", 13)  # the address, whatever name
    assert throttle.allowed("tekla", "10.0.0.2", 61)  # the window has passed


def test_cli_user_add_passwd_del_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    stdin_password(monkeypatch)
    assert main(["central", "user", "add", "lea", "--role", "leader", "--grant", "unit:ensiapu",
                 "--grant", "area:pohjoinen", "--lang", "sv", "--password-stdin",
                 "--db", db]) == 0
    stdin_password(monkeypatch, "short")
    assert main(["central", "user", "passwd", "lea", "--password-stdin", "--db", db]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    stdin_password(monkeypatch, "a new long password")
    assert main(["central", "user", "passwd", "lea", "--password-stdin", "--db", db]) == 0
    assert main(["central", "user", "list", "--db", db]) == 0
    assert "lea\tleader\tsv\tarea:pohjoinen unit:ensiapu" in capsys.readouterr().out
    with open_central(db) as store:
        assert verify_login(store, "lea", "a new long password") is not None
        assert [e.action for e in audit_log(store)] == ["account-passwd", "account-add"]
    assert main(["central", "user", "del", "lea", "--db", db]) == 0
    assert main(["central", "user", "del", "lea", "--db", db]) == 1
    assert "no account 'lea'" in capsys.readouterr().err


# -- the status history and the fleet's rows ---------------------------------------------


def test_every_status_is_kept_for_the_history_and_old_ones_pruned(central_url: str) -> None:
    with open_central(central_url) as db:
        for hours, state in ((200, "online"), (30, "online"), (2, "offline"), (1, "online")):
            payload = {"device": "k1", "site": "tays", "state": state, "queue_depth": hours}
            db.upsert_device_status("k1", "tays", payload, NOW - timedelta(hours=hours))
        points = load_history(db, "k1", NOW)
        assert [(p.state, p.queue_depth) for p in points] == [
            ("online", 30), ("offline", 2), ("online", 1)]
        assert len(db.execute("SELECT * FROM status_history")) == 3  # 200 h ago: pruned


def _row_input(**kw: object) -> FleetInput:
    base: dict[str, object] = {"registry": {}, "statuses": {}, "last_online": {},
                               "queue_trend": {}, "quarantine": {}}
    base.update(kw)
    return FleetInput(**base)  # type: ignore[arg-type]


def test_fleet_rows_put_problems_first_and_keep_details_after_the_last_will() -> None:
    online = {"state": "online", "software": "0.1.0", "queue_depth": 0, "survey":
              {"id": "national", "version": 3}, "last_sync": "2025-03-04T07:59:00+00:00"}
    gateway = {**online, "sms": {"sent": 10, "unknown": 1},
               "modems": [{"ok": True, "signal": 7, "registration": "searching"}],
               "errors": [{"at": "2025-03-04T07:50:00+00:00", "error": "modem: no carrier"}]}
    data = _row_input(
        registry={"k-ok": ("tays", "a", "u"), "k-off": ("tays", "a", "u"),
                  "gw": ("tays", "a", "*"), "k-new": ("tays", "a", "u"),
                  "k-slow": ("tays", "a", "u")},
        statuses={"k-ok": (online, NOW - timedelta(minutes=1)),
                  "k-off": ({"state": "offline"}, NOW - timedelta(minutes=2)),
                  "gw": (gateway, NOW - timedelta(minutes=1)),
                  "k-slow": ({**online, "queue_depth": 9}, NOW - timedelta(minutes=1))},
        last_online={"k-off": (online, NOW - timedelta(minutes=20))},
        queue_trend={"k-slow": [2, 5, 9]})
    rows = device_rows(data, NOW)
    assert [r.device for r in rows] == ["k-off", "k-new", "gw", "k-slow", "k-ok"]
    off = rows[0]
    assert off.problems == (Problem.OFFLINE,) and off.software == "0.1.0"
    assert off.details_at == NOW - timedelta(minutes=20)
    assert rows[1].problems == (Problem.NO_STATUS,)
    assert rows[2].problems == (Problem.MODEM_DOWN,) and rows[2].roles == ("sync", "sms")
    assert rows[2].errors == ("2025-03-04 09:50 modem: no carrier",)  # Helsinki time
    assert rows[3].problems == (Problem.BACKLOG,) and rows[4].problems == ()
    assert rows[4].survey == "national v3"
    later = device_rows(data, NOW + timedelta(hours=1))
    assert Problem.SILENT in next(r for r in later if r.device == "k-ok").problems


def test_fleet_reads_registry_status_and_quarantine_from_the_store(central_url: str) -> None:
    with open_central(central_url) as db:
        register(db, DeviceOrigin("k1", "tays", "pohjoinen", "ensiapu"), action="register",
                 actor="test", at=NOW)
        db.upsert_device_status("k1", "tays", {"device": "k1", "site": "tays", "state": "online",
                                               "software": "0.1.0"}, NOW - timedelta(minutes=5))
        db.upsert_device_status("k1", "tays", {"device": "k1", "site": "tays",
                                               "state": "offline"}, NOW - timedelta(minutes=1))
        assert db.quarantine("palaute/tays/k1/batch", "bad", b"x", NOW, device="k1")
        (row,) = load_fleet(db, NOW)
        assert (row.device, row.area, row.unit, row.state, row.software) == (
            "k1", "pohjoinen", "ensiapu", "offline", "0.1.0")
        assert row.problems == (Problem.OFFLINE, Problem.QUARANTINE)


# -- the served pages ----------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = write_central_config(tmp_path, f"sqlite:///{tmp_path / 'c.sqlite'}")
    with served(cfg) as (_page, base, db):
        add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW)
        add_account(db, "lea", Role.LEADER, PASSWORD, NOW, grants=[Grant("unit", "ensiapu")])
        add_account(db, "admin", Role.ADMIN, PASSWORD, NOW, lang="en")
        register(db, DeviceOrigin("k1", "tays", "pohjoinen", "ensiapu"), action="register",
                 actor="test", at=NOW)
        yield base, db


def test_login_sets_a_strict_cookie_and_pages_follow_the_role(site) -> None:  # type: ignore[no-untyped-def]
    base, db = site
    assert requests.get(f"{base}/fleet", timeout=10, allow_redirects=False).status_code == 303
    client, answer = login(base, "tekla")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    fleet = client.get(f"{base}/fleet", timeout=10)
    assert fleet.status_code == 200 and "k1" in fleet.text and "ensiapu" in fleet.text
    assert "default-src 'self'" in fleet.headers["content-security-policy"]
    assert client.get(f"{base}/reports", timeout=10).status_code == 403
    assert client.get(f"{base}/audit", timeout=10).status_code == 403
    leader, _ = login(base, "lea")
    assert leader.get(f"{base}/fleet", timeout=10).status_code == 403
    other = leader.get(f"{base}/reports?unit=lastenpoli", timeout=10)
    assert other.status_code == 400 and "not among the ones granted" in other.text
    actions = [e.action for e in audit_log(db)]
    assert actions.count("login") == 2


def test_forms_without_the_csrf_token_are_refused(site) -> None:  # type: ignore[no-untyped-def]
    base, db = site
    client, _ = login(base, "tekla")
    page = client.get(f"{base}/devices/k1", timeout=10)
    moved = {"site": "tays", "area": "pohjoinen", "unit": "lastenpoli"}
    refused = client.post(f"{base}/devices/k1/move", data={**moved, "csrf": "forged"},
                          timeout=10)
    assert refused.status_code == 403
    assert lookup(db, "k1").unit == "ensiapu"  # type: ignore[union-attr]
    done = client.post(f"{base}/devices/k1/move", data={**moved, "csrf": csrf_of(page.text)},
                       timeout=10)
    assert done.status_code == 200 and lookup(db, "k1").unit == "lastenpoli"  # type: ignore[union-attr]
    entry = audit_log(db)[0]
    assert (entry.actor, entry.action, entry.detail["device"]) == ("tekla", "move", "k1")
    # The login form has its own token: a post from elsewhere does not log anyone in.
    stranger = requests.post(f"{base}/login", data={"csrf": "x", "name": "tekla",
                                                    "password": PASSWORD}, timeout=10)
    assert stranger.status_code == 403


def test_failed_logins_are_limited_and_audited(site) -> None:  # type: ignore[no-untyped-def]
    base, db = site
    codes = [login(base, "tekla", "wrong password!")[1].status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert login(base, "tekla")[1].status_code == 429  # even the right password, for now
    actions = [e.action for e in audit_log(db)]
    assert actions.count("login-failed") == 5 and actions.count("login-throttled") == 2


def test_logout_ends_the_session(site) -> None:  # type: ignore[no-untyped-def]
    base, db = site
    client, _ = login(base, "admin")
    page = client.get(f"{base}/audit", timeout=10)
    assert page.status_code == 200 and "login" in page.text
    assert client.post(f"{base}/logout", data={"csrf": csrf_of(page.text)},
                       timeout=10).status_code == 200
    assert client.get(f"{base}/audit", timeout=10, allow_redirects=False).status_code == 303
    assert db.execute("SELECT COUNT(*) FROM web_sessions")[0][0] == 0
