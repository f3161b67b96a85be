"""The web page as `central serve` runs it: HTTPS with its certificate, secure cookies, and
the enrolment endpoint on the same listener; and the config's refusals."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from services import free_port
from web_helpers import PASSWORD, csrf_of

from central.cli_receiver import _web_page
from central.enroll import EnrolmentError, TokenBook
from central.store import open_central
from central.web.accounts import Role, add_account, audit_log
from central.web.site import WebSettings
from survey.config import load_config
from survey.errors import ConfigError

NOW = datetime.now(UTC)


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


def test_https_page_with_secure_cookies_and_enrolment_beside_it(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    port = free_port()
    cfg = tmp_path / "central.toml"
    cfg.write_text(
        f'[central]\ndb = "sqlite:///{tmp_path / "c.sqlite"}"\n'
        '[mqtt]\nurl = "mqtt://127.0.0.1:1"\n'
        f'[web]\nlisten = "0.0.0.0:{port}"\ncertfile = "{cert}"\nkeyfile = "{key}"\n'
        f'[enrol]\ntokens = "{tmp_path / "tokens.sqlite"}"\n'
        'broker_url = "mqtts://central.example.fi:8883"\n'
        f'password_file = "{tmp_path / "mosquitto.passwd"}"\n', "utf-8")
    config = load_config(cfg)
    web = WebSettings.from_config(config)
    assert web is not None and web.secure_cookies
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW)
    base = f"https://127.0.0.1:{port}"
    with _web_page(config, web):
        client = requests.Session()
        form = client.get(f"{base}/login", timeout=10, verify=str(cert))
        answer = client.post(f"{base}/login", data={"csrf": csrf_of(form.text), "name": "tekla",
                                                    "password": PASSWORD}, timeout=10,
                             allow_redirects=False, verify=str(cert))
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-palaute_session=") and "Secure" in cookie
        page = client.get(f"{base}/enrol-token", timeout=10, verify=str(cert))
        made = client.post(f"{base}/enrol-token", timeout=10, verify=str(cert), data={
            "csrf": csrf_of(page.text), "device": "tays-lobby-9", "site": "tays",
            "area": "pohjoinen", "unit": "ensiapu", "roles": "kiosk,sync",
            "survey": "national", "hours": "2"})
        assert made.status_code == 200
        token = made.text.split('id="token" readonly value="')[1].split('"')[0]
        # The device redeems it on the same listener.
        enrolled = requests.post(f"{base}/enroll", json={"token": token}, verify=str(cert),
                                 timeout=30)
        assert enrolled.status_code == 200, enrolled.text
        assert enrolled.json()["device_id"] == "tays-lobby-9"
        assert requests.post(f"{base}/enroll", json={"token": token}, verify=str(cert),
                             timeout=30).status_code == 403  # spent
        client.close()
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        entry = next(e for e in audit_log(db) if e.action == "enroll-token")
        assert (entry.actor, entry.detail["device"]) == ("tekla", "tays-lobby-9")
    book = TokenBook(tmp_path / "tokens.sqlite")
    try:
        with pytest.raises(EnrolmentError):
            book.redeem(token, NOW + timedelta(minutes=1))
    finally:
        book.close()


@pytest.mark.parametrize(("web", "message"), [
    ('listen = "0.0.0.0:8080"\n', "passwords travel"),
    ('listen = "8080"\n', "HOST:PORT"),
    ('listen = "127.0.0.1:8080"\ncertfile = "a.pem"\n', "go together"),
    ('listen = "127.0.0.1:8080"\ncolour = "blue"\n', "colour"),
])
def test_bad_web_sections_are_refused(tmp_path: Path, web: str, message: str) -> None:
    cfg = tmp_path / "central.toml"
    cfg.write_text(f'[central]\ndb = "sqlite:///x.sqlite"\n[web]\n{web}', "utf-8")
    with pytest.raises(ConfigError, match=message):
        WebSettings.from_config(load_config(cfg))


def test_enrol_listen_is_refused_beside_web(tmp_path: Path) -> None:
    from central.enroll import EnrolmentSettings

    cfg = tmp_path / "central.toml"
    cfg.write_text('[central]\ndb = "sqlite:///x.sqlite"\n[web]\nlisten = "127.0.0.1:8080"\n'
                   '[enrol]\nlisten = "127.0.0.1:8443"\nbroker_url = "mqtts://c:8883"\n',
                   "utf-8")
    with pytest.raises(ConfigError, match="served on \\[web\\] listen"):
        EnrolmentSettings.from_config(load_config(cfg))


def test_publishing_a_configuration_from_the_page(tmp_path: Path) -> None:
    """The device page's form publishes what `central publish-config` would: retained, on
    the device's config topic, checked as the device checks it; audited."""
    import threading

    import paho.mqtt.client as mqtt
    from services import Mosquitto
    from web_helpers import login, served, write_central_config

    from central.registry import DeviceOrigin, register
    from survey.definition import shipped_survey_path
    from sync.protocol import Topic, parse_config

    with Mosquitto(tmp_path / "broker") as broker:
        cfg = write_central_config(tmp_path, f"sqlite:///{tmp_path / 'c.sqlite'}",
                                   broker_port=broker.port)
        with served(cfg) as (_, base, db):
            add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW)
            register(db, DeviceOrigin("tays-lobby-1", "tays", "pohjoinen", "ensiapu"),
                     action="register", actor="test", at=NOW)
            client, _ = login(base, "tekla")
            page = client.get(f"{base}/devices/tays-lobby-1", timeout=10)
            form = {"csrf": csrf_of(page.text), "version": "7", "survey": "national.toml",
                    "settings": "heartbeat_seconds=120\nbatch_max_count=50\n"}
            bad = client.post(f"{base}/devices/tays-lobby-1/publish", timeout=30,
                              data={**form, "settings": "heartbeat_seconds=lots"})
            assert bad.status_code == 400 and "expected KEY=INTEGER" in bad.text
            done = client.post(f"{base}/devices/tays-lobby-1/publish", data=form, timeout=30)
            assert done.status_code == 200, done.text[-500:]
            entry = audit_log(db)[0]
            assert (entry.action, entry.detail["version"]) == ("publish-config", 7)
            client.close()
        got: list[bytes] = []
        arrived = threading.Event()
        watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="watch")
        watcher.on_message = lambda c, u, m: (got.append(m.payload), arrived.set())
        watcher.connect("127.0.0.1", broker.port)
        watcher.subscribe(str(Topic("tays", "tays-lobby-1", "config")), qos=1)
        watcher.loop_start()
        try:
            assert arrived.wait(10), "no retained configuration"
        finally:
            watcher.disconnect()
            watcher.loop_stop()
    remote = parse_config(got[0])
    assert remote.version == 7
    assert remote.settings == {"heartbeat_seconds": 120, "batch_max_count": 50}
    assert remote.survey == shipped_survey_path("national").read_text("utf-8")


def test_the_pages_on_either_store(central_url: str, tmp_path: Path) -> None:
    """The same pages on SQLite and PostgreSQL: fleet, a device's history, a report, the
    audit."""
    from report_data import insert, response
    from web_helpers import login, served, write_central_config

    from central.registry import DeviceOrigin, register

    cfg = write_central_config(tmp_path, central_url)
    with served(cfg) as (_, base, db):
        add_account(db, "anna", Role.ADMIN, PASSWORD, NOW, lang="en")
        register(db, DeviceOrigin("k1", "tays", "pohjoinen", "ensiapu"), action="register",
                 actor="test", at=NOW - timedelta(days=9))
        for hours, state in ((30, "online"), (2, "offline")):
            db.upsert_device_status("k1", "tays", {"device": "k1", "site": "tays",
                                                   "state": state, "queue_depth": 3},
                                    NOW - timedelta(hours=hours))
        insert(db, [response(NOW - timedelta(days=2, minutes=i), v, device="k1",
                             area="pohjoinen", unit="ensiapu")
                    for i, v in enumerate([10, 10, 9, 9, 8, 6, 0])])
        client, _ = login(base, "anna")
        fleet = client.get(f"{base}/fleet", timeout=30)
        assert 'data-device="k1"' in fleet.text and "offline" in fleet.text
        device = client.get(f"{base}/devices/k1", timeout=30)
        assert "2 status messages, offline for 2" in device.text
        day = (NOW - timedelta(days=2)).date()
        csv = client.get(f"{base}/reports/report.csv?from={day}&to={day}&by=unit&lang=en",
                         timeout=60)
        assert "\nensiapu,7," in csv.text  # 4 promoters, 2 detractors of 7: NPS 28.6
        assert ",28.6\n" in csv.text
        audit_page = client.get(f"{base}/audit", timeout=30)
        assert "login" in audit_page.text
        client.close()
