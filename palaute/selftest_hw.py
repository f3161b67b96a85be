"""The hardware checks of `palaute selftest`, by role: buttons, audio, modem, broker.

A check that needs a person (pressing a button, listening) asks through the
context; without a terminal (`--json`, `--non-interactive`) it is skipped, not
passed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from survey.config import Config

if TYPE_CHECKING:
    from palaute.selftest import Check, Context, Result

# Tests swap in gpiozero's MockFactory here; None means gpiozero's default.
PIN_FACTORY: Any = None


def _result(name: str, ok: bool, detail: str, skipped: bool = False) -> Result:
    from palaute.selftest import Result

    return Result(name, ok, detail, skipped)


def _kiosk_config(ctx: Context) -> Any:
    from kiosk.config import load_kiosk_config
    from survey.definition import load_survey

    return load_kiosk_config(ctx.config, load_survey(ctx.config.survey_path()))


def check_kiosk_start(ctx: Context) -> Result:
    """What the kiosk found when it last started: audio and GPIO opened, or what failed."""
    import json

    from kiosk.app import FAULTS_META
    from survey.store import Store

    with Store(ctx.config.store_path()) as store:
        raw = store.get_meta(FAULTS_META)
    if raw is None:
        return _result("kiosk start", True, "the kiosk has not run on this store yet", True)
    faults = json.loads(raw)
    if faults:
        return _result("kiosk start", False, "; ".join(str(f) for f in faults))
    return _result("kiosk start", True, "audio and GPIO opened at the last start")


def check_buttons(ctx: Context) -> Result:
    """Each answer button is pressed in turn; its LED lights to confirm."""
    from hardware.buttons import ButtonPanel

    kcfg = _kiosk_config(ctx)
    pins = kcfg.buttons.pins
    if not pins:
        return _result("buttons", True, "no physical buttons configured (touch only)", True)
    if not ctx.args.interactive:
        return _result("buttons", True, f"{len(pins)} buttons: needs a person to press", True)
    pressed: list[int] = []
    event = threading.Event()

    def on_press(n: int) -> None:
        pressed.append(n)
        event.set()

    panel = ButtonPanel(pins, leds=kcfg.buttons.leds, bounce_time=kcfg.buttons.bounce_time,
                        pin_factory=PIN_FACTORY, on_press=on_press)
    try:
        for n in range(1, len(pins) + 1):
            event.clear()
            ctx.say(f"press button {n} (pin {pins[n - 1]})")
            if not event.wait(ctx.args.timeout):
                return _result("buttons", False, f"button {n} was not pressed within "
                               f"{ctx.args.timeout:g} s")
            if pressed[-1] != n:
                return _result("buttons", False, f"asked for button {n}, got {pressed[-1]}: "
                               "check the wiring order")
            panel.flash(n)
    finally:
        panel.close()
    return _result("buttons", True, f"all {len(pins)} buttons answered; LEDs flashed")


def check_headphones(ctx: Context) -> Result:
    """The headphone-detect switch sees a plug go in and out."""
    from hardware.buttons import ButtonPanel

    kcfg = _kiosk_config(ctx)
    pin = kcfg.buttons.headphone_pin
    if not pin:
        return _result("headphones", True, "no headphone-detect switch configured", True)
    if not ctx.args.interactive:
        return _result("headphones", True, "needs a person to plug headphones", True)
    seen: list[bool] = []
    event = threading.Event()

    def on_plug(plugged: bool) -> None:
        seen.append(plugged)
        event.set()

    panel = ButtonPanel((), headphone_pin=pin, pin_factory=PIN_FACTORY,
                        headphone_active_low=kcfg.buttons.headphone_active_low,
                        on_headphones=on_plug)
    try:
        for want, words in ((True, "plug headphones in"), (False, "pull the headphones out")):
            event.clear()
            ctx.say(words)
            if not event.wait(ctx.args.timeout) or seen[-1] is not want:
                return _result("headphones", False, f"no change seen after '{words}'")
    finally:
        panel.close()
    return _result("headphones", True, f"detect switch on {pin} works both ways")


def check_audio(ctx: Context) -> Result:
    """A prompt plays on the speaker, then on headphones; the technician confirms."""
    from hardware.audio import AudioError, MixerAudio, PromptCache

    kcfg = _kiosk_config(ctx)
    try:
        audio = MixerAudio(PromptCache(kcfg.prompts_dir), volume_db=kcfg.settings.volume_db)
    except AudioError as exc:
        return _result("audio", False, str(exc))
    try:
        survey = kcfg.settings.survey
        lang = kcfg.settings.default_lang
        text = survey.message("kiosk_welcome", lang)
        if not ctx.args.interactive:
            audio.say([(text, lang)], kcfg.settings.rate)
            return _result("audio", True, "audio output opened and a prompt played (not heard)",
                           True)
        for where in ("speaker", "headphones"):
            audio.say([(text, lang)], kcfg.settings.rate)
            answer = ctx.ask(f"did you hear the prompt on the {where}? [y/N] ").strip().lower()
            if answer not in ("y", "yes", "k", "kyllä", "j", "ja"):
                return _result("audio", False, f"no sound on the {where}")
    finally:
        audio.close()
    return _result("audio", True, "prompt heard on speaker and headphones")


def check_modem(ctx: Context) -> Result:
    """Each modem: SIM ready, signal, registration; a test SMS when a number is given."""
    from sms_gateway.errors import PortError, SmsGatewayError
    from sms_gateway.modem import Modem
    from sms_gateway.phones import normalise
    from sms_gateway.service import driver_settings

    sec = ctx.config.section("sms")
    urls = sec.get_str_list("modems")
    to = normalise(ctx.args.test_sms_to) if ctx.args.test_sms_to else None
    settings = driver_settings(sec)  # the same SIM wait as the service
    details = []
    for url in urls:
        try:
            with Modem.from_url(url, retries=3, retry_delay=1.0, reopen_attempts=2,
                                **settings) as modem:
                modem.start()
                info = modem.info()
                problem = _modem_problem(info)
                if problem:
                    return _result("modem", False, f"{url}: {problem}")
                detail = (f"{url}: {info.model or 'modem'}, SIM ready, signal "
                          f"{info.signal.rssi if info.signal else '?'}/31, "
                          f"{info.registration.state if info.registration else '?'}")
                if to:
                    refs = modem.send(to, f"palaute selftest {ctx.config.identity().id}")
                    detail += f", test SMS sent (refs {', '.join(map(str, refs))})"
                details.append(detail)
        except PortError as exc:  # a port in use is most often the running service's
            return _result("modem", False, f"{url}: {exc} (is palaute-sms stopped?)")
        except SmsGatewayError as exc:
            return _result("modem", False, f"{url}: {exc}")
    return _result("modem", True, "; ".join(details))


def _modem_problem(info: Any) -> str | None:
    if info.sim != "READY":
        return f"SIM is {info.sim or 'not answering'}"
    if info.signal is None or info.signal.rssi is None:
        return "no signal (check the antenna)"
    if info.registration is None or not info.registration.registered:
        state = info.registration.state if info.registration else "unknown"
        return f"not registered to the network ({state})"
    return None


def check_broker(ctx: Context) -> Result:
    """Connect with this device's account, send an empty batch, and get the central's ack."""
    import uuid
    from datetime import UTC, datetime

    from sync.mqtt import load_mqtt_settings, make_client, reason_failed
    from sync.protocol import Topic, encode, make_batch, parse_ack

    ident = ctx.config.identity()
    settings = load_mqtt_settings(ctx.config)
    batch = str(uuid.uuid4())
    acked = threading.Event()
    connected = threading.Event()
    refused: list[str] = []
    topic = Topic(ident.site, ident.id, "responses")

    def on_connect(client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason_failed(reason):
            refused.append(str(reason))
            connected.set()
            return
        client.subscribe(str(topic.sibling("ack")), qos=1)
        payload = encode(make_batch(batch, ident.id, datetime.now(UTC), []))
        client.publish(str(topic), payload, qos=1)
        connected.set()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        try:
            if parse_ack(msg.payload).batch == batch:
                acked.set()
        except ValueError:
            pass

    client = make_client(settings, f"{ident.id}-selftest", persistent=False)
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect_async(settings.host, settings.port, keepalive=settings.keepalive)
        client.loop_start()
        if not connected.wait(ctx.args.timeout):
            return _result("broker", False, f"no answer from {settings.host}:{settings.port}")
        if refused:
            return _result("broker", False, f"{settings.host}:{settings.port} refused the "
                           f"login ({refused[0]}): check username and password")
        if not acked.wait(ctx.args.timeout):
            return _result("broker", False, "connected and published, but no ack from the "
                           f"central within {ctx.args.timeout:g} s (is `central serve` running?)")
    finally:
        client.disconnect()
        client.loop_stop()
    return _result("broker", True, f"{settings.host}:{settings.port}: connected, published, "
                   "acked by the central")


# Every hardware check and the config section that makes it apply (also what --only knows).
CHECKS_BY_SECTION: list[tuple[str, Check]] = [
    ("kiosk", check_kiosk_start), ("kiosk", check_buttons), ("kiosk", check_headphones),
    ("kiosk", check_audio), ("sms", check_modem), ("mqtt", check_broker),
]
ALL_CHECKS: list[Check] = [check for _, check in CHECKS_BY_SECTION]


def checks_for(config: Config) -> list[Check]:
    """Hardware checks for the roles this config has."""
    return [check for section, check in CHECKS_BY_SECTION if config.has(section)]
