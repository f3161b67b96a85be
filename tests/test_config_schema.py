"""One config schema: unknown keys and bad values are refused at load, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from palaute.cli import main
from survey.config import load_config
from survey.config_schema import SCHEMA, Key, Table
from survey.errors import ConfigError
from survey.limits import MAX_ID_CHARS, MAX_NAME_CHARS
from sync.agent import SyncSettings, load_sync_settings

DEVICE = """\
[device]
id = "tays-lobby-3"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _first_key(table: Table) -> tuple[tuple[str, ...], str]:
    """A (table path, key name) inside `table`, preferring a plain key."""
    for name, spec in table.keys.items():
        if isinstance(spec, Key):
            return (), name
    name, sub = next(iter(table.keys.items()))
    assert isinstance(sub, Table)
    inner, key = _first_key(sub)
    return (name, *inner), key


@pytest.mark.parametrize("section", sorted(n for n, t in SCHEMA.items() if not t.open))
def test_every_section_refuses_a_misspelt_key_with_its_line(tmp_path: Path,
                                                            section: str) -> None:
    _, key = _first_key(SCHEMA[section])
    typo = key[:-1] if len(key) > 3 else key + "x"
    head = DEVICE if section != "device" else ""
    path = _write(tmp_path, f"{head}\n[{section}]\n{typo} = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    line = head.count("\n") + 3
    assert str(err.value) == (f"{path}:{line}: [{section}] {typo}: unknown key "
                              f"(did you mean {key}?)")


def test_a_misspelt_sms_key_no_longer_runs_with_the_default(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    path = _write(tmp_path, DEVICE + '\n[sms]\nmodems = ["loop://"]\nrate_per_minut = 1\n')
    assert main(["sms", "status", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"palaute: error: {path}:10: [sms] rate_per_minut: unknown key "
                   "(did you mean rate_per_minute?)\n")
    assert not (tmp_path / "store.sqlite").exists()


def test_a_key_nothing_resembles_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, DEVICE + "\n[survey]\nfile = 'x.toml'\ncolour = 'red'\n")
    with pytest.raises(ConfigError, match=r":10: \[survey\] colour: unknown key \(known: file\)"):
        load_config(path)


def test_nested_tables_and_unknown_sections_are_checked(tmp_path: Path) -> None:
    path = _write(tmp_path, DEVICE + '\n[sms.intake]\nurl = "https://x"\nintervall = 5\n')
    with pytest.raises(ConfigError, match=r":10: \[sms.intake\] intervall: unknown key "
                                          r"\(did you mean interval\?\)"):
        load_config(path)
    path = _write(tmp_path, DEVICE + "\n[kiosk]\nbuttons = { pins = [], vals = [] }\n")
    with pytest.raises(ConfigError, match=r":9: \[kiosk.buttons\] vals: unknown key"):
        load_config(path)
    path = _write(tmp_path, DEVICE + "\n[kiosks]\nscale = 'nps'\n")
    with pytest.raises(ConfigError, match=r":8: \[kiosks\] unknown section "
                                          r"\(did you mean kiosk\?\)"):
        load_config(path)


@pytest.mark.parametrize(("text", "message"), [
    ('unit = "' + "u" * 135 + '"', f"[device] unit: is 135 characters; at most {MAX_NAME_CHARS}"),
    ('site = "' + "s" * (MAX_ID_CHARS + 1) + '"', f"at most {MAX_ID_CHARS}"),
    ('id = "lobby 3"', "[device] id: 'lobby 3' is not a valid id"),
    ("area = 7", "[device] area: must be a string, not 7"),
])
def test_identity_is_held_to_the_centrals_limits(tmp_path: Path, text: str,
                                                 message: str) -> None:
    key = text.split(" ")[0]
    lines = [line for line in DEVICE.splitlines() if not line.startswith(f"{key} ")]
    path = _write(tmp_path, "\n".join([*lines, text]) + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:6: " in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(("section", "text", "message"), [
    ("sms", 'modems = ["loop://"]\nrate_per_minute = 700', "must be at most 600, not 700"),
    ("sync", "batch_max_count = 5000", "must be at most 1000, not 5000"),
    ("mqtt", 'url = "mqtts://x"\nkeepalive = true', "must be an integer, not True"),
    ("kiosk", "idle_timeout = 1", "must be at least 5, not 1"),
    ("sms", "window_start = 8", "[sms] modems: is missing"),
])
def test_values_are_checked_at_load(tmp_path: Path, section: str, text: str,
                                    message: str) -> None:
    path = _write(tmp_path, f"{DEVICE}\n[{section}]\n{text}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_schema_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, DEVICE + "\n[sync]\n")
    assert load_sync_settings(load_config(path)) == SyncSettings()


def test_the_readmes_central_toml_passes_the_schema(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    example = readme.split("A complete `central.toml`", 1)[1].split("```toml\n", 1)[1]
    path = _write(tmp_path, example.split("```", 1)[0])
    config = load_config(path)
    assert {"central", "mqtt", "enrol"} <= set(config.data)


def test_report_keys_are_checked_and_targets_are_free(tmp_path: Path) -> None:
    path = _write(tmp_path, '[central]\ndb = "sqlite:///c.sqlite"\n[report]\nlang = "sv"\n'
                            '[report.names]\nensiapu = "Ensiapu"\n[targets]\nnps = 70\n'
                            's1_top = 74\n[targets.unit.ensiapu]\nnps = 50\n')
    assert load_config(path).section("targets").data["s1_top"] == 74
    path = _write(tmp_path, '[report]\nlanguage = "sv"\n')
    with pytest.raises(ConfigError, match=r":2: \[report\] language: unknown key"):
        load_config(path)


def test_reading_a_key_the_schema_does_not_list_is_a_programming_error(
        tmp_path: Path) -> None:
    # A part that reads a new key must list it in the schema, or every file that sets it
    # would be refused as having an unknown key.
    config = load_config(_write(tmp_path, DEVICE + "\n[sms]\nmodems = ['loop://']\n"))
    with pytest.raises(LookupError, match=r"\[sms\] sim_busy_wait is not in survey/"):
        config.section("sms").get_float("sim_busy_wait", 5.0)
