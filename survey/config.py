"""The device configuration: one TOML file, sections per role.

Every part reads only its own sections through `Section`, whose getters check
types and name the file and the key in every error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from survey.errors import ConfigError

T = TypeVar("T")
_MISSING: Any = object()


class Section:
    """One `[section]` of a config file, with typed getters that name file and key."""

    def __init__(self, path: Path, name: str, data: dict[str, Any]) -> None:
        self.path = path
        self.name = name
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError about `key` of this section."""
        return ConfigError(self.path, message, self._key(key))

    def _get(self, key: str, kind: type[T] | tuple[type, ...], default: Any, what: str) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "is missing")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is not bool and kind != (bool,):
            raise self.error(key, f"must be {what}, not {value!r}")
        if not isinstance(value, kind):
            raise self.error(key, f"must be {what}, not {value!r}")
        return value

    def get_str(self, key: str, default: Any = _MISSING) -> Any:
        """A string value; missing without a default is an error."""
        value = self._get(key, str, default, "a string")
        if key in self.data and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def get_int(self, key: str, default: Any = _MISSING, *, min: int | None = None,
            max: int | None = None) -> Any:
        """An integer value, optionally within [min, max]."""
        value = self._get(key, int, default, "an integer")
        if isinstance(value, int):
            if min is not None and value < min:
                raise self.error(key, f"must be at least {min}, not {value}")
            if max is not None and value > max:
                raise self.error(key, f"must be at most {max}, not {value}")
        return value

    def get_float(self, key: str, default: Any = _MISSING, *, min: float | None = None,
              max: float | None = None) -> Any:
        """A number (int or float), optionally within [min, max]."""
        value = self._get(key, (int, float), default, "a number")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
            if min is not None and value < min:
                raise self.error(key, f"must be at least {min}, not {value}")
            if max is not None and value > max:
                raise self.error(key, f"must be at most {max}, not {value}")
        return value

    def get_bool(self, key: str, default: Any = _MISSING) -> Any:
        """A boolean (true/false) value."""
        return self._get(key, bool, default, "true or false")

    def get_list(self, key: str, default: Any = _MISSING) -> Any:
        """A list value."""
        return self._get(key, list, default, "a list")

    def get_str_list(self, key: str, default: Any = _MISSING) -> Any:
        """A list of non-empty strings."""
        value = self.get_list(key, default)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not item.strip():
                    raise self.error(key, f"must be a list of strings, found {item!r}")
        return value

    def get_table(self, key: str, default: Any = _MISSING) -> Any:
        """A nested table (dict)."""
        return self._get(key, dict, default, "a table")

    def get_path(self, key: str, default: Any = _MISSING) -> Any:
        """A file path, relative paths taken from the config file's folder."""
        value = self.get_str(key, default)
        if isinstance(value, str):
            p = Path(value).expanduser()
            return p if p.is_absolute() else (self.path.parent / p)
        return value

    def check_keys(self, allowed: set[str] | frozenset[str]) -> None:
        """Reject keys this section does not know (a typo must not pass silently)."""
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"is not a known key (known: {', '.join(sorted(allowed))})")


@dataclass(frozen=True)
class DeviceIdentity:
    """Who this device is: written into every response it makes."""

    id: str
    site: str
    area: str
    unit: str


class Config:
    """A parsed device (or central) configuration file."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def has(self, name: str) -> bool:
        return isinstance(self.data.get(name), dict)

    def section(self, name: str, *, required: bool = False) -> Section:
        """The section `[name]`; an empty one when absent unless required."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(self.path, "section is missing", name)
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(self.path, "must be a [section]", name)
        return Section(self.path, name, value)

    def identity(self) -> DeviceIdentity:
        """The `[device]` identity: id, site, area, unit."""
        dev = self.section("device", required=True)
        return DeviceIdentity(
            id=dev.get_str("id"), site=dev.get_str("site"),
            area=dev.get_str("area"), unit=dev.get_str("unit"),
        )

    def store_path(self) -> Path:
        """Path of the local SQLite store (`device.store`)."""
        path: Path = self.section("device", required=True).get_path("store")
        return path

    def survey_path(self) -> Path:
        """Path of the survey definition (`survey.file`)."""
        path: Path = self.section("survey", required=True).get_path("file")
        return path


def load_config(path: str | Path) -> Config:
    """Read and parse a TOML config file; every failure names the file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(p, "config file not found (give one with --config FILE)") from None
    except OSError as exc:
        raise ConfigError(p, f"cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(p, "config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, f"not valid TOML: {exc}") from None
    return Config(p, data)
