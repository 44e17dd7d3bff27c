"""Program definitions as every command uses them: each stored version read from its TOML once, the version
in force on a day, applying a new version, and a program's state as a posting needs it."""

import time
from datetime import date
from functools import lru_cache

from msgspec import Struct
from msgspec.structs import replace

from loyaltyctl.core.periods import ClosedThrough
from loyaltyctl.core.versions import VersionTable, in_force
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.compiled_program import COMPILED_FORMAT, compile_definition, read_compiled
from loyaltyctl.model import Program
from loyaltyctl.storage import programs as store
from loyaltyctl.storage.db import Store
from loyaltyctl.storage.periods import fetch_closed_through
from loyaltyctl.model import ProgramRef


class ProgramVersion(Struct, frozen=True):
    program_id: int
    version: int
    effective_from: date
    applied_at: int
    program: Program


class ApplyResult(Struct, frozen=True):
    code: str
    version: int
    status: str  # created | updated | unchanged
    effective_from: date


@lru_cache(maxsize=256)
def _parse_stored(definition: str) -> Program:
    # The TOML parser only where a version has no compiled form of this format (see formats.compiled_program).
    from loyaltyctl.formats.program_toml import parse_program

    return parse_program(definition, "<stored program>")


def _version(row: store.VersionRow) -> ProgramVersion:
    return ProgramVersion(row.program_id, row.version, date.fromisoformat(row.effective_from), row.applied_at,
                          read_compiled(row.compiled, row.compiled_by) or _parse_stored(row.definition))


def compiled(row: store.VersionRow) -> store.VersionRow:
    """The row with its definition compiled (see formats.compiled_program)."""
    return replace(row, compiled=compile_definition(row.definition), compiled_by=COMPILED_FORMAT)


def compile_stale_versions(db: Store) -> None:
    """Compile each version that has no compiled form of this format (after migrating: a version stored by
    an older release, or every version when `COMPILED_FORMAT` moved on). Call inside a write."""
    store.update_compiled(db, [compiled(row) for row in store.fetch_all_version_rows(db)
                               if row.compiled_by != COMPILED_FORMAT])


def compiled_problems(db: Store) -> list[str]:
    """Each version whose compiled form says other than its TOML (what `db verify` reports)."""
    return [f"program {row.program_id} version {row.version}: its compiled form differs from its definition"
            for row in store.fetch_all_version_rows(db) if row.compiled_by == COMPILED_FORMAT
            and read_compiled(row.compiled, row.compiled_by) != _parse_stored(row.definition)]


def fetch_versions(db: Store, code: str) -> list[ProgramVersion]:
    """Every version of a program, oldest first."""
    return [_version(row) for row in store.fetch_version_rows(db, code)]


def program_versions(db: Store, code: str) -> VersionTable:
    return VersionTable([(v.effective_from, v.version, v.program) for v in fetch_versions(db, code)])


def version_in_force(db: Store, code: str, on: date) -> Program:
    """The version in force on a date (see `core.versions.in_force`)."""
    return in_force(sorted((v.effective_from, v.version, v.program) for v in fetch_versions(db, code)), on)


def latest_version(db: Store, code: str) -> ProgramVersion:
    """The most recently applied version of a program."""
    return fetch_versions(db, code)[-1]


def program_summaries(db: Store) -> list[dict]:
    """One row per program: code, latest name, currency, versions, members."""
    return [{"code": code, "name": _parse_stored(definition).name, "currency": currency, "timezone": timezone,
             "versions": versions, "members": members}
            for code, currency, timezone, versions, definition, members in store.fetch_program_summaries(db)]


def apply_program(db: Store, program: Program, today: date) -> ApplyResult:
    """Store a new version of `program` unless the latest one already says the same.

    Call inside a write transaction that holds the program. A program's
    currency and time zone are fixed once set: stored money and dates depend
    on them; a version cannot take effect inside a closed period.
    """
    from loyaltyctl.formats.program_toml import definition_digest, dump_program

    ref = store.find_program(db, program.code)
    now = int(time.time())
    effective_from = program.effective_from or today
    definition = dump_program(replace(program, effective_from=effective_from))
    if ref is None:
        program_id, version, status = store.insert_program(db, program.code, program.currency, program.timezone,
                                                           now), 1, "created"
    else:
        for key, old, new in (("currency", ref.currency, program.currency), ("timezone", ref.timezone,
                                                                               program.timezone)):
            if old != new:
                raise BadInput(f"program {program.code!r}: program.{key} cannot change from {old!r} to {new!r}")
        latest = store.fetch_version_rows(db, program.code)[-1]
        latest_from = date.fromisoformat(latest.effective_from)
        if latest.digest == definition_digest(program) and program.effective_from in (None, latest_from):
            return ApplyResult(program.code, latest.version, "unchanged", latest_from)
        closed = fetch_closed_through(db, ref.id)
        if closed and effective_from <= closed.through:
            raise Refused(f"program {program.code!r}: effective_from {effective_from} falls in a closed period "
                          f"(closed through {closed.through}); a new version can take effect the day after")
        program_id, version, status = ref.id, latest.version + 1, "updated"
    store.insert_version(db, compiled(store.VersionRow(program_id, version, effective_from.isoformat(), now,
                                                       definition_digest(program), definition)))
    return ApplyResult(program.code, version, status, effective_from)


class ProgramState(Struct, frozen=True):
    """A program as a posting needs it, read in one query and kept by a connection between postings: a
    posting checks the program's `epoch` (which every program-wide write moves on) and reads it again
    when it moved."""

    ref: ProgramRef
    versions: VersionTable
    closed: ClosedThrough | None
    epoch: int


def load_program(db: Store, code: str) -> ProgramState:
    found = store.fetch_program_state(db, code)
    if found is None:
        raise Refused(f"unknown program {code!r} (see `loyaltyctl program list`)")
    ref, rows, close, epoch = found
    closed = ClosedThrough(close[0], date.fromisoformat(close[1]), close[2], close[3]) if close else None
    versions = [_version(row) for row in rows]
    return ProgramState(ref, VersionTable([(v.effective_from, v.version, v.program) for v in versions]), closed,
                        epoch)
