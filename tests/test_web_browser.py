"""The web pages in a real browser: Debian's Chromium driven by Selenium (chromium-driver).

A real Mosquitto, the central receiver and the web page on one SQLite store: a device's
online status arrives, the technician's fleet page shows it, the device's connection
drops and the broker publishes its last will, and the page shows it offline without
being reloaded. A leader's report with filters and its CSV download; axe-core (installed
by dev.sh, never fetched here) finds no serious violation on any page; every page fits a
phone's 390 px.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from report_data import insert, response
from services import Mosquitto, ReceiverThread, wait_until
from web_helpers import PASSWORD, served, write_central_config

from central.registry import DeviceOrigin, register
from central.web.accounts import Grant, Role, add_account
from sync import protocol
from sync.protocol import Topic

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
AXE = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
NOW = datetime.now(UTC)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium and chromium-driver are not installed (dev.sh installs them)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Broker, receiver and web page on one store, with accounts, a device and answers."""
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    with Mosquitto(tmp_path / "broker") as broker, ReceiverThread(url, broker.port):
        cfg = write_central_config(tmp_path, url, broker_port=broker.port)
        with served(cfg) as (_, base, db):
            add_account(db, "tekla", Role.TECHNICIAN, PASSWORD, NOW, lang="en")
            add_account(db, "lea", Role.LEADER, PASSWORD, NOW, lang="fi",
                        grants=[Grant("area", "pohjoinen")])
            add_account(db, "admin", Role.ADMIN, PASSWORD, NOW, lang="en")
            for device, unit in (("tays-lobby-1", "ensiapu"), ("tays-lobby-2", "lastenpoli")):
                register(db, DeviceOrigin(device, "tays", "pohjoinen", unit),
                         action="register", actor="test", at=NOW - timedelta(days=30))
            day = NOW - timedelta(days=3)
            insert(db, [response(day + timedelta(minutes=i), v, device="tays-lobby-1",
                                 area="pohjoinen", unit="ensiapu")
                        for i, v in enumerate([10, 10, 10, 9, 9, 8, 7, 6, 5, 3])])
            insert(db, [response(day + timedelta(minutes=i), v, device="tays-lobby-2",
                                 area="pohjoinen", unit="lastenpoli", channel="sms")
                        for i, v in enumerate([10, 9, 9, 9, 8, 7, 2])])
            yield {"base": base, "db": db, "broker": broker}


class Device:
    """A device's MQTT connection: its last will says offline, as the sync agent's does."""

    def __init__(self, port: int, site: str, device: str) -> None:
        self.topic = str(Topic(site, device, "status"))
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        will = protocol.encode(protocol.offline_status(device, site))
        self.client.will_set(self.topic, will, qos=1, retain=True)
        self.client.connect("127.0.0.1", port, keepalive=60)
        self.client.loop_start()
        self.device, self.site = device, site

    def online(self, queue_depth: int) -> None:
        payload = {"v": protocol.PROTOCOL_VERSION, "device": self.device, "site": self.site,
                   "state": "online", "at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "software": "0.1.0", "queue_depth": queue_depth,
                   "survey": {"id": "national", "version": 1}}
        self.client.publish(self.topic, protocol.encode(payload), qos=1,
                            retain=True).wait_for_publish(5)

    def drop(self) -> None:
        """The connection breaks without a goodbye: the broker publishes the last will."""
        sock = self.client.socket()
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)
        self.client.loop_stop()


def log_in(driver: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait_until(lambda: "/login" not in driver.current_url, 20, message="logged in")


def _state_of(driver: Any, device: str) -> str:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-device="{device}"]')
        return str(row.find_elements(By.TAG_NAME, "td")[5].text)
    except (StaleElementReferenceException, IndexError):
        return ""


def test_fleet_page_shows_a_device_going_offline_without_a_reload(
        chain: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    base, db = chain["base"], chain["db"]
    device = Device(chain["broker"].port, "tays", "tays-lobby-1")
    device.online(queue_depth=2)
    other = Device(chain["broker"].port, "tays", "tays-lobby-2")
    other.online(queue_depth=0)
    wait_until(lambda: {s.get("state") for s in db.device_statuses().values()} == {"online"}
               and len(db.device_statuses()) == 2, 20, message="online statuses stored")
    log_in(browser, base, "tekla")
    browser.get(f"{base}/fleet")
    wait_until(lambda: browser.execute_script("return document.body.dataset.fleetUpdates"),
               20, message="the live stream's first rows")
    assert _state_of(browser, "tays-lobby-1") == "online"
    browser.execute_script("window.notReloaded = true")
    device.drop()
    wait_until(lambda: _state_of(browser, "tays-lobby-1") == "offline", 30,
               message="the row turned offline")
    assert browser.execute_script("return window.notReloaded") is True
    first = browser.find_element(By.CSS_SELECTOR, "#fleet tbody tr")
    assert first.get_attribute("data-device") == "tays-lobby-1"  # problems first
    assert "offline" in first.find_elements(By.TAG_NAME, "td")[0].text
    # Details of the last online status are still shown after the last will.
    assert first.find_elements(By.TAG_NAME, "td")[10].text == "0.1.0"
    # Filter and sort on the page.
    browser.find_element(By.ID, "filter-problems").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
    assert [r.get_attribute("data-device") for r in rows] == ["tays-lobby-1"]
    browser.find_element(By.ID, "filter-problems").click()
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="device"] button').click()
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="device"] button').click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
    assert [r.get_attribute("data-device") for r in rows] == ["tays-lobby-2", "tays-lobby-1"]
    browser.find_element(By.ID, "filter-text").send_keys("lastenpoli")
    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
    assert [r.get_attribute("data-device") for r in rows] == ["tays-lobby-2"]
    other.client.disconnect()
    other.client.loop_stop()
    # The device's own page: its history chart.
    browser.get(f"{base}/devices/tays-lobby-1")
    title = browser.find_element(By.CSS_SELECTOR, "svg.history title").get_attribute(
        "textContent")
    assert "2 status messages" in title


def test_a_leaders_report_with_filters_and_its_csv(chain: dict[str, Any],
                                                    browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = chain["base"]
    log_in(browser, base, "lea")
    assert browser.current_url.endswith("/reports")
    assert "Palauteraportti" in browser.find_element(By.CSS_SELECTOR, ".report h1").text
    Select(browser.find_element(By.ID, "r-unit")).select_by_visible_text("ensiapu")
    Select(browser.find_element(By.ID, "r-by")).select_by_value("channel")
    browser.find_element(By.CSS_SELECTOR, "form.report-filters button").click()
    wait_until(lambda: "unit=ensiapu" in browser.current_url, 20, message="filtered")
    body = browser.find_element(By.CSS_SELECTOR, ".report").text
    assert "ensiapu" in body and "20,0" in body  # NPS of ensiapu's 10 answers
    assert "lastenpoli" not in body
    browser.find_element(By.ID, "download-csv").click()
    wait_until(lambda: any(p.suffix == ".csv" for p in browser.downloads.iterdir()), 30,
               message="the CSV downloaded")
    (csv,) = [p for p in browser.downloads.iterdir() if p.suffix == ".csv"]
    text = csv.read_text("utf-8")
    # ensiapu's 10 kiosk answers by channel; lastenpoli's SMS answers are not in it.
    assert "\nkiosk,10," in text and "\nsms," not in text and "lastenpoli" not in text
    # Another area is not this leader's.
    browser.get(f"{base}/reports?area=etela")
    assert "not among the ones granted" in browser.find_element(By.CSS_SELECTOR,
                                                                 ".error").text


def _axe(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text("utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify("
        "[{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));")
    return list(json.loads(found))


PAGES = ("/fleet", "/devices/tays-lobby-1", "/enrol-token", "/audit",
         "/reports?from={start}&to={end}&by=unit")


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (./dev.sh test "
                    "installs it into tests/.axe)")
def test_no_serious_accessibility_violations(chain: dict[str, Any], browser: Any) -> None:
    base, db = chain["base"], chain["db"]
    db.upsert_device_status("tays-lobby-1", "tays", {"device": "tays-lobby-1", "site": "tays",
                                                     "state": "online", "queue_depth": 1}, NOW)
    browser.get(f"{base}/login")
    problems = {"/login": _axe(browser)}
    log_in(browser, base, "admin")
    start, end = (NOW - timedelta(days=30)).date(), NOW.date()
    for path in PAGES:
        browser.get(base + path.format(start=start, end=end))
        problems[path] = _axe(browser)
    serious = {path: [(v["id"], v["help"], [n.get("target") for n in v["nodes"]][:3])
                      for v in found if v.get("impact") in ("serious", "critical")]
               for path, found in problems.items()}
    assert serious == {path: [] for path in problems}
    # The check itself works: a picture without a text alternative is found.
    browser.execute_script("const i = document.createElement('img'); i.src = 'data:,';"
                           "document.querySelector('main').appendChild(i);")
    assert "image-alt" in {v["id"] for v in _axe(browser)}


def test_pages_fit_a_phone(chain: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    base = chain["base"]
    log_in(browser, base, "admin")
    browser.set_window_size(390, 844)
    start, end = (NOW - timedelta(days=30)).date(), NOW.date()
    shots = Path(os.environ.get("PALAUTE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    for name, path in (("fleet", "/fleet"), ("device", "/devices/tays-lobby-1"),
                       ("reports", f"/reports?from={start}&to={end}&by=unit")):
        browser.get(base + path)
        width = browser.execute_script("return window.innerWidth")
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{path}: {scroll} px wide on a {width} px screen"
        browser.save_screenshot(str(shots / f"phone-{name}.png"))
