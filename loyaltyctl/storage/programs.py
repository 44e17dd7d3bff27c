"""Programs and their versions, as stored: a version's definition is its TOML text (`operations.programs`
reads it)."""

from msgspec import Struct

from loyaltyctl.errors import Refused
from loyaltyctl.model import ProgramRef
from loyaltyctl.storage.db import Store


class VersionRow(Struct, frozen=True):
    program_id: int
    version: int
    effective_from: str  # ISO date
    applied_at: int
    digest: str
    definition: str  # TOML
    compiled: str | None = None  # the parsed definition (formats.compiled_program), or None
    compiled_by: str | None = None  # its format (formats.compiled_program.COMPILED_FORMAT)


_VERSION_COLUMNS = "program_id, version, effective_from, applied_at, digest, definition, compiled, compiled_by"


def fetch_program_ref(db: Store, code: str) -> ProgramRef:
    return db.remember(("program", code), lambda: _program_ref(db, code))


def _program_ref(db: Store, code: str) -> ProgramRef:
    row = db.execute("SELECT id, code, currency, timezone FROM programs WHERE code = ?", [code]).fetchone()
    if row is None:
        raise Refused(f"unknown program {code!r} (see `loyaltyctl program list`)")
    return ProgramRef(*row)


def fetch_program_id(db: Store, code: str) -> int:
    return fetch_program_ref(db, code).id


def find_program(db: Store, code: str) -> ProgramRef | None:
    """The program, or None where there is none (yet) of that code."""
    row = db.execute("SELECT id, code, currency, timezone FROM programs WHERE code = ?", [code]).fetchone()
    return ProgramRef(*row) if row else None


def count_members(db: Store, code: str) -> int:
    return db.execute("SELECT count(*) FROM members WHERE program_id = ?", [fetch_program_id(db, code)]).fetchone()[0]


def fetch_version_rows(db: Store, code: str) -> list[VersionRow]:
    """Every version of a program, oldest first (read once per transaction)."""
    return db.remember(("versions", code), lambda: [VersionRow(*row) for row in db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM program_versions WHERE program_id = ? ORDER BY version",
        [fetch_program_id(db, code)])])


def fetch_program_state(db: Store, code: str) -> tuple[ProgramRef, list[VersionRow], tuple | None, int] | None:
    """In one query: the program, its versions, its latest close (code, through, closed_before, timezone)
    and its epoch; None for an unknown program."""
    rows = db.execute(
        f"""SELECT p.id, p.code, p.currency, p.timezone, {', '.join('v.' + c for c in _VERSION_COLUMNS.split(', '))},
                   c.through, c.closed_before, p.epoch
            FROM programs p JOIN program_versions v ON v.program_id = p.id
            LEFT JOIN period_closes c ON c.id = (SELECT max(id) FROM period_closes l WHERE l.program_id = p.id)
            WHERE p.code = ? ORDER BY v.version""", [code]).fetchall()
    if not rows:
        return None
    ref = ProgramRef(*rows[0][:4])
    through, closed_before, epoch = rows[0][12:]
    latest_close = (ref.code, through, closed_before, ref.timezone) if through is not None else None
    return ref, [VersionRow(*row[4:12]) for row in rows], latest_close, epoch


def fetch_program_summaries(db: Store) -> list[tuple[str, str, str, int, str, int]]:
    """One row per program: code, currency, timezone, versions, latest definition, members."""
    return db.execute(
        """SELECT p.code, p.currency, p.timezone,
                  (SELECT count(*) FROM program_versions v WHERE v.program_id = p.id),
                  (SELECT definition FROM program_versions v WHERE v.program_id = p.id
                   ORDER BY version DESC LIMIT 1),
                  coalesce(m.members, 0)
           FROM programs p
           LEFT JOIN (SELECT program_id, count(*) AS members FROM members GROUP BY program_id) AS m
                  ON m.program_id = p.id
           ORDER BY p.code"""
    ).fetchall()


def insert_program(db: Store, code: str, currency: str, timezone: str, now: int) -> int:
    return db.execute("INSERT INTO programs (code, currency, timezone, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                      [code, currency, timezone, now]).fetchone()[0]


def insert_version(db: Store, row: VersionRow) -> None:
    """A new version, and the program's epoch moved on (postings that read the program before see it)."""
    db.execute(f"INSERT INTO program_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [row.program_id, row.version, row.effective_from, row.applied_at, row.digest, row.definition,
                row.compiled, row.compiled_by])
    db.execute("UPDATE programs SET epoch = epoch + 1 WHERE id = ?", [row.program_id])
    db.forget()


def fetch_all_version_rows(db: Store) -> list[VersionRow]:
    """Every version of every program."""
    return [VersionRow(*row) for row in db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM program_versions ORDER BY program_id, version")]


def update_compiled(db: Store, rows: list[VersionRow]) -> None:
    """Each row's compiled form, written again (its definition does not change)."""
    db.executemany("UPDATE program_versions SET compiled = ?, compiled_by = ? WHERE program_id = ? AND version = ?",
                   [(row.compiled, row.compiled_by, row.program_id, row.version) for row in rows])
