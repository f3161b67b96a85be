"""A device as it lives in the field: installed by scripts/install.sh with the system python
into its own prefix, provisioned as root, and every service run as the unprivileged user.

Nothing here uses the checkout's .venv to run the device: each command is the installed
`palaute` of the scratch prefix. The central side (broker, receiver, enrolment) is the
test's own, as the central server would be.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from services import Mosquitto, ReceiverThread, central_ids, wait_until

from central.enroll import EnrolmentServer, EnrolmentSettings
from hardware.modem_sim import ModemCore, SimConfig
from hardware.modem_sim_pty import PtyModem
from survey.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")
USER = "palaute-fieldtest"  # not `palaute`: a machine's real service user is left alone
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="install.sh creates a system user and "
                       "provision gives files to it: only root can (run the suite as root)"),
    pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no system python at /usr/bin/python3"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing"),
]


@dataclass
class Field:
    """The scratch machine: folders, the installed command and the service user."""

    root: Path
    palaute: Path
    uid: int
    gid: int
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The installed `palaute` as root (as a technician runs provision)."""
        return subprocess.run([str(self.palaute), *args], capture_output=True, text=True,
                              env=self.env, cwd=self.root, timeout=timeout, check=False)

    def as_user(self) -> list[str]:
        return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", "--"]

    def run_as_user(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The installed `palaute` as the service user (as systemd runs the units)."""
        return subprocess.run([*self.as_user(), str(self.palaute), *args], capture_output=True,
                              text=True, env=self.env, cwd=self.root, timeout=timeout,
                              check=False)

    @contextlib.contextmanager
    def service(self, *args: str) -> Iterator[subprocess.Popen[str]]:
        """A long-running service as the service user, stopped with SIGTERM as systemd does."""
        log = (self.root / f"{args[0]}-{args[1]}.log").open("w")
        proc = subprocess.Popen([*self.as_user(), str(self.palaute), "-v", *args], text=True,
                                env=self.env, cwd=self.root, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()

    def provision(self, name: str, *args: str) -> Path:
        """`palaute provision` as root into this device's own etc and data folders."""
        result = self.run("provision", "--etc", f"{name}/etc", "--data", f"{name}/data",
                          "--units-dir", "units", "--user", USER, "--no-prompts", *args)
        assert result.returncode == 0, result.stderr
        return self.root / name / "etc" / "device.toml"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def field() -> Iterator[Field]:
    # Not pytest's tmp_path: its folders are 0700 and the service user must pass through.
    root = Path(tempfile.mkdtemp(prefix="palaute-field-", dir="/tmp"))
    root.chmod(0o755)
    made_user = not _user_exists(USER)
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=PATH, SDL_AUDIODRIVER="dummy", SDL_VIDEODRIVER="dummy")
    try:
        install_env = {**env, "PALAUTE_PREFIX": str(root / "prefix"),
                       "PALAUTE_UNITS_DIR": str(root / "units"),
                       "PALAUTE_BIN_DIR": str(root / "bin"), "PALAUTE_ETC": str(root / "etc"),
                       "PALAUTE_DATA": str(root / "data"), "PALAUTE_USER": USER,
                       "PALAUTE_PYTHON": str(SYSTEM_PYTHON)}
        result = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh"), "kiosk,sms,sync"],
                                env=install_env, capture_output=True, text=True, timeout=900,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        user = pwd.getpwnam(USER)
        home = root / "home"  # the units have no home; caches (matplotlib) go somewhere
        home.mkdir(mode=0o700)
        os.chown(home, user.pw_uid, user.pw_gid)
        env["HOME"] = str(home)
        yield Field(root, root / "bin" / "palaute", user.pw_uid, user.pw_gid, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if made_user and _user_exists(USER):
            subprocess.run(["userdel", USER], check=False, capture_output=True)


@dataclass
class Central:
    url: str
    db: Path
    broker: Mosquitto


@pytest.fixture(scope="module")
def central(field: Field) -> Iterator[Central]:
    db = field.root / "central" / "central.sqlite"
    url = f"sqlite:///{db}"
    with Mosquitto(field.root / "broker") as broker, ReceiverThread(url, broker.port):
        yield Central(url, db, broker)


def _owner_mode(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def _config_is_for_the_group_only(field: Field, etc: Path, files: list[str]) -> None:
    assert _owner_mode(etc) == (0, field.gid, 0o750)
    for name in files:
        assert _owner_mode(etc / name) == (0, field.gid, 0o640), name


def _central_channels(db: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return dict(conn.execute("SELECT id, channel FROM responses"))


def test_install_is_a_copy_run_by_the_system_python(field: Field) -> None:
    result = field.run_as_user("--version")
    assert result.returncode == 0 and result.stdout.startswith("palaute ")
    probe = subprocess.run(
        [str(field.root / "prefix" / "venv" / "bin" / "python"), "-c",
         "import palaute, sys; print(palaute.__file__); print(sys.base_prefix)"],
        capture_output=True, text=True, env=field.env, cwd=field.root, check=True)
    module, base = probe.stdout.split()
    assert module.startswith(str(field.root / "prefix")) and not module.startswith(str(ROOT))
    assert base == "/usr"  # the venv stands on the system python, not on a developer's
    units = sorted(p.name for p in (field.root / "units").iterdir())
    assert units == ["palaute-kiosk.service", "palaute-sms.service", "palaute-sync.service"]
    assert "dialout" in [g.gr_name for g in grp.getgrall() if USER in g.gr_mem]


def test_kiosk_answers_reach_the_central_as_the_service_user(field: Field,
                                                             central: Central) -> None:
    secret = field.root / "kiosk.pw"
    secret.write_text("kiosk-password\n")
    secret.chmod(0o600)
    config = field.provision("kiosk", "--id", "fi-kiosk-1", "--site", "tays", "--area",
                             "sairaalapalvelut", "--unit", "ensiapu", "--roles", "kiosk,sync",
                             "--broker", central.broker.url, "--password-file", str(secret))
    etc, data = config.parent, field.root / "kiosk" / "data"
    _config_is_for_the_group_only(field, etc, ["device.toml", "mqtt.pass",
                                               "surveys/national.toml"])
    assert _owner_mode(data)[:2] == (field.uid, field.gid)
    store = data / "store.sqlite"
    assert _owner_mode(store)[:2] == (field.uid, field.gid)

    script = field.root / "patient.txt"
    script.write_text("touch 0.5 0.6\ntouch 0.5 0.6\ntouch 0.65 0.55\ntouch 0.1 0.6\n"
                      "touch 0.9 0.95\ntouch 0.9 0.95\ntype Hyvä\ntouch 0.9 0.95\nwait 10\n")
    result = field.run_as_user("kiosk", "simulate", "--config", str(config), "--script",
                               str(script), "--screenshots", str(data / "shots"))
    assert result.returncode == 0, result.stderr
    with contextlib.closing(sqlite3.connect(store)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM responses")]
    assert len(ids) == 1

    with field.service("sync", "run", "--config", str(config)) as sync:
        wait_until(lambda: ids[0] in central_ids(central.url), 60,
                   message="the kiosk's answer at the central")
        wal = store.with_name("store.sqlite-wal")
        assert sync.poll() is None and wal.exists()
        assert _owner_mode(wal)[:2] == (field.uid, field.gid)
    assert _central_channels(central.db)[ids[0]] == "kiosk"

    status = field.run_as_user("status", "--json", "--config", str(config))
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["device"] == "fi-kiosk-1" and info["roles"] == ["kiosk", "sync"]
    assert info["responses"]["synced"] == 1 and info["last_sync"]


def test_sms_gateway_runs_as_the_service_user(field: Field, central: Central) -> None:
    core = ModemCore(SimConfig())
    link = field.root / "modem"
    with PtyModem(core, link):
        os.chown(os.path.realpath(link), field.uid, -1)  # as udev gives the port to dialout
        config = field.provision("gateway", "--id", "fi-sms-1", "--site", "tays", "--area",
                                 "sairaalapalvelut", "--unit", "ensiapu", "--roles", "sms,sync",
                                 "--broker", central.broker.url, "--modem", str(link),
                                 "--password", "gw-password")
        # Any hour of the day: the test may run at night.
        config.write_text(config.read_text().replace("[sms]\n", "[sms]\nwindow_start = 0\n"
                                                                "window_end = 24\n"))
        _config_is_for_the_group_only(field, config.parent, ["device.toml", "mqtt.pass"])
        visits = field.root / "visits.csv"
        now = datetime.now(UTC).isoformat(timespec="seconds")
        visits.write_text(f"unit,time,kind,phone,lang\nensiapu,{now},visit,+358401234567,fi\n")
        invite = field.run_as_user("sms", "invite", "--csv", str(visits), "--config",
                                   str(config))
        assert invite.returncode == 0, invite.stderr
        before = set(_central_channels(central.db))
        with field.service("sms", "run", "--config", str(config)), \
                field.service("sync", "run", "--config", str(config)):
            for answered, reply in enumerate(["9", "Ystävällinen hoitaja", "5"]):
                wait_until(lambda n=answered: len(_texts_to(core, "+358401234567")) > n, 60,
                           message="the gateway's next question")
                core.deliver("+358401234567", reply)
            wait_until(lambda: "sms" in {c for i, c in _central_channels(central.db).items()
                                         if i not in before}, 60,
                       message="the SMS answer at the central")
    store = config.parent.parent / "data" / "store.sqlite"
    assert _owner_mode(store)[:2] == (field.uid, field.gid)
    status = field.run_as_user("status", "--json", "--config", str(config))
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["roles"] == ["sms", "sync"] and info["responses"]["synced"] == 1


def _texts_to(core: ModemCore, number: str) -> list[str]:
    return [str(m["text"]) for m in core.sent()
            if m["recipient"] == number and m["parts"] == m["total"]]


def test_an_enrolled_device_works_as_the_service_user(field: Field, central: Central) -> None:
    pki = field.root / "pki"
    pki.mkdir()
    cert, key = pki / "cert.pem", pki / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    central_toml = field.root / "central" / "central.toml"
    central_toml.write_text(f'[enrol]\ntokens = "{field.root / "central" / "tokens.sqlite"}"\n'
                            f'listen = "127.0.0.1:0"\ncertfile = "{cert}"\nkeyfile = "{key}"\n'
                            f'broker_url = "{central.broker.url}"\n')
    settings = EnrolmentSettings.from_config(load_config(central_toml))
    assert settings is not None
    server = EnrolmentServer(settings).start()
    try:
        token = field.run("central", "enroll-token", "--config", str(central_toml),
                          "--device", "fi-enrolled-1", "--site", "tays", "--area",
                          "sairaalapalvelut", "--unit", "lastenpoli", "--roles", "kiosk,sync")
        assert token.returncode == 0, token.stderr
        config = field.provision("enrolled", "--enroll",
                                 f"https://127.0.0.1:{server.port}/enroll",
                                 "--token", token.stdout.strip(), "--ca-file", str(cert))
    finally:
        server.close()
    _config_is_for_the_group_only(field, config.parent, ["device.toml", "mqtt.pass", "ca.pem"])
    selftest = field.run_as_user("selftest", "--json", "--config", str(config),
                                 "--only", "config", "--only", "store", "--only", "broker")
    answer = json.loads(selftest.stdout)
    assert selftest.returncode == 0 and answer["ok"], answer
    assert [c["name"] for c in answer["checks"]] == ["config", "store", "broker"]
    status = field.run_as_user("status", "--json", "--config", str(config))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["unit"] == "lastenpoli"
    store = config.parent.parent / "data" / "store.sqlite"
    assert _owner_mode(store)[:2] == (field.uid, field.gid)
