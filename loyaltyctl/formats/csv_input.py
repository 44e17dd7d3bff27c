"""Streaming CSV input with header matching, and the reject file for bad rows."""

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from msgspec import Struct

from loyaltyctl.errors import BadInput
from loyaltyctl.private_files import temp_file


class CsvRow(Struct, frozen=True):
    line: int  # 1-based line where the row starts
    raw: tuple[str, ...]
    fields: dict[str, str]  # known field -> trimmed cell
    problem: str | None = None  # set when the row's shape is wrong


def _normalise(name: str) -> str:
    return name.strip().lower()


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """`--map CSVCOL=FIELD` options -> {csv column (normalised): field}."""
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise BadInput(f"--map {pair!r}: expected CSVCOL=FIELD")
        mapping[_normalise(column)] = _normalise(field)
    return mapping


def read_csv(
    path: Path,
    fields: Iterable[str],
    required: tuple[str, ...],
    mapping: Mapping[str, str] | None = None,
    delimiter: str = ",",
    on_bytes: Callable[[int], None] | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    mappable: Sequence[str] | None = None,
) -> tuple[tuple[str, ...], Iterator[CsvRow]]:
    """The file's header and a lazy iterator of its rows (memory flat in file size).

    Headers match field names case-insensitively after trimming or, when a
    source gives `columns` (header -> the fields it fills), only through
    those; `mapping` (the user's `--map`, column -> field) comes first, and
    naming a field that does not exist or a column the file lacks is bad
    usage; `labels` says how to name a missing required field (its header and
    where a profile names it); `mappable`: the fields `--map` may name
    (default all of `fields`). Other columns are ignored. `on_bytes` hears how many bytes each
    line had (for a progress bar). Raises BadInput (exit 2) for a file that
    cannot be read, is not UTF-8, or lacks a required column.
    """
    fields = tuple(fields)
    mapping = mapping or {}
    mappable = tuple(mappable or fields)
    for column, field in mapping.items():
        if field not in mappable:
            raise BadInput(f"--map {column}={field}: there is no field {field!r} (fields: {', '.join(mappable)})")
    try:
        handle = path.open("rb")
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None
    reader = csv.reader(_utf8_lines(path, handle, on_bytes), delimiter=delimiter, strict=True)
    try:
        header = tuple(next(reader))
    except StopIteration:
        handle.close()
        raise BadInput(f"{path}: empty file, expected a header row") from None
    except csv.Error as err:
        handle.close()
        raise BadInput(f"{path}:1: malformed CSV: {err}") from None
    except BadInput:
        handle.close()
        raise
    names = {_normalise(name) for name in header}
    lacking = [column for column in mapping if column not in names]
    if lacking:
        handle.close()
        raise BadInput(f"{path}:1: --map names column {lacking[0]!r}, which the file does not have "
                       f"(found: {', '.join(header) or 'nothing'})")
    remapped = set(mapping.values())
    indexes: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _normalise(name)
        if key in mapping:
            targets: Sequence[str] = (mapping[key],)
        elif columns is not None:
            targets = [f for f in columns.get(key, ()) if f.split("+")[0] not in remapped]
        else:
            targets = (key,) if key not in remapped else ()
        for field in targets:
            if field in fields:
                if field in indexes:
                    handle.close()
                    raise BadInput(f"{path}:1: two columns map to {field!r}")
                indexes[field] = index
    missing = [(labels or {}).get(field, field) for field in required if field not in indexes]
    if missing:
        handle.close()
        raise BadInput(
            f"{path}:1: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {', '.join(header) or 'nothing'})"
        )
    return header, _rows(path, handle, reader, header, indexes)


def _rows(path: Path, handle, reader, header: tuple[str, ...], columns: dict[str, int]) -> Iterator[CsvRow]:
    with handle:
        line = reader.line_num + 1
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                raise BadInput(f"{path}:{line}: malformed CSV: {err}") from None
            start, line = line, reader.line_num + 1
            if not raw or raw == [""]:
                continue
            problem = None
            if len(raw) != len(header):
                problem = f"has {len(raw)} fields, the header has {len(header)}"
            fields = {field: raw[index].strip() if index < len(raw) else "" for field, index in columns.items()}
            yield CsvRow(start, tuple(raw), fields, problem)


def _utf8_lines(path: Path, handle, on_bytes: Callable[[int], None] | None = None) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported on its own line.

    Splitting bytes on newlines is safe: no UTF-8 sequence contains 0x0A.
    """
    for number, data in enumerate(handle, start=1):
        if on_bytes:
            on_bytes(len(data))
        try:
            yield data.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise BadInput(
                f"{path}:{number}: not UTF-8 text; save the file as UTF-8 (with or without BOM) and try again"
            ) from None


def reject_header(header: tuple[str, ...]) -> tuple[str, ...]:
    """`line`, `reason`, then the input's columns; ours become `reject_line`/`reject_reason`
    when the input has columns of those names, so every column can be read by name."""
    taken = {_normalise(name) for name in header}
    return (*(f"reject_{name}" if name in taken else name for name in ("line", "reason")), *header)


def default_reject_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


class RejectWriter:
    """Bad rows streamed to a temporary file, moved into place only if the run keeps them.

    It also counts them and keeps the first few for the terminal.
    """

    SHOWN = 5

    def __init__(self, target: Path, header: tuple[str, ...]):
        if target.is_dir():
            raise BadInput(f"{target}: is a folder; give the reject file a file name")
        self.target = target
        self.count = 0
        self.first: list[tuple[int, str]] = []
        try:
            handle, self.temp = temp_file(target.parent, ".rejects-", ".csv")
        except OSError as error:
            raise BadInput(f"{target}: cannot write the reject file there: {error.strerror}") from None
        self.handle = os.fdopen(handle, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(reject_header(header))

    def add(self, line: int, reason: str, raw: tuple[str, ...]) -> None:
        self.count += 1
        if len(self.first) < self.SHOWN:
            self.first.append((line, reason))
        self.writer.writerow((line, reason, *raw))

    def finish(self, keep: bool) -> Path | None:
        """Move the file into place if asked to and there were bad rows; otherwise remove it."""
        if keep and self.count:
            self.handle.close()
            os.replace(self.temp, self.target)
            return self.target
        self.discard()
        return None

    def discard(self) -> None:
        self.handle.close()
        os.unlink(self.temp)
