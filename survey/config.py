"""The device configuration: one TOML file, sections per role.

`load_config` checks the whole file against the one schema
(survey/config_schema.py): unknown sections and keys, types and limits are
refused with the file and line. Every part then reads its own sections through
`Section`, whose getters take defaults and limits from the schema.
"""

from __future__ import annotations

import builtins
import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from survey.config_schema import REQUIRED, SCHEMA, Key, Table, table_at
from survey.errors import ConfigError
from survey.toml_lines import KeyPath, key_lines, line_of

T = TypeVar("T")
_SCHEMA: Any = object()  # a getter's default: take it from the schema

_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"), "path": ((str,), "a file path (a string)"),
    "int": ((int,), "an integer"), "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"), "list": ((list,), "a list"),
    "str_list": ((list,), "a list of strings"), "table": ((dict,), "a table"),
    "pin": ((str, int), "a pin name like \"GPIO17\""), "any": ((object,), "a value"),
}


def unknown(name: str, known: list[str], what: str = "key") -> str:
    """`unknown key (did you mean X?)`, or the known names when none is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} (did you mean {close[0]}?)"
    return f"unknown {what} (known: {', '.join(sorted(known)) or 'none'})"


def value_problem(spec: Key, value: Any) -> str | None:
    """Why `value` cannot be the value of `spec`, or None."""
    kinds, what = _KINDS[spec.kind]
    right_type = isinstance(value, kinds)  # a separate flag keeps `value` typed Any
    if (isinstance(value, bool) and spec.kind not in ("bool", "any")) or not right_type:
        return f"must be {what}, not {value!r}"
    if spec.kind in ("str", "path") and not value.strip():
        return "must not be empty"
    if spec.kind == "str_list":
        for item in value:
            if not isinstance(item, str) or not item.strip():
                return f"must be a list of strings, found {item!r}"
    if spec.max_len is not None and len(value) > spec.max_len:
        return f"is {len(value)} characters; at most {spec.max_len}"
    if spec.kind in ("int", "float"):
        if spec.min is not None and value < spec.min:
            return f"must be at least {spec.min:g}, not {value}"
        if spec.max is not None and value > spec.max:
            return f"must be at most {spec.max:g}, not {value}"
    problem: str | None = spec.check(value) if spec.check is not None else None
    return problem


def validate(path: Path, data: dict[str, Any], lines: dict[KeyPath, int]) -> None:
    """Check a parsed file against the schema; the first problem is a ConfigError."""
    for name, value in data.items():
        table = SCHEMA.get(name)
        if table is None:
            raise ConfigError(path, unknown(name, list(SCHEMA), "section"), name,
                              line=line_of(lines, (name,)))
        if not isinstance(value, dict):
            raise ConfigError(path, "must be a [section]", name, line=line_of(lines, (name,)))
        _validate_table(path, (name,), table, value, lines)


def _validate_table(path: Path, where: tuple[str, ...], table: Table, data: dict[str, Any],
                    lines: dict[KeyPath, int]) -> None:
    def error(key: str, message: str) -> ConfigError:
        return ConfigError(path, message, ".".join((*where, key)),
                           line=line_of(lines, (*where, key)))

    if table.open:
        return
    for key, value in data.items():
        spec = table.keys.get(key)
        if spec is None:
            raise error(key, unknown(key, list(table.keys)))
        if isinstance(spec, Table):
            if not isinstance(value, dict):
                raise error(key, f"must be a table, not {value!r}")
            _validate_table(path, (*where, key), spec, value, lines)
            continue
        problem = value_problem(spec, value)
        if problem:
            raise error(key, problem)
    for key, spec in table.keys.items():
        if isinstance(spec, Key) and spec.required and key not in data:
            raise error(key, "is missing")


class Section:
    """One `[section]` of a config file, with typed getters that name file, line and key.

    A getter without a default takes the schema's; limits are the schema's plus
    any given to the getter.
    """

    def __init__(self, path: Path, name: str, data: dict[str, Any],
                 lines: dict[KeyPath, int] | None = None) -> None:
        self.path = path
        self.name = name
        self.data = data
        self.lines = lines or {}
        self.schema = table_at(tuple(name.split("."))) if name else None

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError about `key` of this section, with its line when known."""
        where: KeyPath = (*self.name.split("."), *key.split(".")) if self.name else (key,)
        return ConfigError(self.path, message, self._key(key), line=line_of(self.lines, where))

    def table(self, key: str) -> Section:
        """The table `key` inside this section (empty when absent)."""
        value = self.get_table(key, {})
        return Section(self.path, self._key(key), value, self.lines)

    def _spec(self, key: str, kind: str) -> Key:
        if self.schema is None or self.schema.open:
            return Key(key, kind, REQUIRED)  # no schema here: only what the getter says
        spec = self.schema.keys.get(key)
        if isinstance(spec, Key):
            return spec
        if isinstance(spec, Table):
            return Key(key, "table", {})
        # A key the schema does not list would be refused in every file: list it there.
        raise LookupError(f"[{self.name}] {key} is not in survey/config_schema.py")

    def _get(self, key: str, kind: str, default: Any, min: float | None = None,
             max: float | None = None) -> Any:
        spec = self._spec(key, kind)
        if key not in self.data:
            if default is _SCHEMA:
                default = spec.default
            if default is REQUIRED:
                raise self.error(key, "is missing")
            return default
        value = self.data[key]
        problem = value_problem(Key(key, kind, max_len=spec.max_len, check=spec.check), value)
        if problem is None and kind in ("int", "float"):
            lo = [v for v in (spec.min, min) if v is not None]
            hi = [v for v in (spec.max, max) if v is not None]
            problem = value_problem(Key(key, kind, min=builtins.max(lo) if lo else None,
                                        max=builtins.min(hi) if hi else None), value)
        if problem:
            raise self.error(key, problem)
        return value

    def get_str(self, key: str, default: Any = _SCHEMA) -> Any:
        """A string value; missing without a default is an error."""
        return self._get(key, "str", default)

    def get_int(self, key: str, default: Any = _SCHEMA, *, min: int | None = None,
                max: int | None = None) -> Any:
        """An integer value within the schema's limits (and [min, max] when given)."""
        return self._get(key, "int", default, min, max)

    def get_float(self, key: str, default: Any = _SCHEMA, *, min: float | None = None,
                  max: float | None = None) -> Any:
        """A number (int or float) as a float, within the schema's limits and [min, max]."""
        value = self._get(key, "float", default, min, max)
        return float(value) if isinstance(value, int) else value

    def get_bool(self, key: str, default: Any = _SCHEMA) -> Any:
        """A boolean (true/false) value."""
        return self._get(key, "bool", default)

    def get_list(self, key: str, default: Any = _SCHEMA) -> Any:
        """A list value."""
        return self._get(key, "list", default)

    def get_str_list(self, key: str, default: Any = _SCHEMA) -> Any:
        """A list of non-empty strings."""
        return self._get(key, "str_list", default)

    def get_table(self, key: str, default: Any = _SCHEMA) -> Any:
        """A nested table (dict)."""
        return self._get(key, "table", default)

    def get_path(self, key: str, default: Any = _SCHEMA) -> Any:
        """A file path, relative paths taken from the config file's folder."""
        value = self._get(key, "path", default)
        if isinstance(value, str):
            p = Path(value).expanduser()
            return p if p.is_absolute() else (self.path.parent / p)
        return value

    def check_keys(self, allowed: set[str] | frozenset[str] | None = None) -> None:
        """Reject keys this section does not know (default: the schema's keys)."""
        if allowed is None:
            allowed = frozenset(self.schema.keys if self.schema is not None else ())
        for key in self.data:
            if key not in allowed:
                raise self.error(key, unknown(key, sorted(allowed)))


@dataclass(frozen=True)
class DeviceIdentity:
    """Who this device is: written into every response it makes."""

    id: str
    site: str
    area: str
    unit: str


class Config:
    """A parsed device (or central) configuration file."""

    def __init__(self, path: Path, data: dict[str, Any],
                 lines: dict[KeyPath, int] | None = None) -> None:
        self.path = path
        self.data = data
        self.lines = lines or {}

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
            raise ConfigError(self.path, "must be a [section]", name,
                              line=line_of(self.lines, (name,)))
        return Section(self.path, name, value, self.lines)

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
    return parse_config(p, raw)


def parse_config(path: Path, raw: bytes) -> Config:
    """Parse and check config text (as read from `path`) against the schema."""
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(path, "config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    lines = key_lines(text)
    validate(path, data, lines)
    return Config(path, data, lines)
