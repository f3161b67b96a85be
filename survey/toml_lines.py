"""Where each key of a TOML document is: line numbers that tomllib does not give.

A small scanner over text that tomllib has already accepted. It follows table
headers, arrays of tables, dotted keys, inline tables and arrays, and maps each
key path to the line where it first appears. Paths are tuples: table keys are
strings, array positions are 1-based ints (the third `[[questions]]` is
("questions", 3)). It never raises: on anything unexpected it keeps what it found.
"""

from __future__ import annotations

import bisect
import re
import tomllib

KeyPath = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BARE_SEGMENT = re.compile(r"[A-Za-z0-9_-]+\Z")


def format_key(path: KeyPath) -> str:
    """A key path as people read it: questions[3].text.sv (array positions 1-based)."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            text = seg if _BARE_SEGMENT.match(seg) else '"' + seg.replace('"', '\\"') + '"'
            out += f".{text}" if out else text
    return out


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """Line of `path`, else of its nearest enclosing key that is in the file, else None."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


class _Stop(Exception):
    """The text is not what the scanner expects; keep what was found."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.t = text
        self.n = len(text)
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}  # array-of-tables path -> tables so far

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def record(self, path: KeyPath, pos: int) -> None:
        self.lines.setdefault(path, self.line(pos))

    def char(self, pos: int) -> str:
        return self.t[pos] if pos < self.n else ""

    def ws(self, pos: int) -> int:
        while self.char(pos) in (" ", "\t") and pos < self.n:
            pos += 1
        return pos

    def ws_nl(self, pos: int) -> int:
        """Skip blanks, newlines and comments."""
        while pos < self.n:
            c = self.t[pos]
            if c in " \t\r\n":
                pos += 1
            elif c == "#":
                end = self.t.find("\n", pos)
                pos = self.n if end < 0 else end
            else:
                break
        return pos

    def string_end(self, pos: int) -> int:
        """Position after the string starting at `pos`."""
        t = self.t
        quote = t[pos]
        if t.startswith(quote * 3, pos):
            i = pos + 3
            while i < self.n:
                if quote == '"' and t[i] == "\\":
                    i += 2
                elif t.startswith(quote * 3, i):
                    i += 3
                    # A multi-line string may end with up to two quotes of its own.
                    extra = 0
                    while extra < 2 and self.char(i) == quote:
                        i += 1
                        extra += 1
                    return i
                else:
                    i += 1
            raise _Stop
        i = pos + 1
        while i < self.n and t[i] != "\n":
            if quote == '"' and t[i] == "\\":
                i += 2
            elif t[i] == quote:
                return i + 1
            else:
                i += 1
        raise _Stop

    def segment(self, pos: int) -> tuple[str, int]:
        c = self.char(pos)
        if c in ('"', "'"):
            end = self.string_end(pos)
            # Let tomllib decode the escapes of a quoted key.
            decoded = tomllib.loads(self.t[pos:end] + " = 0")
            return next(iter(decoded)), end
        match = _BARE.match(self.t, pos)
        if not match:
            raise _Stop
        return match.group(), match.end()

    def key(self, pos: int) -> tuple[KeyPath, int]:
        segs: list[str | int] = []
        while True:
            seg, pos = self.segment(self.ws(pos))
            segs.append(seg)
            pos = self.ws(pos)
            if self.char(pos) != ".":
                return tuple(segs), pos
            pos += 1

    def value(self, pos: int, path: KeyPath) -> int:
        """Position after the value at `pos`, recording the keys and items inside it."""
        c = self.char(pos)
        if c in ('"', "'"):
            return self.string_end(pos)
        if c == "[":
            return self.array(pos + 1, path)
        if c == "{":
            return self.inline_table(pos + 1, path)
        start = pos
        while pos < self.n and self.t[pos] not in ",]}#\n":
            pos += 1
        if pos == start:
            raise _Stop
        return pos

    def array(self, pos: int, path: KeyPath) -> int:
        index = 0
        while True:
            pos = self.ws_nl(pos)
            if self.char(pos) == "]":
                return pos + 1
            index += 1
            self.record((*path, index), pos)
            pos = self.ws_nl(self.value(pos, (*path, index)))
            if self.char(pos) == ",":
                pos += 1
            elif self.char(pos) != "]":
                raise _Stop

    def inline_table(self, pos: int, path: KeyPath) -> int:
        while True:
            pos = self.ws_nl(pos)
            if self.char(pos) == "}":
                return pos + 1
            pos = self.key_value(pos, path)
            pos = self.ws_nl(pos)
            if self.char(pos) == ",":
                pos += 1
            elif self.char(pos) != "}":
                raise _Stop

    def key_value(self, pos: int, table: KeyPath) -> int:
        keys, after = self.key(pos)
        for end in range(1, len(keys) + 1):
            self.record((*table, *keys[:end]), pos)
        after = self.ws(after)
        if self.char(after) != "=":
            raise _Stop
        return self.value(self.ws(after + 1), (*table, *keys))

    def header(self, pos: int) -> tuple[KeyPath, int]:
        is_array = self.t.startswith("[[", pos)
        keys, pos = self.key(pos + (2 if is_array else 1))
        close = "]]" if is_array else "]"
        if not self.t.startswith(close, pos):
            raise _Stop
        path: KeyPath = ()
        for k, seg in enumerate(keys):
            path = (*path, seg)
            if is_array and k == len(keys) - 1:
                self.arrays[path] = self.arrays.get(path, 0) + 1
                self.record(path, pos)
                path = (*path, self.arrays[path])
            elif path in self.arrays:
                path = (*path, self.arrays[path])
        self.record(path, pos)
        return path, pos + len(close)

    def scan(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        pos = 0
        try:
            while True:
                pos = self.ws_nl(pos)
                if pos >= self.n:
                    break
                if self.t[pos] == "[":
                    table, pos = self.header(pos)
                else:
                    pos = self.key_value(pos, table)
        except (_Stop, IndexError, ValueError):
            pass
        return self.lines


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map each key path of the TOML `text` to the (1-based) line where it first appears."""
    return _Scanner(text).scan()
