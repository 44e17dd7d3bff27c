"""Checked TOML files: read a table key by key, record every problem with its key path, and report
them all at once with the line each is on (program files and source profiles alike)."""

import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from zoneinfo import available_timezones

from msgspec import Struct, field

from loyaltyctl.errors import InvalidProgram

MISSING = object()


class Section(Struct):
    """Reads one TOML table, recording a problem per bad or unknown key."""

    raw: dict[str, Any]
    path: str
    problems: list[tuple[str, str]]
    seen: set[str] = field(default_factory=set)

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append((self.key_path(key), message))

    def get(self, key: str, convert: Callable[[Any], Any], default: Any = MISSING) -> Any:
        """The converted value of `key`; its default (or None) when absent or invalid."""
        self.seen.add(key)
        if key not in self.raw:
            if default is MISSING:
                self.problem(key, "is required")
                return None
            return default
        try:
            return convert(self.raw[key])
        except ValueError as err:
            self.problem(key, str(err))
            return None if default is MISSING else default

    def table(self, key: str) -> "Section | None":
        self.seen.add(key)
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(key, "must be a table")
            return None
        return Section(value, self.key_path(key), self.problems)

    def tables(self, key: str) -> list["Section"]:
        """An array of tables (`[[earn.multipliers]]`), each with an indexed path."""
        self.seen.add(key)
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(key, "must be an array of tables")
            return []
        return [Section(item, f"{self.key_path(key)}[{i}]", self.problems) for i, item in enumerate(value)]

    def finish(self) -> None:
        for key in self.raw:
            if key not in self.seen:
                self.problem(key, "unknown key")



# -- value converters: each takes a raw TOML value and returns it or raises ValueError


def as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type_name(value)}")
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def as_boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {type_name(value)}")
    return value


def as_texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"must be an array of strings, not {type_name(value)}")
    return tuple(as_text(item) for item in value)


def as_choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = as_text(value)
        if text not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text

    return convert


def as_timezone(value: Any) -> str:
    text = as_text(value)
    if not _is_time_zone(text):
        raise ValueError(f"{text!r} is not a known time zone (e.g. America/New_York, UTC)")
    return text


def _is_time_zone(name: str) -> bool:
    """A name zoneinfo.available_timezones() lists: looked up in tzdata's list of zones (one small file),
    and only a name not on it (one the system alone has, or a wrong one) by listing them all (40 ms)."""
    try:
        import tzdata

        if name in Path(tzdata.__file__).with_name("zones").read_text().split():
            return True
    except (ImportError, OSError):
        pass
    return name in available_timezones()


def type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", str: "a string", list: "an array", dict: "a table"}
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return names.get(type(value), type(value).__name__)


def locate_key(text: str, key_path: str) -> int | None:
    """The 1-based line where `key_path` (e.g. `earn.multipliers[1].factor`) is written.

    tomllib reports lines only for syntax errors, so validation problems are
    located by scanning table headers and keys. Best effort: a key that is not
    written (a missing one) gives the line of its table's header, if any.
    """
    target = re.sub(r"\[(\d+)\]", r"#\1", key_path).split(".")
    array_counts: dict[str, int] = {}
    table: list[str] = []
    fallback: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"\[\[\s*([\w.-]+)\s*\]\]|\[\s*([\w.-]+)\s*\]", stripped)
        if header:
            if header.group(1):
                parts = header.group(1).split(".")
                index = array_counts[header.group(1)] = array_counts.get(header.group(1), -1) + 1
                table = parts[:-1] + [f"{parts[-1]}#{index}"]
            else:
                table = header.group(2).split(".")
            if target[: len(table)] == table:
                fallback = number
            continue
        key = re.match(r"([\w-]+)\s*=", stripped)
        if key and table + [key.group(1)] == target:
            return number
    return fallback



def parse_checked(text: str, source: str, read: Callable[[dict[str, Any], list[tuple[str, str]]], Any]) -> Any:
    """Parse TOML text and `read` it; InvalidProgram lists every problem found, each with its line."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise InvalidProgram([f"{source}: invalid TOML: {err}"]) from None
    problems: list[tuple[str, str]] = []
    result = read(raw, problems)
    if problems:
        located = sorted(
            ((locate_key(text, key_path), key_path, message) for key_path, message in problems),
            key=lambda problem: problem[0] or 0,
        )
        raise InvalidProgram(
            [f"{source}:{line}: {key_path}: {message}" if line else f"{source}: {key_path}: {message}"
             for line, key_path, message in located]
        )
    return result
