"""Programs and their versions."""

import time
from datetime import date
from functools import lru_cache

from msgspec import Struct
from msgspec.structs import replace

from loyaltyctl.storage.db import Store

from loyaltyctl.core.versions import in_force
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.program_toml import definition_digest, dump_program, parse_program
from loyaltyctl.model import Program
from loyaltyctl.storage.periods import fetch_closed_through


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
    return parse_program(definition, "<stored program>")


def _version_from_row(row: tuple) -> ProgramVersion:
    program_id, version, effective_from, applied_at, definition = row
    return ProgramVersion(program_id, version, date.fromisoformat(effective_from), applied_at, _parse_stored(definition))


_VERSION_COLUMNS = "program_id, version, effective_from, applied_at, definition"


class ProgramRef(Struct, frozen=True):
    """What never changes between a program's versions."""

    id: int
    code: str
    currency: str
    timezone: str


def fetch_program_ref(db: Store, code: str) -> ProgramRef:
    return db.remember(("program", code), lambda: _program_ref(db, code))


def _program_ref(db: Store, code: str) -> ProgramRef:
    row = db.execute("SELECT id, code, currency, timezone FROM programs WHERE code = ?", [code]).fetchone()
    if row is None:
        raise Refused(f"unknown program {code!r} (see `loyaltyctl program list`)")
    return ProgramRef(*row)


def fetch_program_id(db: Store, code: str) -> int:
    return fetch_program_ref(db, code).id


def count_members(db: Store, code: str) -> int:
    return db.execute("SELECT count(*) FROM members WHERE program_id = ?", [fetch_program_id(db, code)]).fetchone()[0]


def fetch_latest_version(db: Store, code: str) -> ProgramVersion:
    """The most recently applied version of a program."""
    program_id = fetch_program_id(db, code)
    row = db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM program_versions WHERE program_id = ? ORDER BY version DESC LIMIT 1",
        [program_id],
    ).fetchone()
    return _version_from_row(row)


def fetch_version_in_force(db: Store, code: str, on: date) -> ProgramVersion:
    """The version in force on a date (see `core.versions.in_force`)."""
    return in_force(sorted((v.effective_from, v.version, v) for v in fetch_versions(db, code)), on)


def fetch_versions(db: Store, code: str) -> list[ProgramVersion]:
    return db.remember(("versions", code), lambda: _versions(db, code))


def _versions(db: Store, code: str) -> list[ProgramVersion]:
    program_id = fetch_program_id(db, code)
    rows = db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM program_versions WHERE program_id = ? ORDER BY version",
        [program_id],
    ).fetchall()
    return [_version_from_row(row) for row in rows]


def fetch_program_summaries(db: Store) -> list[dict]:
    """One row per program: code, latest name, currency, versions, members."""
    rows = db.execute(
        """SELECT p.code, p.currency, p.timezone,
                  (SELECT count(*) FROM program_versions v WHERE v.program_id = p.id),
                  (SELECT definition FROM program_versions v WHERE v.program_id = p.id
                   ORDER BY version DESC LIMIT 1),
                  (SELECT count(*) FROM members m WHERE m.program_id = p.id)
           FROM programs p ORDER BY p.code"""
    ).fetchall()
    return [
        {
            "code": code,
            "name": _parse_stored(definition).name,
            "currency": currency,
            "timezone": timezone,
            "versions": versions,
            "members": members,
        }
        for code, currency, timezone, versions, definition, members in rows
    ]


def apply_program(db: Store, program: Program, today: date) -> ApplyResult:
    """Store a new version of `program` unless the latest one already says the same.

    Call inside a write transaction. A program's currency and time zone are
    fixed once set: stored money and dates depend on them.
    """
    row = db.execute("SELECT id, currency, timezone FROM programs WHERE code = ?", [program.code]).fetchone()
    now = int(time.time())
    effective_from = program.effective_from or today
    definition = dump_program(replace(program, effective_from=effective_from))
    if row is None:
        program_id = db.execute(
            "INSERT INTO programs (code, currency, timezone, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            [program.code, program.currency, program.timezone, now],
        ).fetchone()[0]
        version, status = 1, "created"
    else:
        program_id, currency, timezone = row
        for key, old, new in (("currency", currency, program.currency), ("timezone", timezone, program.timezone)):
            if old != new:
                raise BadInput(f"program {program.code!r}: program.{key} cannot change from {old!r} to {new!r}")
        latest_version, latest_digest, latest_from = db.execute(
            "SELECT version, digest, effective_from FROM program_versions WHERE program_id = ?"
            " ORDER BY version DESC LIMIT 1",
            [program_id],
        ).fetchone()
        latest_from = date.fromisoformat(latest_from)
        if latest_digest == definition_digest(program) and program.effective_from in (None, latest_from):
            return ApplyResult(program.code, latest_version, "unchanged", latest_from)
        closed = fetch_closed_through(db, program_id)
        if closed and effective_from <= closed.through:
            raise Refused(f"program {program.code!r}: effective_from {effective_from} falls in a closed period "
                          f"(closed through {closed.through}); a new version can take effect the day after")
        version, status = latest_version + 1, "updated"
    db.execute(
        """INSERT INTO program_versions (program_id, version, effective_from, applied_at, digest, definition)
           VALUES (?, ?, ?, ?, ?, ?)""",
        [program_id, version, effective_from.isoformat(), now, definition_digest(program), definition],
    )
    db.forget()
    return ApplyResult(program.code, version, status, effective_from)
