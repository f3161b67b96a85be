"""`palaute selftest`: each check proves something, and the exit code says whether all passed."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from palaute import selftest, selftest_hw
from palaute.cli import main
from survey.config import load_config
from survey.definition import shipped_survey_path

PINS = {"buttons": ["GPIO17", "GPIO27", "GPIO5"], "leds": ["GPIO22", "GPIO23", "GPIO6"]}


def _config(tmp_path: Path, *, kiosk: bool = True, survey: Path | None = None) -> Path:
    path = tmp_path / "device.toml"
    text = (
        '[device]\nid = "tays-lobby-3"\nsite = "tays"\narea = "sairaalapalvelut"\n'
        f'unit = "ensiapu"\nstore = "{tmp_path / "store.sqlite"}"\n'
        f'[survey]\nfile = "{survey or shipped_survey_path("national")}"\n'
    )
    if kiosk:
        text += (
            '[kiosk]\nscale = "smileys5"\n'
            'buttons = { pins = ["GPIO17", "GPIO27", "GPIO5", "GPIO6", "GPIO13"] }\n'
            'leds = ["GPIO22", "GPIO23", "GPIO24", "GPIO25", "GPIO26"]\n'
            'headphone_pin = "GPIO16"\n'
            f'prompts_dir = "{tmp_path / "prompts"}"\n'
        )
    path.write_text(text)
    return path


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    old = selftest_hw.PIN_FACTORY
    selftest_hw.PIN_FACTORY = factory
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        selftest_hw.PIN_FACTORY = old
        factory.reset()
        Device.pin_factory = None


def _ctx(config: Path, say: object, ask: object = lambda _q: "y") -> selftest.Context:
    args = argparse.Namespace(timeout=2.0, interactive=True)
    return selftest.Context(load_config(config), args, ask=ask, say=say)  # type: ignore[arg-type]


def test_buttons_pressed_in_order_pass_and_light_their_leds(tmp_path: Path,
                                                            mock_pins: MockFactory) -> None:
    asked: list[str] = []

    def press(message: str) -> None:
        asked.append(message)
        pin = mock_pins.pin(message.split("(pin ")[1].rstrip(")"))
        pin.drive_low()
        pin.drive_high()

    result = selftest_hw.check_buttons(_ctx(_config(tmp_path), press))
    assert result.ok and not result.skipped, result.detail
    assert len(asked) == 5 and asked[0].startswith("press button 1")


def test_buttons_wired_in_the_wrong_order_fail(tmp_path: Path, mock_pins: MockFactory) -> None:
    def press_wrong(message: str) -> None:
        pin = mock_pins.pin("GPIO27")  # always button 2
        pin.drive_low()
        pin.drive_high()

    result = selftest_hw.check_buttons(_ctx(_config(tmp_path), press_wrong))
    assert not result.ok and "asked for button 1, got 2" in result.detail


def test_unpressed_button_fails_after_the_timeout(tmp_path: Path, mock_pins: MockFactory) -> None:
    ctx = _ctx(_config(tmp_path), lambda _m: None)
    ctx.args.timeout = 0.2
    result = selftest_hw.check_buttons(ctx)
    assert not result.ok and "not pressed" in result.detail


def test_headphone_switch_both_ways(tmp_path: Path, mock_pins: MockFactory) -> None:
    def plug(message: str) -> None:
        pin = mock_pins.pin("GPIO16")
        (pin.drive_low if "in" in message.split()[-1] else pin.drive_high)()

    result = selftest_hw.check_headphones(_ctx(_config(tmp_path), plug))
    assert result.ok, result.detail


def test_json_run_passes_core_checks_and_skips_person_checks(
    tmp_path: Path, mock_pins: MockFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["selftest", "--config", str(_config(tmp_path)), "--json"])
    out = json.loads(capsys.readouterr().out)
    by_name = {c["name"]: c for c in out["checks"]}
    assert code == 0 and out["ok"] is True
    assert by_name["store"]["ok"] and by_name["survey"]["ok"] and by_name["config"]["ok"]
    assert by_name["buttons"]["skipped"]
    assert by_name["kiosk start"]["skipped"], "the kiosk has not run yet"


def test_a_failed_kiosk_start_fails_the_selftest(
    tmp_path: Path, mock_pins: MockFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.app import FAULTS_META
    from survey.store import Store

    config = _config(tmp_path)
    with Store(tmp_path / "store.sqlite") as store:
        store.set_meta(FAULTS_META, json.dumps(["audio: no audio output: no such device"]))
    code = main(["selftest", "--config", str(config), "--json"])
    by_name = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert code == 1 and not by_name["kiosk start"]["ok"]
    assert "no such device" in by_name["kiosk start"]["detail"]


def test_a_failing_check_gives_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n')
    code = main(["selftest", "--config", str(_config(tmp_path, kiosk=False, survey=bad)),
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False
    assert [c["name"] for c in out["checks"] if not c["ok"]] == ["survey"]


def _sms_config(tmp_path: Path, port: str) -> Path:
    path = _config(tmp_path, kiosk=False)
    path.write_text(path.read_text() + f'[sms]\nmodems = ["{port}"]\n'
                    'hash_key = "0123456789abcdef0123"\n')
    return path


def test_modem_check_passes_and_sends_a_test_sms(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from modem_fixtures import sim_modem

    with sim_modem(tmp_path) as (port, control):
        code = main(["selftest", "--config", str(_sms_config(tmp_path, port)), "--json",
                     "--only", "modem", "--test-sms-to", "040 123 4567"])
        out = json.loads(capsys.readouterr().out)
        sent = json.loads(control.control("sent"))
    assert code == 0, out
    assert "test SMS sent" in out["checks"][0]["detail"]
    assert [m["recipient"] for m in sent] == ["+358401234567"]


def test_modem_without_network_fails_with_the_reason(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from modem_fixtures import sim_modem

    with sim_modem(tmp_path) as (port, control):
        control.control("fault no-network 3")
        code = main(["selftest", "--config", str(_sms_config(tmp_path, port)), "--json",
                     "--only", "modem"])
        out = json.loads(capsys.readouterr().out)
    assert code == 1
    detail = out["checks"][0]["detail"]
    assert "no signal" in detail or "not registered" in detail


def test_broker_check_gets_the_centrals_ack(tmp_path: Path, central_url: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from services import Mosquitto, ReceiverThread, write_device_config

    from survey.config import DeviceIdentity

    origin = DeviceIdentity("tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
    (tmp_path / "dev").mkdir()
    with Mosquitto(tmp_path / "broker") as broker:
        config = write_device_config(tmp_path / "dev", origin, broker.port)
        args = ["selftest", "--config", str(config), "--json", "--only", "broker",
                "--timeout", "5"]
        # No central running: connected and published, but nobody acks.
        assert main([*args[:-1], "1.5"]) == 1
        assert "no ack from the central" in json.loads(capsys.readouterr().out)["checks"][0][
            "detail"]
        with ReceiverThread(central_url, broker.port):
            assert main(args) == 0
        assert "acked by the central" in json.loads(capsys.readouterr().out)["checks"][0][
            "detail"]


@pytest.mark.parametrize(("only", "message"), [
    ("modme", "--only modme: no such check (known: config, survey, store, disk, kiosk_start, "
              "buttons, headphones, audio, modem, broker)"),
    ("modem", "--only modem: does not apply to this device's roles (its checks: config, "
              "survey, store, disk, kiosk_start, buttons, headphones, audio)"),
])
def test_only_with_a_check_that_is_not_here_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], only: str, message: str) -> None:
    code = main(["selftest", "--config", str(_config(tmp_path)), "--only", only])
    assert code == 2
    assert capsys.readouterr().err == f"palaute: error: {message}\n"
    assert not (tmp_path / "store.sqlite").exists()  # nothing ran


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_selftest_that_checks_nothing_does_not_pass(
        tmp_path: Path, mock_pins: MockFactory, capsys: pytest.CaptureFixture[str],
        json_flag: list[str]) -> None:
    code = main(["selftest", "--config", str(_config(tmp_path)), "--only", "buttons",
                 "--non-interactive", *json_flag])
    assert code == 1
    out, err = capsys.readouterr()
    if json_flag:
        answer = json.loads(out)
        assert answer["ok"] is False and "nothing was checked" in answer["problem"]
    else:
        assert "SKIP" in out and "nothing was checked: buttons skipped" in err


def test_config_check_refuses_what_the_kiosk_service_refuses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path)
    path.write_text(path.read_text() + 'timezone = "Europe/Helsinky"\n')
    script = tmp_path / "script.txt"
    script.write_text("wait 1\n")
    assert main(["kiosk", "simulate", "--config", str(path), "--script", str(script),
                 "--screenshots", str(tmp_path / "s")]) == 1
    service_error = capsys.readouterr().err.removeprefix("palaute: error: ").strip()
    assert main(["selftest", "--config", str(path), "--json", "--only", "config"]) == 1
    check = json.loads(capsys.readouterr().out)["checks"][0]
    assert check["ok"] is False and check["detail"] == service_error
    assert "unknown time zone 'Europe/Helsinky'" in service_error


def test_json_stdout_is_only_json_even_with_pygame_and_noise_below_python(
        tmp_path: Path) -> None:
    # A real process: the pygame banner and ALSA/SDL lines are written to the process's
    # own stdout, which a captured test would not see.
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    env["SDL_AUDIODRIVER"] = "dummy"
    config = _config(tmp_path)
    for argv in (["selftest", "--json", "--non-interactive"], ["status", "--json"]):
        proc = subprocess.run([sys.executable, "-m", "palaute", *argv, "--config", str(config)],
                              capture_output=True, text=True, env=env, timeout=120)
        answer = json.loads(proc.stdout)  # nothing but JSON
        assert isinstance(answer, dict), proc.stderr
    noisy = ("import os, sys\nfrom palaute.cli import json_stdout\n"
             "with json_stdout():\n    os.write(1, b'ALSA lib noise\\n')\n"
             "    print('{\"ok\": true}')\n")
    proc = subprocess.run([sys.executable, "-c", noisy], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout == '{"ok": true}\n' and "ALSA lib noise" in proc.stderr
